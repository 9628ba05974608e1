// The recovery policy stepped with a fake clock, one transition per assertion: debouncing, the latch for
// a recovery with nothing to try, backoff, spacing, holds, and the emergency's spaced attempts.
#define BOOST_TEST_MODULE recovery_policy
#include <boost/test/unit_test.hpp>

#include "redundancy/orchestrator/recovery_policy.hpp"

using namespace redundancy;
using namespace std::chrono_literals;

namespace {

struct fixture {
  orchestrator_config settings = [] {
    orchestrator_config c;
    c.interval = 5s;
    c.attempt_reset = 1h;
    return c;
  }();
  recovery_policy policy{settings};
  recovery_policy::time_point now{recovery_policy::time_point{} + 1000h};
  unsigned failures_needed{1};
  bool action_running{false};
  std::set<std::string> unhealthy_targets{"fn"};
  std::string counterpart{};

  // One check of "netlify" that found it `state` with `problem`, `later` after the previous one.
  repair_decision check(status state, std::string problem = "fn failing", std::chrono::milliseconds later = 5s) {
    now += later;
    policy.count_check("netlify", state);
    return policy.on_check({.name = "netlify",
                            .state = state,
                            .problem = std::move(problem),
                            .unhealthy_targets = unhealthy_targets,
                            .counterpart = counterpart,
                            .only_paused_targets_unhealthy = false,
                            .action_running = action_running,
                            .check_interval = 5s,
                            .failures_needed = failures_needed},
                           now);
  }
  bool phase_is(const repair_decision& d, repair_phase p) { return d.phase == p; }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_healthy_check_asks_for_nothing, fixture) {
  const auto d = check(status::healthy);
  BOOST_TEST(!d.recover);
  BOOST_TEST(phase_is(d, repair_phase::ok));
}

BOOST_FIXTURE_TEST_CASE(an_unhealthy_check_recovers_at_once_by_default, fixture) {
  BOOST_TEST(check(status::unhealthy).recover);
}

BOOST_FIXTURE_TEST_CASE(failures_are_debounced_and_the_count_reads_forwards, fixture) {
  failures_needed = 3;
  auto d = check(status::unhealthy);
  BOOST_TEST(phase_is(d, repair_phase::failing));
  BOOST_TEST(d.why == "1 of 3 consecutive failures before recovery");
  BOOST_TEST(policy.still_failing("netlify", 3));
  BOOST_TEST(!check(status::unhealthy).recover);
  BOOST_TEST(check(status::unhealthy).recover);  // the third
  BOOST_TEST(!policy.still_failing("netlify", 3));
  BOOST_TEST(policy.failures("netlify") == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_healthy_check_resets_the_count, fixture) {
  failures_needed = 2;
  check(status::unhealthy);
  check(status::healthy);
  BOOST_TEST(policy.failures("netlify") == 0u);
  BOOST_TEST(!check(status::unhealthy).recover);
}

BOOST_FIXTURE_TEST_CASE(a_second_recovery_waits_half_an_interval, fixture) {
  BOOST_TEST(check(status::unhealthy).recover);
  policy.recovery_finished("netlify", true, std::nullopt);
  const auto soon = check(status::unhealthy, "fn failing", 1s);  // the re-check right after it
  BOOST_TEST(phase_is(soon, repair_phase::spacing));
  BOOST_TEST(check(status::unhealthy, "fn failing", 2s).recover);  // 3 s later: half of 5 s passed
}

BOOST_FIXTURE_TEST_CASE(a_target_no_recovery_was_given_yet_ends_the_spacing, fixture) {
  BOOST_TEST(check(status::unhealthy).recover);
  policy.recovery_finished("netlify", true, std::nullopt);
  unhealthy_targets = {"fn", "other"};
  BOOST_TEST(check(status::unhealthy, "fn and other failing", 1s).recover);
}

BOOST_FIXTURE_TEST_CASE(targets_taking_turns_end_the_spacing_once_each, fixture) {
  BOOST_TEST(check(status::unhealthy).recover);
  policy.recovery_finished("netlify", true, std::nullopt);
  unhealthy_targets = {"other"};
  BOOST_TEST(check(status::unhealthy, "other failing", 1s).recover);
  policy.recovery_finished("netlify", true, std::nullopt);
  unhealthy_targets = {"fn"};
  BOOST_TEST(phase_is(check(status::unhealthy, "fn failing", 1s), repair_phase::spacing));
}

BOOST_FIXTURE_TEST_CASE(the_targets_tried_are_forgotten_once_the_subsystem_is_well, fixture) {
  BOOST_TEST(check(status::unhealthy).recover);
  policy.recovery_finished("netlify", true, std::nullopt);
  BOOST_TEST(phase_is(check(status::healthy, "", 1s), repair_phase::ok));
  BOOST_TEST(check(status::unhealthy, "fn failing", 1s).recover);
}

// PM2 killed: the repair's `pm2 start` spawned the next daemon, and the check right after it finds an app
// missing from that one. The old daemon's problem is gone with it.
BOOST_FIXTURE_TEST_CASE(a_check_through_another_counterpart_ends_the_spacing, fixture) {
  counterpart = "PM2 daemon pid 100";
  BOOST_TEST(check(status::unhealthy).recover);
  policy.recovery_finished("netlify", true, std::nullopt);
  counterpart = "PM2 daemon pid 200";
  BOOST_TEST(check(status::unhealthy, "fn failing", 1s).recover);
  policy.recovery_finished("netlify", true, std::nullopt);
  BOOST_TEST(phase_is(check(status::unhealthy, "fn failing", 1s), repair_phase::spacing));
}

BOOST_FIXTURE_TEST_CASE(a_problem_after_a_check_that_found_the_recovery_worked_is_not_spaced, fixture) {
  BOOST_TEST(check(status::unhealthy).recover);
  policy.recovery_finished("netlify", true, std::nullopt);
  BOOST_TEST(phase_is(check(status::degraded, "fn slow", 1s), repair_phase::ok));  // the re-check: it worked
  BOOST_TEST(check(status::unhealthy, "daemon gone", 1s).recover);                 // 2 s after the recovery
}

BOOST_FIXTURE_TEST_CASE(a_recovery_with_no_step_is_not_repeated_for_the_same_problem, fixture) {
  BOOST_TEST(check(status::unhealthy).recover);
  policy.recovery_finished("netlify", false, std::nullopt);
  BOOST_TEST(phase_is(check(status::unhealthy), repair_phase::nothing_to_try));
  BOOST_TEST(phase_is(check(status::unhealthy, "fn failing", 1h), repair_phase::nothing_to_try));
}

BOOST_FIXTURE_TEST_CASE(a_changed_problem_is_tried_again, fixture) {
  check(status::unhealthy);
  policy.recovery_finished("netlify", false, std::nullopt);
  BOOST_TEST(check(status::unhealthy, "another fn failing").recover);
}

BOOST_FIXTURE_TEST_CASE(health_in_between_makes_the_same_problem_new, fixture) {
  check(status::unhealthy);
  policy.recovery_finished("netlify", false, std::nullopt);
  check(status::healthy);
  BOOST_TEST(check(status::unhealthy).recover);
}

BOOST_FIXTURE_TEST_CASE(a_reload_lifts_the_latch, fixture) {
  check(status::unhealthy);
  policy.recovery_finished("netlify", false, std::nullopt);
  policy.apply(settings);
  BOOST_TEST(check(status::unhealthy).recover);
}

BOOST_FIXTURE_TEST_CASE(nothing_due_yet_waits_until_retry_at, fixture) {
  check(status::unhealthy);
  policy.recovery_finished("netlify", false, now + 20s);
  const auto early = check(status::unhealthy, "fn failing", 10s);
  BOOST_TEST(phase_is(early, repair_phase::backoff));
  BOOST_TEST(early.why == "next attempt in 10s");
  BOOST_TEST(check(status::unhealthy, "fn failing", 10s).recover);
}

BOOST_FIXTURE_TEST_CASE(holds_give_reasons, fixture) {
  action_running = true;
  BOOST_TEST(check(status::unhealthy).why == "an action is running");
  action_running = false;
  settings.auto_recovery = false;
  policy.apply(settings);
  BOOST_TEST(check(status::unhealthy).why == "orchestrator.auto_recovery is off");
}

BOOST_FIXTURE_TEST_CASE(a_given_up_target_is_news_once, fixture) {
  BOOST_TEST(policy.target_gave_up_news("pm2/web", true));
  BOOST_TEST(!policy.target_gave_up_news("pm2/web", true));
  BOOST_TEST(!policy.target_gave_up_news("pm2/web", false));
  BOOST_TEST(policy.target_gave_up_news("pm2/web", true));
}

BOOST_FIXTURE_TEST_CASE(emergency_attempts_are_spaced_by_a_doubling_backoff, fixture) {
  BOOST_TEST((policy.on_project(2, false, now) == emergency_decision::start_recovery));
  BOOST_TEST((policy.on_project(2, true, now + 1s) == emergency_decision::none));  // running
  policy.emergency_finished(now + 2s);
  // Ended at +2 s: the second attempt waits orchestrator.interval (5 s), the third twice that.
  BOOST_TEST((policy.on_project(2, false, now + 2s) == emergency_decision::wait));
  BOOST_TEST((policy.on_project(2, false, now + 6s) == emergency_decision::wait));
  BOOST_TEST((policy.on_project(2, false, now + 7s) == emergency_decision::start_recovery));
  BOOST_TEST(policy.emergency().attempts == 2u);
  policy.emergency_finished(now + 8s);
  BOOST_TEST((policy.on_project(2, false, now + 17s) == emergency_decision::wait));
  BOOST_TEST((policy.on_project(2, false, now + 18s) == emergency_decision::start_recovery));
  policy.emergency_finished(now + 19s);
  // Attempts spent: giving up needs no spacing.
  BOOST_TEST((policy.on_project(2, false, now + 19s) == emergency_decision::give_up));
}

BOOST_FIXTURE_TEST_CASE(emergency_spacing_is_capped_at_half_the_attempt_reset, fixture) {
  settings.attempt_reset = 1min;
  policy.apply(settings);
  BOOST_TEST(policy.spacing_before(2).count() == 5000);
  BOOST_TEST(policy.spacing_before(3).count() == 10000);
  BOOST_TEST(policy.spacing_before(5).count() == 30000);
  BOOST_TEST(policy.spacing_before(9).count() == 30000);
}

BOOST_FIXTURE_TEST_CASE(the_emergency_settles_before_it_is_judged, fixture) {
  BOOST_TEST(policy.settle_time().count() == 5000);  // the interval, when under 10 s
  settings.interval = 1min;
  policy.apply(settings);
  BOOST_TEST(policy.settle_time().count() == 10000);
}

BOOST_FIXTURE_TEST_CASE(a_person_starts_a_given_up_emergency_afresh, fixture) {
  settings.max_recovery_attempts = 1;
  policy.apply(settings);
  policy.on_project(2, false, now);
  policy.emergency_finished(now);
  BOOST_TEST((policy.on_project(2, false, now + 1s) == emergency_decision::give_up));
  policy.emergency_requested_by_person();
  BOOST_TEST(policy.emergency().attempts == 0u);
  BOOST_TEST((policy.emergency().phase == emergency_phase::recovering));
}
