// The pure assessment of a workflow from GitHub's answers: failures since the last success, missed
// schedule ticks, disabled workflows, inactivity, and the run-list parser's errors.
#define BOOST_TEST_MODULE github_monitor
#include "redundancy/github/monitor.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "redundancy/core/time.hpp"

using namespace redundancy;
using namespace redundancy::github;
using std::chrono::duration_cast;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

const redundancy::sys_time now = *from_rfc3339("2026-03-10T12:00:00Z");

workflow_run run(std::uint64_t id, const char* conclusion, redundancy::sys_time created, const char* event = "push") {
  return {.id = id,
          .event = event,
          .status = "completed",
          .conclusion = conclusion,
          .created_at = created,
          .started_at = {},
          .url = {}};
}

workflow plain() {
  return parse_workflow("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n", "w.yml");
}

workflow hourly() {
  return parse_workflow(
      "on:\n  schedule:\n    - cron: '0 * * * *'\njobs:\n  a:\n    runs-on: x\n    steps:\n      - "
      "run: echo\n",
      "s.yml");
}

assessment_settings settings() {
  return {.max_failures = 3, .schedule_grace = hours(1), .lookback = hours(24), .now = now};
}

}  // namespace

BOOST_AUTO_TEST_CASE(failures_since_the_last_success_reach_the_limit) {
  workflow_observation o;
  o.state = "active";
  o.runs = {run(5, "failure", now - hours(1)),   run(4, "timed_out", now - hours(2)),
            run(3, "cancelled", now - hours(3)), run(2, "startup_failure", now - hours(4)),
            run(1, "success", now - hours(5)),   run(0, "failure", now - hours(6))};
  const auto a = assess(plain(), o, settings());
  BOOST_TEST(a.consecutive_failures == 3u);
  BOOST_TEST((a.state == status::unhealthy));
  BOOST_TEST(a.backup_wanted);
  BOOST_TEST(a.failure_key == "run:5");
  BOOST_TEST(a.reason == "3 consecutive failures (newest: run 5 failure)");
}

BOOST_AUTO_TEST_CASE(fewer_failures_are_degraded_and_a_success_resets) {
  workflow_observation o;
  o.runs = {run(2, "failure", now - hours(1)), run(1, "success", now - hours(2))};
  auto a = assess(plain(), o, settings());
  BOOST_TEST((a.state == status::degraded));
  BOOST_TEST(!a.backup_wanted);
  o.runs.insert(o.runs.begin(), run(3, "success", now - minutes(5)));
  a = assess(plain(), o, settings());
  BOOST_TEST((a.state == status::healthy));
  BOOST_TEST(a.consecutive_failures == 0u);
  // A run still in progress neither fails nor resets.
  workflow_run running = run(4, "", now);
  running.status = "in_progress";
  o.runs = {running, run(2, "failure", now - hours(1))};
  BOOST_TEST(assess(plain(), o, settings()).consecutive_failures == 1u);
}

BOOST_AUTO_TEST_CASE(missed_schedule_ticks_count_as_failures) {
  workflow_observation o;
  o.workflow_created = now - hours(100);
  // Hourly ticks; the last success ran for the 06:00 tick. Ticks 07:00..11:00 are past; 11:00 is
  // still within the one-hour grace at 12:00 (a tick at exactly now - grace counts). 08:00 ran
  // (late but in grace) and failed.
  o.runs = {run(11, "failure", *from_rfc3339("2026-03-10T08:40:00Z"), "schedule"),
            run(10, "success", *from_rfc3339("2026-03-10T06:05:00Z"), "schedule")};
  const auto a = assess(hourly(), o, settings());
  BOOST_TEST(a.missed_ticks == 4u);  // 07:00, 09:00, 10:00, 11:00
  BOOST_TEST(a.consecutive_failures == 5u);
  BOOST_TEST((a.state == status::unhealthy));
  BOOST_REQUIRE(!a.missed.empty());
  BOOST_TEST(to_rfc3339(a.missed.front()) == "2026-03-10T07:00:00.000Z");
  BOOST_TEST(a.failure_key ==
             "tick:" + std::to_string(duration_cast<seconds>(a.missed.back().time_since_epoch()).count()));
  BOOST_TEST(a.reason.find("4 missed schedule ticks") != std::string::npos, a.reason);
}

BOOST_AUTO_TEST_CASE(missed_ticks_never_reach_before_the_workflow_existed) {
  workflow_observation o;
  o.workflow_created = now - minutes(150);  // 09:30: ticks 10:00 and 11:00 only
  const auto a = assess(hourly(), o, settings());
  BOOST_TEST(a.missed_ticks == 2u);
  BOOST_TEST((a.state == status::degraded));
}

