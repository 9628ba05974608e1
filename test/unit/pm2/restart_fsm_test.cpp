// Unit tests of the per-app PM2 decisions, stepping an injected clock (no sleeps).
#define BOOST_TEST_MODULE pm2_restart_fsm
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/restart_fsm.hpp"

using namespace redundancy::pm2;
using namespace std::chrono_literals;

namespace redundancy::pm2 {
std::ostream& operator<<(std::ostream& os, app_state s) { return os << to_string(s); }
std::ostream& operator<<(std::ostream& os, action_kind k) { return os << to_string(k); }
}  // namespace redundancy::pm2

namespace {

const observation online{.listed = true, .status = app_status::online};
const observation errored{.listed = true, .status = app_status::errored};
const observation stopped{.listed = true, .status = app_status::stopped};
const observation absent{};

restart_settings settings() {
  return {.max_attempts = 5,
          .base_delay = 5s,
          .max_delay = 5min,
          .attempt_window = 1h,
          .stopped_grace = 30s,
          .streak_needed = 3,
          .cpu_restart = false,
          .jitter_fraction = 0.1};
}

struct fixture {
  double random_value = 0.0;
  restart_fsm fsm{settings(), [this] { return random_value; }};
  fsm_clock::time_point now{std::chrono::hours{1000}};
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(online_is_healthy_and_needs_nothing, fixture) {
  BOOST_TEST(fsm.observe(online, now) == app_state::healthy);
  BOOST_TEST(fsm.reason().empty());
  BOOST_TEST(fsm.next_action(now).kind == action_kind::none);
  BOOST_TEST(fsm.attempts_left(now) == 5u);
}

BOOST_FIXTURE_TEST_CASE(errored_is_restarted_at_once, fixture) {
  BOOST_TEST(fsm.observe(errored, now) == app_state::down);
  BOOST_TEST(fsm.reason().find("errored") != std::string::npos);
  BOOST_TEST(fsm.next_action(now).kind == action_kind::restart);
  BOOST_TEST(fsm.attempts_left(now) == 4u);
}

BOOST_FIXTURE_TEST_CASE(absent_is_started_from_the_ecosystem_file, fixture) {
  BOOST_TEST(fsm.observe(absent, now) == app_state::down);
  BOOST_TEST(fsm.next_action(now).kind == action_kind::start_from_ecosystem);
}

BOOST_FIXTURE_TEST_CASE(delays_double_up_to_five_minutes, fixture) {
  fsm.observe(errored, now);
  BOOST_REQUIRE(fsm.next_action(now).kind == action_kind::restart);
  std::vector<std::chrono::milliseconds> delays;
  restart_fsm long_fsm{{.max_attempts = 20,
                        .base_delay = 5s,
                        .max_delay = 5min,
                        .attempt_window = 1h,
                        .stopped_grace = 30s,
                        .streak_needed = 3,
                        .cpu_restart = false,
                        .jitter_fraction = 0.1},
                       [] { return 0.0; }};
  auto t = now;
  long_fsm.observe(errored, t);
  for (int i = 0; i < 9; ++i) {
    auto a = long_fsm.next_action(t);
    BOOST_REQUIRE_MESSAGE(a.kind == action_kind::restart, "attempt " << i << ": " << a.kind);
    auto gap = long_fsm.next_attempt_at() - t;
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(gap));
    // Just before the delay passes: wait.
    auto early = long_fsm.next_action(t + gap - 1ms);
    BOOST_TEST(early.kind == action_kind::none);
    BOOST_TEST(early.reason.find("next attempt in") == 0u);
    t += gap;
    long_fsm.observe(errored, t);
  }
  std::vector<std::chrono::milliseconds> expected{5s, 10s, 20s, 40s, 80s, 160s, 300s, 300s, 300s};
  BOOST_TEST(delays == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(jitter_adds_a_little_from_the_random_source, fixture) {
  random_value = 0.5;
  fsm.observe(errored, now);
  fsm.next_action(now);
  BOOST_TEST((fsm.next_attempt_at() - now) == std::chrono::milliseconds{5250});
}

BOOST_FIXTURE_TEST_CASE(gives_up_after_max_attempts_then_stays_quiet, fixture) {
  fsm.observe(errored, now);
  for (int i = 0; i < 5; ++i) {
    BOOST_REQUIRE(fsm.next_action(now).kind == action_kind::restart);
    now = fsm.next_attempt_at();
    fsm.observe(errored, now);
  }
  BOOST_TEST(fsm.attempts_left(now) == 0u);
  auto a = fsm.next_action(now);
  BOOST_TEST(a.kind == action_kind::give_up);
  BOOST_TEST(a.reason.find("given up after 5 attempts") == 0u);
  BOOST_TEST(fsm.given_up());
  BOOST_TEST(fsm.state() == app_state::given_up);
  for (int i = 0; i < 20; ++i) {
    now += 1min;
    BOOST_TEST(fsm.observe(errored, now) == app_state::given_up);
    BOOST_TEST(fsm.next_action(now).kind == action_kind::none);
  }
}

BOOST_FIXTURE_TEST_CASE(given_up_ends_when_the_hour_has_passed, fixture) {
  fsm.observe(errored, now);
  for (int i = 0; i < 5; ++i) {
    fsm.next_action(now);
    now = fsm.next_attempt_at();
  }
  fsm.observe(errored, now);
  BOOST_REQUIRE(fsm.next_action(now).kind == action_kind::give_up);
  now += 59min;
  BOOST_TEST(fsm.observe(errored, now) == app_state::given_up);
  now += 1min;
  BOOST_TEST(fsm.observe(errored, now) == app_state::down);
  BOOST_TEST(fsm.attempts_left(now) == 5u);
  BOOST_TEST(fsm.next_action(now).kind == action_kind::restart);
}

BOOST_FIXTURE_TEST_CASE(manual_restart_resets_given_up, fixture) {
  fsm.observe(errored, now);
  for (int i = 0; i < 5; ++i) {
    fsm.next_action(now);
    now = fsm.next_attempt_at();
  }
  fsm.observe(errored, now);
  BOOST_REQUIRE(fsm.next_action(now).kind == action_kind::give_up);
  fsm.manual_restart();
  BOOST_TEST(!fsm.given_up());
  BOOST_TEST(fsm.attempts_left(now) == 5u);
  BOOST_TEST(fsm.observe(errored, now) == app_state::down);
  BOOST_TEST(fsm.next_action(now).kind == action_kind::restart);
}

BOOST_FIXTURE_TEST_CASE(attempts_older_than_the_window_are_forgotten, fixture) {
  fsm.observe(errored, now);
  fsm.next_action(now);
  fsm.observe(online, now + 10s);
  BOOST_TEST(fsm.attempts_left(now + 10s) == 4u);
  BOOST_TEST(fsm.attempts_left(now + 1h) == 5u);
}

BOOST_FIXTURE_TEST_CASE(online_after_giving_up_is_healthy_but_not_restarted_again, fixture) {
  fsm.observe(errored, now);
  for (int i = 0; i < 5; ++i) {
    fsm.next_action(now);
    now = fsm.next_attempt_at();
  }
  fsm.observe(errored, now);
  BOOST_REQUIRE(fsm.next_action(now).kind == action_kind::give_up);
  BOOST_TEST(fsm.observe(online, now + 1s) == app_state::healthy);
  BOOST_TEST(fsm.given_up());
  BOOST_TEST(fsm.observe(errored, now + 2s) == app_state::given_up);
  BOOST_TEST(fsm.next_action(now + 2s).kind == action_kind::none);
}

BOOST_FIXTURE_TEST_CASE(stopped_is_down_only_after_one_interval, fixture) {
  BOOST_TEST(fsm.observe(stopped, now) == app_state::starting);
  BOOST_TEST(fsm.next_action(now).kind == action_kind::none);
  BOOST_TEST(fsm.observe(stopped, now + 29s) == app_state::starting);
  BOOST_TEST(fsm.observe(stopped, now + 30s) == app_state::down);
  BOOST_TEST(fsm.reason() == "stopped for 30s");
  BOOST_TEST(fsm.next_action(now + 30s).kind == action_kind::restart);
  // Started again by someone: the clock of "stopped since" starts over.
  fsm.observe(online, now + 31s);
  BOOST_TEST(fsm.observe(stopped, now + 40s) == app_state::starting);
}

BOOST_FIXTURE_TEST_CASE(stopped_by_hand_is_never_down_and_never_restarted, fixture) {
  const observation by_hand{.listed = true, .status = app_status::stopped, .stopped_by_hand = true};
  BOOST_TEST(fsm.observe(by_hand, now) == app_state::stopped_by_hand);
  BOOST_TEST(fsm.reason() == "stopped (by hand): left stopped until it is started again");
  BOOST_TEST(fsm.observe(by_hand, now + 1h) == app_state::stopped_by_hand);
  BOOST_TEST(fsm.next_action(now + 1h).kind == action_kind::none);
  BOOST_TEST(fsm.attempts_left(now + 1h) == 5u);
  // Started again by someone: an ordinary app again.
  BOOST_TEST(fsm.observe(online, now + 2h) == app_state::healthy);
}

BOOST_FIXTURE_TEST_CASE(pm2_restarting_it_is_left_alone, fixture) {
  observation waiting{.listed = true, .status = app_status::waiting_restart};
  observation launching{.listed = true, .status = app_status::launching};
  BOOST_TEST(fsm.observe(waiting, now) == app_state::starting);
  BOOST_TEST(fsm.next_action(now).kind == action_kind::none);
  BOOST_TEST(fsm.observe(launching, now) == app_state::starting);
  BOOST_TEST(fsm.next_action(now).kind == action_kind::none);
}

BOOST_FIXTURE_TEST_CASE(memory_must_hold_three_consecutive_checks, fixture) {
  observation heavy = online;
  heavy.memory_over = true;
  BOOST_TEST(fsm.observe(heavy, now) == app_state::healthy);
  BOOST_TEST(fsm.observe(heavy, now + 30s) == app_state::healthy);
  BOOST_TEST(fsm.observe(online, now + 60s) == app_state::healthy);  // the spike passed: the streak restarts
  BOOST_TEST(fsm.memory_streak() == 0u);
  BOOST_TEST(fsm.observe(heavy, now + 90s) == app_state::healthy);
  BOOST_TEST(fsm.observe(heavy, now + 120s) == app_state::healthy);
  BOOST_TEST(fsm.next_action(now + 120s).kind == action_kind::none);
  BOOST_TEST(fsm.observe(heavy, now + 150s) == app_state::overloaded);
  auto a = fsm.next_action(now + 150s);
  BOOST_TEST(a.kind == action_kind::restart);
  BOOST_TEST(a.reason.find("memory") != std::string::npos);
  BOOST_TEST(fsm.memory_streak() == 0u);  // a fresh streak for the restarted app
  BOOST_TEST(fsm.observe(heavy, now + 180s) == app_state::healthy);
}

BOOST_FIXTURE_TEST_CASE(cpu_warns_once_per_streak, fixture) {
  observation busy = online;
  busy.cpu_over = true;
  fsm.observe(busy, now);
  fsm.observe(busy, now + 30s);
  BOOST_TEST(fsm.observe(busy, now + 60s) == app_state::cpu_warning);
  BOOST_TEST(fsm.next_action(now + 60s).kind == action_kind::warn);
  BOOST_TEST(fsm.observe(busy, now + 90s) == app_state::cpu_warning);
  BOOST_TEST(fsm.next_action(now + 90s).kind == action_kind::none);
  BOOST_TEST(fsm.attempts_left(now + 90s) == 5u);
  fsm.observe(online, now + 120s);
  for (int i = 0; i < 3; ++i) fsm.observe(busy, now + 150s + i * 30s);
  BOOST_TEST(fsm.next_action(now + 210s).kind == action_kind::warn);
}

BOOST_AUTO_TEST_CASE(cpu_restarts_when_configured) {
  auto s = settings();
  s.cpu_restart = true;
  restart_fsm fsm{s, [] { return 0.0; }};
  observation busy = online;
  busy.cpu_over = true;
  fsm_clock::time_point t{};
  for (int i = 0; i < 3; ++i) fsm.observe(busy, t + i * 30s);
  BOOST_TEST(fsm.state() == app_state::overloaded);
  BOOST_TEST(fsm.next_action(t + 60s).kind == action_kind::restart);
}

BOOST_FIXTURE_TEST_CASE(the_last_attempt_gets_its_delay_before_giving_up, fixture) {
  fsm.observe(errored, now);
  for (int i = 0; i < 5; ++i) {
    fsm.next_action(now);
    if (i < 4) now = fsm.next_attempt_at();
  }
  fsm.observe(errored, now + 1s);
  BOOST_TEST(fsm.next_action(now + 1s).kind == action_kind::none);
  BOOST_TEST(!fsm.given_up());
}
