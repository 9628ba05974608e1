// The emergency state machine, step by step with a stepped clock: thresholds, attempts, give-up, reset.
#define BOOST_TEST_MODULE emergency_fsm
#include <boost/test/unit_test.hpp>

#include "redundancy/orchestrator/emergency_fsm.hpp"

using namespace redundancy;
using namespace std::chrono_literals;

namespace {

struct fixture {
  orchestrator_config settings{};
  emergency_state state{};
  emergency_clock::time_point now{emergency_clock::time_point{} + 1000h};

  emergency_decision step(unsigned unhealthy, bool running = false, std::chrono::milliseconds later = 1min) {
    now += later;
    return decide(state, settings, {.unhealthy_subsystems = unhealthy, .recovery_running = running}, now);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(below_threshold_nothing_happens, fixture) {
  BOOST_TEST((step(0) == emergency_decision::none));
  BOOST_TEST((step(1) == emergency_decision::none));
  BOOST_TEST((state.phase == emergency_phase::normal));
  BOOST_TEST(state.attempts == 0u);
}

BOOST_FIXTURE_TEST_CASE(threshold_starts_recovery_and_counts_attempts, fixture) {
  BOOST_TEST((step(2) == emergency_decision::start_recovery));
  BOOST_TEST((state.phase == emergency_phase::recovering));
  BOOST_TEST(state.attempts == 1u);
  // While the recovery runs, nothing new starts.
  BOOST_TEST((step(3, true) == emergency_decision::none));
  BOOST_TEST(state.attempts == 1u);
}

BOOST_FIXTURE_TEST_CASE(attempts_are_bounded_then_it_gives_up_once, fixture) {
  for (unsigned i = 1; i <= 3; ++i) {
    BOOST_TEST((step(2) == emergency_decision::start_recovery));
    BOOST_TEST(state.attempts == i);
  }
  BOOST_TEST((step(2) == emergency_decision::give_up));
  BOOST_TEST((state.phase == emergency_phase::given_up));
  // Given up means waiting for a person: no further attempts, no repeated give-up.
  BOOST_TEST((step(3) == emergency_decision::none));
  BOOST_TEST((step(2) == emergency_decision::none));
  BOOST_TEST(state.attempts == 3u);
}

BOOST_FIXTURE_TEST_CASE(leaving_emergency_is_reported_once, fixture) {
  step(2);
  BOOST_TEST((step(1) == emergency_decision::left));
  BOOST_TEST((state.phase == emergency_phase::normal));
  BOOST_TEST((step(0) == emergency_decision::none));
}

BOOST_FIXTURE_TEST_CASE(attempts_reset_only_after_lasting_health, fixture) {
  step(2);
  step(2);
  BOOST_TEST(state.attempts == 2u);
  step(0, false, 1min);
  BOOST_TEST((step(0, false, 30min) == emergency_decision::none));
  BOOST_TEST(state.attempts == 2u);  // 30 minutes of health is not an hour
  step(0, false, 30min);
  BOOST_TEST(state.attempts == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_flap_restarts_the_health_clock, fixture) {
  step(2);
  step(0, false, 1min);
  step(0, false, 50min);
  step(2, true, 1min);  // unhealthy again, recovery running
  step(0, false, 20min);
  BOOST_TEST(state.attempts == 1u);  // 50 + 20 minutes, but not in one stretch
}

BOOST_FIXTURE_TEST_CASE(no_auto_recovery_means_no_attempts, fixture) {
  settings.auto_recovery = false;
  BOOST_TEST((step(3) == emergency_decision::none));
  BOOST_TEST(state.attempts == 0u);
}