BOOST_AUTO_TEST_CASE(disabled_scheduled_workflow_wants_a_backup) {
  workflow_observation o;
  o.state = "disabled_inactivity";
  o.workflow_updated = "2026-03-01T00:00:00Z";
  o.runs = {run(1, "success", now - hours(1), "schedule")};
  o.workflow_created = now - hours(2);
  const auto a = assess(hourly(), o, settings());
  BOOST_TEST((a.state == status::unhealthy));
  BOOST_TEST(a.backup_wanted);
  BOOST_TEST(a.failure_key == "disabled:disabled_inactivity:2026-03-01T00:00:00Z");
  BOOST_TEST(a.reason == "GitHub disabled the workflow (disabled_inactivity)");
  // A push-only workflow disabled by hand is unhealthy, but a backup would not replace a schedule.
  o.state = "disabled_manually";
  BOOST_TEST(!assess(plain(), o, settings()).backup_wanted);
}

BOOST_AUTO_TEST_CASE(fifty_days_without_a_push_warns) {
  workflow_observation o;
  o.workflow_created = now - hours(2);
  o.runs = {run(1, "success", now - minutes(30), "schedule")};
  o.repository_pushed = now - hours(24 * 51);
  const auto a = assess(hourly(), o, settings());
  BOOST_TEST((a.state == status::degraded));
  BOOST_TEST(a.reason.find("no push for 51 days") != std::string::npos, a.reason);
  o.repository_pushed = now - hours(24 * 49);
  BOOST_TEST((assess(hourly(), o, settings()).state == status::healthy));
}

BOOST_AUTO_TEST_CASE(parse_runs_reads_github_and_names_bad_paths) {
  auto body = boost::json::parse(R"({"total_count": 2, "workflow_runs": [
    {"id": 1, "event": "schedule", "status": "completed", "conclusion": "success",
     "created_at": "2026-03-10T06:00:00Z", "run_started_at": "2026-03-10T06:00:05Z", "html_url": "https://x/1"},
    {"id": 2, "event": "push", "status": "in_progress", "conclusion": null,
     "created_at": "2026-03-10T07:00:00Z", "html_url": "https://x/2"}]})");
  auto runs = parse_runs(body);
  BOOST_REQUIRE(runs.has_value());
  BOOST_REQUIRE(runs->size() == 2u);
  BOOST_TEST((*runs)[0].id == 2u);  // newest first
  BOOST_TEST((*runs)[0].conclusion.empty());
  BOOST_TEST((*runs)[1].started_at == "2026-03-10T06:00:05Z");
  auto bad = parse_runs(
      boost::json::parse(R"({"workflow_runs": [{"id": 1, "status": "completed", "created_at": "yesterday"}]})"));
  BOOST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error() == "workflow_runs[0].created_at: expected an RFC 3339 time, got 'yesterday'");
  BOOST_TEST(parse_runs(boost::json::parse(R"({"workflow_runs": [{"id": "x"}]})")).error() ==
             "workflow_runs[0].id: expected a number");
  BOOST_TEST(parse_runs(boost::json::parse("[]")).error() == "expected an object");
}

BOOST_AUTO_TEST_CASE(only_the_deploy_branchs_own_events_count) {
  auto on = [](const char* event, const char* branch) {
    workflow_run r = run(1, "failure", now, event);
    r.head_branch = branch;
    return r;
  };
  for (const char* event : {"push", "schedule", "workflow_dispatch", "repository_dispatch"}) {
    BOOST_TEST(counts_for_deploy_branch(on(event, "main"), "main"), event);
    BOOST_TEST(counts_for_deploy_branch(on(event, ""), "main"), event);     // GitHub did not say
    BOOST_TEST(counts_for_deploy_branch(on(event, "feature"), ""), event);  // branch not known
    BOOST_TEST(!counts_for_deploy_branch(on(event, "feature"), "main"), event);
  }
  for (const char* event : {"pull_request", "pull_request_target", "issue_comment", "release"})
    BOOST_TEST(!counts_for_deploy_branch(on(event, "main"), "main"), event);

  workflow_observation o;
  o.runs = {on("pull_request", "feature"), on("pull_request", "feature"), on("pull_request", "feature"),
            on("push", "feature")};
  auto s = settings();
  s.deploy_branch = "main";
  const auto a = assess(plain(), o, s);
  BOOST_TEST(a.consecutive_failures == 0u);
  BOOST_TEST((a.state == status::healthy));
}
