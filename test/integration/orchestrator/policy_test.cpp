// The orchestrator's policy on a real io_context with fake subsystems named pm2, github and netlify
// whose health the test sets: emergency with two failing and not with one, the emergency steps in
// order and each bounded, the attempt limit and its reset after the healthy period, conflicts,
// pauses (suppressing recovery, expiring, surviving a restart), the history error state, and the
// report file computed from a known history.
#define BOOST_TEST_MODULE orchestrator_policy
#include <boost/test/unit_test.hpp>

#include "redundancy/core/scheduler.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/metrics/metrics.hpp"
#include "redundancy/orchestrator/actions.hpp"
#include "redundancy/orchestrator/orchestrator.hpp"
#include "redundancy/orchestrator/report.hpp"
#include "redundancy/orchestrator/store.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

using namespace redundancy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

using redundancy::test::temp_dir;

// A subsystem whose health is whatever the test says; it writes what it is asked to do into a
// journal shared by the three.
class fake_subsystem : public subsystem {
 public:
  fake_subsystem(std::string name, std::vector<std::string>& journal) : name_(std::move(name)), journal_(journal) {}

  std::string_view name() const override { return name_; }
  unsigned failures_before_recovery() const override { return failures_needed; }

  awaitable<health> check() override {
    ++checks;
    health h;
    h.state = state;
    h.summary = name_ + " is " + std::string(to_string(state));
    h.targets.push_back({.name = "t1", .state = state, .reason = state == status::healthy ? "" : reason, .detail = {}});
    h.checked_at = std::chrono::system_clock::now();
    h.apart_from_targets = apart_from_targets;
    co_return h;
  }

  awaitable<action_result> recover(const health&) override {
    journal_.push_back(name_ + " recover");
    if (recover_finds_nothing_to_do)
      co_return action_result{.ok = true, .summary = "nothing to do", .steps = {}, .output_tail = {}};
    if (recover_can_do_nothing)
      co_return action_result{.ok = false, .summary = "nothing it can do", .steps = {}, .output_tail = {}};
    if (recover_waits_for)
      co_return action_result{.ok = true,
                              .summary = "nothing due yet",
                              .steps = {},
                              .output_tail = {},
                              .retry_at = std::chrono::steady_clock::now() + *recover_waits_for};
    co_return action_result{.ok = true,
                            .summary = "recovered",
                            .steps = {{.name = "restart t1", .ok = true, .detail = ""}},
                            .output_tail = {}};
  }

  awaitable<action_result> emergency(target_names left_alone) override {
    left_alone_ = std::move(left_alone);
    journal_.push_back(name_ + " emergency");
    // Held until the test lets go (or the orchestrator's bound cancels the wait).
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer tick(executor);
    while (hold) {
      tick.expires_after(5ms);
      co_await tick.async_wait(asio::use_awaitable);
    }
    journal_.push_back(name_ + " emergency done");
    if (heals_in_emergency) state = status::healthy;
    co_return action_result{.ok = heals_in_emergency, .summary = "emergency step", .steps = {}, .output_tail = {}};
  }

  status state{status::healthy};
  bool heals_in_emergency{false};
  bool recover_finds_nothing_to_do{false};
  bool recover_can_do_nothing{false};  // fails without a step (a restart command not configured)
  std::optional<std::chrono::milliseconds> recover_waits_for{};  // nothing due until then (a backoff)
  std::string reason{"broken"};
  bool hold{false};
  unsigned checks{0};
  unsigned failures_needed{1};
  std::optional<status> apart_from_targets{};
  target_names left_alone_{};  // what the last emergency was told to leave alone

 private:
  std::string name_;
  std::vector<std::string>& journal_;
};

// The daemon's objects around the three fakes, on `folder` (kept across two rigs for restarts).
struct rig {
  explicit rig(const fs::path& folder, std::function<void(config&)> adjust = {}) {
    c.state_dir = folder / "state";
    c.log_dir = folder / "logs";
    c.orchestrator.interval = 20ms;
    c.orchestrator.report_interval = 1h;
    c.orchestrator.attempt_reset = 300ms;
    if (adjust) adjust(c);
    auto opened = store::open(c.state_dir / "redundancy.db");
    BOOST_TEST_REQUIRE(opened.has_value(), (opened ? std::string{} : opened.error()));
    history.emplace(std::move(*opened));
    actions.emplace(io.get_executor(), *history, checks);
    policy.emplace(c, checks, *actions, *history, numbers);
    for (auto* f : {&pm2, &github, &netlify}) {
      *f = std::make_shared<fake_subsystem>(f == &pm2 ? "pm2" : f == &github ? "github" : "netlify", journal);
      checks.add(*f, {.interval = 20ms, .timeout = 2s});
    }
  }
  ~rig() {
    checks.stop();
    io.run_for(50ms);
  }

