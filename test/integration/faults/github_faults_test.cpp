// Fault matrix, GitHub API rows, against the real binary and a loopback fake of the API: 500, 429 with
// retry-after, 403 rate-limited, invalid JSON, a body trickled one byte a second, and no answer at all.
// Each: github is `unknown` with the reason in /api/health (never a recovery: the runs are not known
// to have failed), the daemon answers meanwhile, and it is healthy again once the API is.
#define BOOST_TEST_MODULE faults_github
#include <boost/test/unit_test.hpp>

#include "fake_github.hpp"
#include "fault_project.hpp"

using namespace redundancy::test;

namespace {

struct github_project : fault_project {
  fake_github_server api;

  github_project() {
    write_text(dir.path() / ".github/workflows/sync.yml", R"yaml(name: sync
on:
  push:
  workflow_dispatch:
jobs:
  sync:
    runs-on: ubuntu-latest
    steps:
      - run: echo backup-ran >> "$GITHUB_WORKSPACE/backup.txt"
)yaml");
    env["FAULTS_TEST_GH_TOKEN"] = "not-a-real-token";
    configure(R"("github": { "repository": "acme/site", "api_url": ")" + api.url() + R"(",
                             "token_env": "FAULTS_TEST_GH_TOKEN", "interval": "500ms", "timeout": "2s" },
                 "orchestrator": { "interval": "300ms" },
                 "pm2": { "enabled": false }, "netlify": { "enabled": false })");
  }

  // No backup ran and no recovery was attempted: an unknown state never triggers one.
  void check_no_recovery() {
    BOOST_TEST(!fs::exists(dir.path() / "backup.txt"));
    BOOST_TEST(get("/api/actions?subsystem=github").at("actions").as_array().empty());
  }
};

void fault_then_recovery(github_fault fault, const std::string& reason) {
  github_project p;
  p.api.set_fault(fault);
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("github", "unknown", reason), "github never became unknown with '" << reason << "'");
  // Degraded overall, answered at once while the API misbehaves.
  for (int i = 0; i < 5; ++i) {
    const auto started = std::chrono::steady_clock::now();
    const auto answer = p.health_answer();
    BOOST_TEST(answer.status == 200);
    BOOST_TEST(json::parse(answer.body).at("status").as_string() == "degraded");
    BOOST_TEST((std::chrono::steady_clock::now() - started < 2s));
    std::this_thread::sleep_for(200ms);
  }
  p.check_no_recovery();
  p.api.set_fault(github_fault::none);
  BOOST_TEST_REQUIRE(p.wait_status("github", "healthy"), "github never recovered");
  BOOST_TEST(p.has_event("status_changed", "github is unknown"));
  BOOST_TEST(p.has_event("status_changed", "github is healthy"));
  p.check_no_recovery();
  BOOST_TEST(!p.process->exited());
  p.stop();
  p.check_events_all_stored();
}

// A rate limit is honoured: nothing is asked until its time is up, then the check goes on.
void rate_limit_then_recovery(github_fault fault, const std::string& reason) {
  github_project p;
  p.api.retry_after_seconds = 3;
  p.api.set_fault(fault);
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("github", "unknown", reason));
  p.api.set_fault(github_fault::none);
  BOOST_TEST_REQUIRE(p.wait_status("github", "healthy"));
  const auto seen = p.api.requests();
  std::optional<std::chrono::steady_clock::time_point> limited_at, next_at;
  for (const auto& r : seen) {
    if (r.fault == fault && !limited_at) limited_at = r.at;
    if (r.fault == github_fault::none && limited_at && !next_at) next_at = r.at;
  }
  BOOST_TEST_REQUIRE(limited_at.has_value());
  BOOST_TEST_REQUIRE(next_at.has_value());
  // Whole seconds in the header: allow for the one the reset time was rounded down in.
  BOOST_TEST(
      (*next_at - *limited_at >= 2s),
      "asked again after " << std::chrono::duration_cast<std::chrono::milliseconds>(*next_at - *limited_at).count()
                           << " ms");
  std::size_t limited_requests = 0;
  for (const auto& r : seen) limited_requests += r.fault == fault ? 1 : 0;
  // One limited answer per route at most: the block applies to every request.
  BOOST_TEST(limited_requests <= 3u);
  BOOST_TEST(p.has_event("status_changed", "github is unknown"));
  BOOST_TEST(p.has_event("status_changed", "github is healthy"));
  p.check_no_recovery();
  p.stop();
  p.check_events_all_stored();
}

}  // namespace

BOOST_AUTO_TEST_CASE(github_answering_500_is_unknown_naming_the_status) {
  fault_then_recovery(github_fault::server_error, "500");
}

BOOST_AUTO_TEST_CASE(github_answering_429_waits_for_retry_after) {
  rate_limit_then_recovery(github_fault::too_many, "rate-limited by GitHub");
}

BOOST_AUTO_TEST_CASE(github_403_rate_limited_waits_for_the_reset) {
  rate_limit_then_recovery(github_fault::rate_limited, "rate-limited by GitHub");
}

BOOST_AUTO_TEST_CASE(github_answering_invalid_json_is_unknown) {
  fault_then_recovery(github_fault::invalid_json, "invalid JSON");
}

BOOST_AUTO_TEST_CASE(github_trickling_a_byte_a_second_is_cut_at_the_timeout) {
  fault_then_recovery(github_fault::trickle, "cannot reach GitHub");
}

BOOST_AUTO_TEST_CASE(github_never_answering_is_cut_at_the_timeout) {
  fault_then_recovery(github_fault::silent, "cannot reach GitHub");
}