  void start() {
    policy->start();
    checks.start();
  }

  // Runs the loop until `done` or the limit (a generous bound for a loaded machine, not a speed test).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (io.stopped()) io.restart();
      io.run_for(5ms);
    }
    return true;
  }

  // Runs the loop until every subsystem has been checked `n` more times.
  void run_checks(unsigned n) {
    const auto target = std::min({pm2->checks, github->checks, netlify->checks}) + n;
    BOOST_REQUIRE(run_until([&] { return std::min({pm2->checks, github->checks, netlify->checks}) >= target; }));
  }

  std::size_t count(const std::string& entry) const { return std::count(journal.begin(), journal.end(), entry); }

  std::vector<event> events_of_kind(const std::string& kind) const {
    std::vector<event> out;
    for (auto& e : policy->events({.since = {}, .limit = 1000, .subsystem = {}, .after_id = {}}))
      if (e.kind == kind) out.push_back(e);
    return out;
  }

  std::size_t emergency_actions() const {
    std::size_t n = 0;
    for (const auto& a : history->actions(1000))
      if (a.kind == "emergency") ++n;
    return n;
  }

  asio::io_context io{1};
  config c;
  scheduler checks{io.get_executor()};
  std::optional<store> history;
  metrics numbers;
  std::optional<action_runner> actions;
  std::optional<orchestrator> policy;
  std::vector<std::string> journal;
  std::shared_ptr<fake_subsystem> pm2, github, netlify;
};

}  // namespace

BOOST_AUTO_TEST_CASE(one_unhealthy_subsystem_is_recovered_on_its_own_without_an_emergency) {
  temp_dir dir;
  rig r(dir.path());
  r.pm2->state = status::unhealthy;
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 2; }));
  r.run_checks(5);
  BOOST_TEST(r.count("pm2 emergency") == 0u);
  BOOST_TEST(r.emergency_actions() == 0u);
  BOOST_TEST(r.policy->health_json().at("status").as_string() == "unhealthy");
  BOOST_TEST(r.policy->emergency().attempts == 0u);
  BOOST_TEST(r.events_of_kind("emergency_started").empty());
}

BOOST_AUTO_TEST_CASE(a_debounced_subsystem_shows_degraded_with_a_count_that_reads_forwards) {
  temp_dir dir;
  rig r(dir.path());
  r.netlify->failures_needed = 3;
  r.netlify->state = status::unhealthy;
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return r.netlify->checks >= 1; }));
  auto shown = r.policy->status_json().at("subsystems").at("netlify").as_object();
  BOOST_TEST(shown.at("status").as_string() == "degraded");
  BOOST_TEST(shown.at("summary").as_string() == "netlify is unhealthy (1 consecutive failure; recovery after 3)");
  BOOST_TEST(r.count("netlify recover") == 0u);
  BOOST_REQUIRE(r.run_until([&] { return r.count("netlify recover") >= 1; }));
  // Was: "failing 24 of 1 checks before recovery".
  BOOST_REQUIRE(r.run_until([&] { return r.netlify->checks >= 5; }));
  shown = r.policy->status_json().at("subsystems").at("netlify").as_object();
  BOOST_TEST(shown.at("status").as_string() == "unhealthy");
  const std::string summary{shown.at("summary").as_string()};
  BOOST_TEST(summary.find("consecutive failures; recovery after 3)") != std::string::npos, summary);
}

BOOST_AUTO_TEST_CASE(a_recovery_with_nothing_to_do_is_not_repeated_until_the_problem_changes) {
  temp_dir dir;
  rig r(dir.path());
  r.pm2->state = status::unhealthy;
  r.pm2->recover_finds_nothing_to_do = true;
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 1; }));
  r.run_checks(20);
  BOOST_TEST(r.count("pm2 recover") == 1u);
  r.pm2->reason = "broken differently";  // a different problem is worth another try
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 2; }));
}

// PM2 not answering and no daemon_restart_command: the recovery fails without trying anything, and
// asking it again at every check only fills the history (and re-checks at once, without the interval).
BOOST_AUTO_TEST_CASE(a_recovery_that_can_try_nothing_is_not_repeated_until_the_problem_changes) {
  temp_dir dir;
  rig r(dir.path());
  r.pm2->state = status::unhealthy;
  r.pm2->recover_can_do_nothing = true;
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 1; }));
  r.run_checks(20);
  BOOST_TEST(r.count("pm2 recover") == 1u);
  r.pm2->reason = "broken differently";
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 2; }));
  r.run_checks(5);
  BOOST_TEST(r.count("pm2 recover") == 2u);
  // A reload may have given it something to try (pm2.daemon_restart_command): asked again.
  r.policy->apply(r.c);
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 3; }));
  // Healthy in between: the same problem later is asked afresh.
  r.run_checks(5);
  r.pm2->state = status::healthy;
  r.run_checks(3);
  r.pm2->state = status::unhealthy;
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 4; }));
}

// An app that died again during its restart backoff: the recovery finds nothing due yet, and must be
// asked again once the backoff is over, not given up on as "nothing to do" (the app stayed errored).
BOOST_AUTO_TEST_CASE(a_recovery_with_nothing_due_yet_is_asked_again_when_it_is_due) {
  temp_dir dir;
  rig r(dir.path());
  r.pm2->state = status::unhealthy;
  r.pm2->recover_waits_for = 2s;
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 1; }));
  const auto first = std::chrono::steady_clock::now();
  r.run_checks(5);  // 100 ms of checks: nothing is due yet
  BOOST_TEST(r.count("pm2 recover") == 1u);
  r.pm2->recover_waits_for.reset();  // the backoff is over: this time the recovery restarts the app
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 2; }));
  BOOST_TEST((std::chrono::steady_clock::now() - first >= 1900ms));
}

BOOST_AUTO_TEST_CASE(two_unhealthy_subsystems_start_an_emergency_that_runs_each_step_in_order) {
  temp_dir dir;
  rig r(dir.path());
  r.pm2->state = status::unhealthy;
  r.netlify->state = status::unhealthy;
  for (auto* f : {&r.pm2, &r.github, &r.netlify}) (*f)->heals_in_emergency = true;
  r.pm2->hold = true;  // keeps the emergency running while its state is looked at
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 emergency") == 1; }));
  const auto during = r.policy->health_json();
  BOOST_TEST(during.at("status").as_string() == "emergency");
  BOOST_TEST(during.at("emergency").at("attempts").to_number<std::int64_t>() == 1);
  BOOST_TEST(during.at("emergency").at("running_action").is_int64());
  r.pm2->hold = false;
  BOOST_REQUIRE(r.run_until([&] { return !r.events_of_kind("emergency_ended").empty(); }));

  // pm2, then github, then netlify, whatever order they were registered or sorted in; each step ends
  // before the next begins.
  const std::vector<std::string> expected{"pm2 emergency",         "pm2 emergency done", "github emergency",
                                          "github emergency done", "netlify emergency",  "netlify emergency done"};
  std::vector<std::string> emergency_entries;
  for (const auto& e : r.journal)
    if (e.find("emergency") != std::string::npos) emergency_entries.push_back(e);
  BOOST_TEST(emergency_entries == expected, boost::test_tools::per_element());
  // While the emergency ran, no per-subsystem recovery ran beside it (one may have started before
  // the second failing check was in).
  const auto begin = std::find(r.journal.begin(), r.journal.end(), "pm2 emergency");
  const auto end = std::find(r.journal.begin(), r.journal.end(), "netlify emergency done");
  BOOST_TEST(std::none_of(begin, end, [](const std::string& e) { return e.ends_with(" recover"); }));
  BOOST_TEST(r.emergency_actions() == 1u);
  const auto action = r.history->actions(1).at(0);
  BOOST_TEST(action.kind == "emergency");
  BOOST_TEST(to_string(action.state) == "succeeded");
  BOOST_TEST(r.events_of_kind("emergency_started").size() == 1u);
  BOOST_TEST(r.policy->health_json().at("status").as_string() == "healthy");
}

BOOST_AUTO_TEST_CASE(a_hanging_emergency_step_is_cut_at_its_bound_and_the_next_step_runs) {
  temp_dir dir;
  rig r(dir.path(), [](config& c) {
    // The GitHub step's bound: github.timeout + local_execution.timeout per workflow (none here).
    c.github.timeout = 100ms;
    c.github.local_execution.timeout = 200ms;
    c.github.workflows_dir = "/nonexistent";
    c.orchestrator.auto_recovery = false;
  });
  r.github->hold = true;
  r.start();
  r.run_checks(1);
  const auto submitted = r.policy->request_emergency("api");
  BOOST_TEST(!submitted.conflict);
  BOOST_REQUIRE(r.run_until([&] {
    auto a = r.history->action(submitted.id);
    return a && a->finished_at.has_value();
  }));
  BOOST_TEST(r.count("github emergency") == 1u);
  BOOST_TEST(r.count("github emergency done") == 0u);  // cancelled at its bound
  BOOST_TEST(r.count("netlify emergency done") == 1u);
  const auto action = *r.history->action(submitted.id);
  BOOST_TEST(to_string(action.state) == "failed");
  bool saw_timeout = false;
  for (const auto& step : action.steps)
    if (step.at("name").as_string() == "github emergency")
      saw_timeout = step.at("detail").as_string().find("timed out") != json::string::npos;
  BOOST_TEST(saw_timeout);
}

BOOST_AUTO_TEST_CASE(a_second_emergency_request_while_one_runs_is_a_conflict_naming_it) {
  temp_dir dir;
  rig r(dir.path(), [](config& c) { c.orchestrator.auto_recovery = false; });
  r.pm2->hold = true;
  r.start();
  r.run_checks(1);
  const auto first = r.policy->request_emergency("api");
  BOOST_TEST(!first.conflict);
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 emergency") == 1; }));
  const auto second = r.policy->request_emergency("api");
  BOOST_TEST(second.conflict);
  BOOST_TEST(second.id == first.id);
  r.pm2->hold = false;
  BOOST_REQUIRE(r.run_until([&] { return r.count("netlify emergency done") == 1; }));
  BOOST_REQUIRE(r.run_until([&] { return !r.policy->request_emergency("api").conflict; }));
}

BOOST_AUTO_TEST_CASE(the_attempt_limit_is_honoured_then_reset_after_the_healthy_period) {
  temp_dir dir;
  rig r(dir.path());  // max_recovery_attempts 3, attempt_reset 300 ms
  r.pm2->state = status::unhealthy;
  r.github->state = status::unhealthy;
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return !r.events_of_kind("emergency_given_up").empty(); }));
  BOOST_TEST(r.count("pm2 emergency") == 3u);
  BOOST_TEST(r.emergency_actions() == 3u);
  // Given up: no more attempts and no per-subsystem recoveries; it waits for a person.
  const auto recoveries = r.count("pm2 recover") + r.count("github recover");
  r.run_checks(10);
  BOOST_TEST(r.count("pm2 emergency") == 3u);
  BOOST_TEST(r.count("pm2 recover") + r.count("github recover") == recoveries);
  BOOST_TEST(r.events_of_kind("emergency_given_up").size() == 1u);
  const auto health = r.policy->health_json();
  BOOST_TEST(health.at("status").as_string() == "emergency");
  BOOST_TEST(health.at("emergency").at("given_up").as_bool());
  BOOST_TEST(health.at("emergency").at("message").as_string().find("waiting for a person") != json::string::npos);
  BOOST_TEST(r.history->get_counter("emergency.attempts").value_or("") == "3");

  // Healthy again: emergency over at once, the attempts reset only after attempt_reset of health.
  r.pm2->state = status::healthy;
  r.github->state = status::healthy;
  BOOST_REQUIRE(r.run_until([&] { return !r.events_of_kind("emergency_ended").empty(); }));
  BOOST_REQUIRE(r.run_until([&] { return r.policy->emergency().attempts == 0; }));
  const auto ended = r.events_of_kind("emergency_ended").at(0).ts;
  const auto reset = r.events_of_kind("emergency_attempts_reset").at(0).ts;
  BOOST_TEST((reset - ended >= 300ms - 1ms), "reset after " << (reset - ended).count() << " ns of health");
  BOOST_TEST(r.history->get_counter("emergency.attempts").value_or("") == "0");

  // And a new incident gets a fresh budget.
  r.pm2->state = status::unhealthy;
  r.github->state = status::unhealthy;
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 emergency") == 4; }));
}

BOOST_AUTO_TEST_CASE(emergency_attempts_are_spaced_by_a_doubling_backoff_after_each_ended) {
  temp_dir dir;
  // Was: with any interval the three attempts ran back to back, all spent before anything could come up.
  rig r(dir.path(), [](config& c) {
    c.orchestrator.interval = 150ms;
    c.orchestrator.attempt_reset = 1h;
  });
  r.pm2->state = status::unhealthy;
  r.github->state = status::unhealthy;
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return !r.events_of_kind("emergency_given_up").empty(); }));
  auto started = r.events_of_kind("emergency_started");
  std::vector<sys_time> finished;
  for (const auto& e : r.events_of_kind("action_finished"))
    if (e.message.starts_with("emergency")) finished.push_back(e.ts);
  BOOST_REQUIRE(started.size() == 3u);
  BOOST_REQUIRE(finished.size() == 3u);
  std::reverse(started.begin(), started.end());  // events come newest first
  std::reverse(finished.begin(), finished.end());
  // Each attempt waits the settle time (the interval, under 10 s) before the re-check that judges it...
  BOOST_TEST((finished[0] - started[0].ts >= 150ms));
  // ... and the next starts an interval after it ended, then twice that.
  BOOST_TEST((started[1].ts - finished[0] >= 150ms), (started[1].ts - finished[0]).count() << " ns");
  BOOST_TEST((started[2].ts - finished[1] >= 300ms), (started[2].ts - finished[1]).count() << " ns");
}

// Was: the attempt count survived a restart of the daemon, its spacing did not, so a daemon restarted in
// a crash loop ran its remaining attempts back to back.
BOOST_AUTO_TEST_CASE(the_spacing_before_the_next_emergency_attempt_survives_a_restart) {
  temp_dir dir;
  {
    rig first(dir.path(), [](config& c) { c.orchestrator.interval = 1h; });
    first.pm2->state = status::unhealthy;
    first.netlify->state = status::unhealthy;
    first.start();
    // The settle time is 10 s at this interval; the test only needs the attempt's end to be stored.
    BOOST_REQUIRE(
        first.run_until([&] { return first.history->get_counter("emergency.next_attempt_at").has_value(); }, 30s));
    const auto at = from_rfc3339(*first.history->get_counter("emergency.next_attempt_at"));
    BOOST_TEST_REQUIRE(at.has_value());
    BOOST_TEST((*at > std::chrono::system_clock::now() + 50min));
  }
  rig second(dir.path(), [](config& c) { c.orchestrator.interval = 1h; });
  second.pm2->state = status::unhealthy;
  second.netlify->state = status::unhealthy;
  second.start();
  second.run_checks(10);
  BOOST_TEST(second.count("pm2 emergency") == 0u);
  BOOST_TEST(second.policy->emergency().attempts == 1u);
  BOOST_TEST(second.policy->health_json().at("emergency").at("next_attempt_at").is_string());
}

BOOST_AUTO_TEST_CASE(health_says_when_the_next_emergency_attempt_is_due) {
  temp_dir dir;
  rig r(dir.path(), [](config& c) {
    c.orchestrator.interval = 2s;  // the spacing after the first attempt: long enough to be seen on any machine
    c.orchestrator.attempt_reset = 1h;
  });
  r.pm2->state = status::unhealthy;
  r.github->state = status::unhealthy;
  r.start();
  BOOST_TEST(r.policy->health_json().at("emergency").at("next_attempt_at").is_null());
  const auto first_ended = [&] {
    for (const auto& e : r.events_of_kind("action_finished"))
      if (e.message.starts_with("emergency")) return true;
    return false;
  };
  BOOST_REQUIRE(r.run_until(first_ended));
  const auto emergency = r.policy->health_json().at("emergency");
  BOOST_TEST(emergency.at("phase").as_string() == "recovering");
  BOOST_REQUIRE_MESSAGE(emergency.at("next_attempt_at").is_string(), emergency);
  const auto due = from_rfc3339(emergency.at("next_attempt_at").as_string());
  BOOST_REQUIRE(due.has_value());
  const auto now = std::chrono::system_clock::now();
  BOOST_TEST((*due > now));  // an interval after the attempt ended, which was just now
  BOOST_TEST((*due <= now + 2s));
}

BOOST_AUTO_TEST_CASE(a_person_asking_restarts_a_given_up_emergency) {
  temp_dir dir;
  rig r(dir.path(), [](config& c) { c.orchestrator.max_recovery_attempts = 1; });
  r.pm2->state = status::unhealthy;
  r.github->state = status::unhealthy;
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return !r.events_of_kind("emergency_given_up").empty(); }));
  for (auto* f : {&r.pm2, &r.github, &r.netlify}) (*f)->heals_in_emergency = true;
  BOOST_TEST(!r.policy->request_emergency("api").conflict);
  BOOST_REQUIRE(r.run_until([&] { return !r.events_of_kind("emergency_ended").empty(); }));
  BOOST_TEST(r.count("pm2 emergency") == 2u);
  BOOST_TEST(r.policy->health_json().at("status").as_string() == "healthy");
}

BOOST_AUTO_TEST_CASE(a_pause_suppresses_recovery_shows_paused_and_expires) {
  temp_dir dir;
  rig r(dir.path());
  r.pm2->state = status::unhealthy;
  BOOST_TEST(!r.policy->pause("pm2", 2s, "maintenance").has_value());
  r.start();
  r.run_checks(5);
  BOOST_REQUIRE_MESSAGE(r.policy->paused("pm2").has_value(), "the machine was too slow for a 2 s pause");
  BOOST_TEST(r.count("pm2 recover") == 0u);
  const auto status = r.policy->status_json();
  BOOST_TEST(status.at("subsystems").at("pm2").at("status").as_string() == "paused");
  BOOST_TEST(status.at("subsystems").at("pm2").at("paused_reason").as_string() == "maintenance");
  BOOST_TEST(status.at("pauses").as_array().size() == 1u);
  BOOST_TEST(status.at("status").as_string() == "healthy");  // a paused subsystem does not count

  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 1; }));
  const auto resumed = r.events_of_kind("resumed");
  BOOST_TEST_REQUIRE(resumed.size() == 1u);
  BOOST_TEST(resumed[0].data.at("expired").as_bool());
  BOOST_TEST(r.history->pauses().empty());
  BOOST_TEST(r.policy->status_json().at("pauses").as_array().empty());
}

BOOST_AUTO_TEST_CASE(a_paused_target_is_not_recovered_and_unknown_targets_are_refused) {
  temp_dir dir;
  rig r(dir.path());
  r.pm2->state = status::unhealthy;
  BOOST_TEST(!r.policy->pause("pm2/t1", 1h, "").has_value());
  BOOST_TEST(r.policy->pause("nope", 1h, "").has_value());
  BOOST_TEST(r.policy->pause("pm2", 0ms, "").has_value());
  BOOST_TEST(r.policy->resume("github").has_value());  // not paused
  r.start();
  r.run_checks(5);
  BOOST_TEST(r.count("pm2 recover") == 0u);
  BOOST_TEST(!r.policy->resume("pm2/t1").has_value());
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 1; }));
  const auto resumed = r.events_of_kind("resumed");
  BOOST_TEST_REQUIRE(resumed.size() == 1u);
  BOOST_TEST(!resumed[0].data.at("expired").as_bool());
}

// Issue 25: the target said paused, yet the subsystem and the whole stayed unhealthy because of it, and an
// emergency (threshold 1) restarted it.
BOOST_AUTO_TEST_CASE(a_paused_target_counts_neither_way_and_starts_no_emergency) {
  temp_dir dir;
  rig r(dir.path(), [](config& c) { c.orchestrator.emergency_threshold = 1; });
  r.pm2->state = status::unhealthy;  // only because of t1
  r.pm2->apart_from_targets = status::healthy;
  BOOST_TEST(!r.policy->pause("pm2/t1", 1h, "debugging").has_value());
  r.start();
  r.run_checks(5);
  const auto status = r.policy->status_json();
  BOOST_TEST(status.at("subsystems").at("pm2").at("status").as_string() == "healthy");
  BOOST_TEST(std::string(status.at("subsystems").at("pm2").at("summary").as_string()).ends_with("(paused: t1)"));
  BOOST_TEST(r.policy->health_json().at("status").as_string() == "healthy");
  BOOST_TEST(r.count("pm2 recover") == 0u);
  BOOST_TEST(r.count("pm2 emergency") == 0u);
  BOOST_TEST(r.events_of_kind("emergency_started").empty());
}

// What is no target's own (PM2's daemon, its files) still counts while a target is paused.
BOOST_AUTO_TEST_CASE(a_subsystem_unhealthy_apart_from_its_paused_target_stays_unhealthy) {
  temp_dir dir;
  rig r(dir.path());
  r.pm2->state = status::unhealthy;
  r.pm2->apart_from_targets = status::unhealthy;
  BOOST_TEST(!r.policy->pause("pm2/t1", 1h, "").has_value());
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return r.count("pm2 recover") >= 1; }));
  BOOST_TEST(r.policy->status_json().at("subsystems").at("pm2").at("status").as_string() == "unhealthy");
}

BOOST_AUTO_TEST_CASE(an_emergency_skips_a_paused_subsystem_and_tells_the_others_their_paused_targets) {
  temp_dir dir;
  rig r(dir.path());
  for (auto* f : {&r.pm2, &r.github, &r.netlify}) {
    (*f)->state = status::unhealthy;
    (*f)->heals_in_emergency = true;
  }
  BOOST_TEST(!r.policy->pause("netlify", 1h, "").has_value());
  BOOST_TEST(!r.policy->pause("github/t2", 1h, "").has_value());  // a target the check does not show: still told
  r.start();
  BOOST_REQUIRE(r.run_until([&] { return r.count("github emergency done") == 1; }));
  r.run_checks(3);
  BOOST_TEST(r.count("netlify emergency") == 0u);
  BOOST_TEST(r.pm2->left_alone_.empty());
  BOOST_TEST((r.github->left_alone_ == target_names{"t2"}));
  const auto action = r.history->actions(1).at(0);
  BOOST_TEST(action.kind == "emergency");
  BOOST_TEST(std::any_of(action.steps.begin(), action.steps.end(), [](const boost::json::value& s) {
    return s.at("name") == "netlify emergency" && s.at("detail") == "skipped: netlify is paused";
  }));
}

BOOST_AUTO_TEST_CASE(pauses_survive_a_restart_and_one_that_expired_meanwhile_ends_with_an_event) {
  temp_dir dir;
  sys_time until{};
  {
    rig first(dir.path());
    first.start();
    first.run_checks(1);
    BOOST_TEST(!first.policy->pause("pm2", 1h, "window").has_value());
    BOOST_TEST(!first.policy->pause("github", 50ms, "short").has_value());
    until = first.policy->paused("pm2")->until;
  }
  std::this_thread::sleep_for(100ms);  // github's pause ends while no daemon runs
  rig second(dir.path());
  second.pm2->state = status::unhealthy;
  second.start();
  second.run_checks(3);
  const auto pause = second.policy->paused("pm2");
  BOOST_TEST_REQUIRE(pause.has_value());
  BOOST_TEST(to_rfc3339(pause->until) == to_rfc3339(until));
  BOOST_TEST(pause->reason == "window");
  BOOST_TEST(second.count("pm2 recover") == 0u);
  BOOST_TEST(!second.policy->paused("github").has_value());
  bool github_expired = false;
  for (const auto& e : second.events_of_kind("resumed"))
    if (e.subsystem == "github" && e.data.at("expired").as_bool()) github_expired = true;
  BOOST_TEST(github_expired);
  BOOST_TEST(second.history->pauses().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_history_that_refuses_writes_is_loud_and_events_wait_in_memory) {
  temp_dir dir;
  rig r(dir.path());
  r.start();
  r.run_checks(2);
  BOOST_TEST(r.policy->health_json().at("status").as_string() == "healthy");
  BOOST_TEST(r.policy->health_json().at("history").at("ok").as_bool());

  r.history->set_query_only_for_testing(true);
  BOOST_TEST(!r.policy->pause("netlify", 1h, "while the disk is full").has_value());
  auto health = r.policy->health_json();
  BOOST_TEST(health.at("status").as_string() == "degraded");
  BOOST_TEST(!health.at("history").at("ok").as_bool());
  BOOST_TEST(health.at("history").at("error").as_string().find("redundancy.db") != json::string::npos);
  BOOST_TEST(health.at("history").at("unsaved_events").to_number<std::int64_t>() >= 1);
  const auto kept = r.events_of_kind("paused");
  BOOST_TEST_REQUIRE(kept.size() == 1u);
  BOOST_TEST(kept[0].id < 0);  // not in the file yet
  r.run_checks(3);
  BOOST_TEST(!r.policy->health_json().at("history").at("ok").as_bool());  // still failing, still loud

  r.history->set_query_only_for_testing(false);
  BOOST_REQUIRE(r.run_until([&] { return r.policy->history_ok(); }));
  BOOST_REQUIRE(r.run_until(
      [&] { return r.policy->health_json().at("history").at("unsaved_events").to_number<std::int64_t>() == 0; }));
  const auto saved = r.events_of_kind("paused");
  BOOST_TEST_REQUIRE(saved.size() == 1u);
  BOOST_TEST(saved[0].id > 0);
  // What could not be stored meanwhile (the pause) is written once the file works again.
  BOOST_TEST(r.history->pauses().size() == 1u);
  BOOST_TEST(r.policy->health_json().at("status").as_string() == "healthy");
}

BOOST_AUTO_TEST_CASE(the_report_file_is_json_with_availability_from_a_known_history) {
  temp_dir dir;
  const auto now = std::chrono::system_clock::now();
  {
    // The history before this daemon's life: pm2/t1 down from -12 h to -6 h; github down from -48 h
    // to -30 h, not known before.
    auto s = store::open(dir.path() / "state" / "redundancy.db");
    BOOST_REQUIRE(s.has_value());
    auto add = [&](std::string subsystem, std::string target, std::string kind, sys_time ts, std::string state) {
      json::object data;
      if (!state.empty()) data["status"] = state;
      BOOST_REQUIRE(s->add_event({.id = 0,
                                  .ts = ts,
                                  .subsystem = std::move(subsystem),
                                  .target = std::move(target),
                                  .kind = std::move(kind),
                                  .severity = "info",
                                  .message = "seeded",
                                  .data = std::move(data)}));
    };
    add("orchestrator", "", "daemon_started", now - 8 * 24h, "");
    add("pm2", "t1", "status_observed", now - 8 * 24h, "healthy");
    add("pm2", "t1", "status_changed", now - 12h, "unhealthy");
    add("pm2", "t1", "status_changed", now - 6h, "healthy");
    add("github", "", "status_changed", now - 48h, "unhealthy");
    add("github", "", "status_changed", now - 30h, "healthy");
  }
  // Report files: one older than the retention (goes), yesterday's (stays).
  fs::create_directories(dir.path() / "logs");
  std::ofstream(dir.path() / "logs" / "health-report-2001-01-01.json") << "{}";
  const auto yesterday = dir.path() / "logs" / report_file_name(now - 24h);
  std::ofstream(yesterday) << "{}";

  rig r(dir.path());
  r.start();
  r.run_checks(2);
  BOOST_TEST(r.policy->write_report());
  const auto file = dir.path() / "logs" / report_file_name(std::chrono::system_clock::now());
  BOOST_REQUIRE(fs::exists(file));
  const auto text = redundancy::test::read_existing_text(file);
  boost::system::error_code ec;
  const auto report = json::parse(text, ec);
  BOOST_TEST_REQUIRE(!ec, "not valid JSON: " << text);

  // The few milliseconds between the seeding and this daemon's first check are not known; the
  // tolerance covers them.
  const auto tolerance = boost::test_tools::tolerance(1e-4);
  const auto& t1 = report.at("subsystems").at("pm2").at("targets").at(0);
  BOOST_TEST(t1.at("name").as_string() == "t1");
  BOOST_TEST(t1.at("availability").at("24h").as_double() == 0.75, tolerance);
  BOOST_TEST(t1.at("availability").at("7d").as_double() == 1.0 - 6.0 / 168.0, tolerance);
  const auto& github = report.at("subsystems").at("github");
  BOOST_TEST(github.at("availability").at("24h").as_double() == 1.0, tolerance);
  BOOST_TEST(github.at("availability").at("7d").as_double() == 30.0 / 48.0, tolerance);

  BOOST_TEST(report.at("daemon").at("rss_bytes").as_double() > 0.0);
  BOOST_TEST(report.at("daemon").at("uptime_seconds").as_double() >= 0.0);
  BOOST_TEST(report.at("daemon").at("cpu_seconds").is_double());
  BOOST_TEST(report.at("emergency").at("attempts").to_number<std::int64_t>() == 0);
  // The last 24 h of events: the seeded changes of -12 h and -6 h and this life's start, not the older ones.
  std::size_t seeded = 0;
  for (const auto& e : report.at("events").as_array())
    if (e.at("message").as_string() == "seeded") ++seeded;
  BOOST_TEST(seeded == 2u);
  BOOST_TEST(!fs::exists(dir.path() / "logs" / "health-report-2001-01-01.json"));
  BOOST_TEST(fs::exists(yesterday));
}
