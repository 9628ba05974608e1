// The github subsystem against a fake GitHub API (test/fixtures/github/fake_github.py) on loopback:
// failed runs lead to a local backup and a dispatch once per failure, also across restarts; 304s;
// rate limits, 500s, invalid JSON and silence give `unknown` and no backup; TLS with a CA of our
// own.
#define BOOST_TEST_MODULE github_subsystem
#include "redundancy/github/subsystem.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "redundancy/core/time.hpp"
#include "redundancy/net/client.hpp"
#include "support/files.hpp"
#include "support/health.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "test_paths.hpp"

extern char** environ;

using namespace redundancy;
using namespace redundancy::github;
namespace json = boost::json;

namespace {

using test::read_text;
using test::run;
using test::target;

std::string shell_quote(const std::string& s) { return "'" + s + "'"; }

// The python fake, started on a free loopback port and ended by its pid.
struct fake_github {
  pid_t pid{-1};
  int port{0};
  std::string scheme{"http"};
  std::string host{"127.0.0.1"};

  explicit fake_github(std::vector<std::string> extra = {}) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> args{"python3",
                                  std::string(REDUNDANCY_SOURCE_DIR) + "/test/fixtures/github/fake_github.py"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    BOOST_REQUIRE(::posix_spawnp(&pid, "python3", &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    BOOST_REQUIRE_MESSAGE(!line.empty(), "the fake GitHub did not start");
    port = std::stoi(line);
  }
  ~fake_github() {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }

  std::string url() const { return scheme + "://" + host + ":" + std::to_string(port); }

  http::http_reply control(const std::string& method, const std::string& path, std::string body = {}) {
    http::http_request_spec spec;
    spec.method = method;
    spec.url = url() + path;
    spec.body = std::move(body);
    spec.ca_file = ca_file;
    return run(http::http_fetch(std::move(spec)));
  }

  void route(json::object spec) {
    const auto r = control("POST", "/_control/route", json::serialize(spec));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.error);
  }

  json::array requests() {
    const auto r = control("GET", "/_control/requests");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.error);
    return json::parse(r.body).as_array();
  }

  void clear() { control("POST", "/_control/clear"); }

  std::optional<std::filesystem::path> ca_file{};
};

json::object run_json(std::uint64_t id, const char* conclusion, int minutes_ago) {
  const auto created = std::chrono::system_clock::now() - std::chrono::minutes(minutes_ago);
  return {{"id", id},
          {"event", "push"},
          {"status", "completed"},
          {"conclusion", conclusion},
          {"created_at", to_rfc3339(created)},
          {"run_started_at", to_rfc3339(created)},
          {"html_url", "https://github.com/acme/site/actions/runs/" + std::to_string(id)}};
}

const std::string runs_path = "/repos/acme/site/actions/workflows/sync.yml/runs";
const std::string dispatch_path = "/repos/acme/site/actions/workflows/sync.yml/dispatches";

struct fixture {
  test::temp_dir tmp{"redundancy-ghapi"};
  std::filesystem::path dir = tmp.path();
  config cfg;
  fake_github gh;

  fixture() {
    const std::string cmd = "cd " + shell_quote(dir.string()) +
                            " && git init -q -b main && git -c user.email=t@example.com -c user.name=t commit -q "
                            "--allow-empty -m init";
    BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
    std::filesystem::create_directories(dir / ".github/workflows");
    std::ofstream(dir / ".github/workflows/sync.yml") << R"yaml(name: sync
on:
  push:
  workflow_dispatch:
jobs:
  sync:
    runs-on: ubuntu-latest
    steps:
      - run: echo backup-ran >> "$GITHUB_WORKSPACE/backup.txt"
)yaml";
    cfg.project_dir = dir;
    cfg.state_dir = dir / "state";
    cfg.log_dir = dir / "logs";
    cfg.github.repository = "acme/site";
    cfg.github.api_url = gh.url();
    cfg.github.token_env = "REDUNDANCY_TEST_GH_TOKEN";
    cfg.github.timeout = std::chrono::seconds(5);
    ::setenv("REDUNDANCY_TEST_GH_TOKEN", "test-token-123", 1);
    gh.route({{"path", "/repos/acme/site"},
              {"body", json::serialize(json::object{{"default_branch", "trunk"},
                                                    {"pushed_at", to_rfc3339(std::chrono::system_clock::now())}})}});
    gh.route({{"path", "/repos/acme/site/actions/workflows/sync.yml"},
              {"body",
               R"({"state": "active", "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"})"}});
    gh.route({{"method", "POST"}, {"path", dispatch_path}, {"status", 204}});
  }
  void serve_runs(json::array runs, json::object extra = {}) {
    json::object spec{{"path", runs_path},
                      {"body", json::serialize(json::object{{"total_count", runs.size()}, {"workflow_runs", runs}})}};
    for (auto& [k, v] : extra) spec[k] = v;
    gh.route(spec);
  }

  std::shared_ptr<github_subsystem> make() { return std::make_shared<github_subsystem>(cfg); }

  unsigned backups() const {
    const auto text = read_text(dir / "backup.txt");
    return static_cast<unsigned>(std::count(text.begin(), text.end(), '\n'));
  }

  unsigned dispatches() {
    unsigned n = 0;
    for (const auto& r : gh.requests())
      if (r.at("method") == "POST" && r.at("path").as_string() == dispatch_path) ++n;
    return n;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(three_failed_runs_back_up_locally_and_dispatch_once, fixture) {
  serve_runs({run_json(103, "failure", 10), run_json(102, "failure", 20), run_json(101, "timed_out", 30),
              run_json(100, "success", 40)});
  auto sub = make();
  auto h = run(sub->check());
  const auto& t = target(h, "sync.yml");
  BOOST_TEST((h.state == status::unhealthy), h.summary);
  BOOST_TEST((t.state == status::unhealthy));
  BOOST_TEST(t.reason == "3 consecutive failures (newest: run 103 failure)");
  BOOST_TEST(t.detail.at("consecutive_failures").to_number<int>() == 3);
  BOOST_TEST(t.detail.at("valid").as_bool());
  BOOST_TEST(t.detail.at("coverage").at("runnable").to_number<int>() == 1);
  BOOST_REQUIRE(t.detail.at("last_runs").as_array().size() == 4u);
  BOOST_TEST(t.detail.at("last_runs").at(0).at("url") == "https://github.com/acme/site/actions/runs/103");
  BOOST_TEST(t.detail.at("last_runs").at(0).at("conclusion") == "failure");
  BOOST_TEST(t.detail.at("last_backup").is_null());

  // The GET carried GitHub's headers.
  const auto seen = fixture::gh.requests();
  bool checked_headers = false;
  for (const auto& r : seen) {
    if (r.at("path").as_string() != runs_path) continue;
    const auto& hd = r.at("headers").as_object();
    BOOST_TEST(hd.at("authorization") == "Bearer test-token-123");
    BOOST_TEST(hd.at("accept") == "application/vnd.github+json");
    BOOST_TEST(hd.at("x-github-api-version") == "2022-11-28");
    BOOST_TEST(hd.at("user-agent").as_string().starts_with("redundancy/"));
    BOOST_TEST(r.at("query") == "per_page=30");
    checked_headers = true;
  }
  BOOST_TEST(checked_headers);

  const auto r = run(sub->recover(h));
  BOOST_TEST(r.ok, r.summary);
  BOOST_TEST(backups() == 1u);
  BOOST_TEST(r.summary == "sync.yml backup done: local: success; dispatch: sent", r.summary);
  json::object dispatch;
  for (const auto& req : fixture::gh.requests())
    if (req.at("method") == "POST" && req.at("path").as_string() == dispatch_path) dispatch = req.as_object();
  BOOST_REQUIRE(!dispatch.empty());
  BOOST_TEST(json::parse(dispatch.at("body").as_string()) == (json::value(json::object{{"ref", "trunk"}})));
  const auto& hd = dispatch.at("headers").as_object();
  BOOST_TEST(hd.at("authorization") == "Bearer test-token-123");
  BOOST_TEST(hd.at("content-type") == "application/json");
  BOOST_TEST(hd.at("x-github-api-version") == "2022-11-28");
  BOOST_TEST(hd.at("accept") == "application/vnd.github+json");
  BOOST_TEST(hd.contains("user-agent"));

  // The same failure again: nothing happens.
  h = run(sub->check());
  BOOST_TEST(target(h, "sync.yml").detail.at("last_backup").at("mode") == "local+dispatch");
  BOOST_TEST(target(h, "sync.yml").detail.at("last_backup").at("ok").as_bool());
  auto again = run(sub->recover(h));
  BOOST_TEST(again.summary == "no backup due: sync.yml was already backed up for run:103", again.summary);
  BOOST_TEST(backups() == 1u);
  BOOST_TEST(dispatches() == 1u);

  // A restarted daemon remembers.
  auto restarted = make();
  h = run(restarted->check());
  again = run(restarted->recover(h));
  BOOST_TEST(backups() == 1u);
  BOOST_TEST(dispatches() == 1u);

  // A new failed run is a new failure: one more backup.
  serve_runs({run_json(104, "failure", 5), run_json(103, "failure", 10), run_json(102, "failure", 20),
              run_json(101, "timed_out", 30)});
  h = run(restarted->check());
  BOOST_TEST(target(h, "sync.yml").detail.at("consecutive_failures").to_number<int>() == 4);
  run(restarted->recover(h));
  BOOST_TEST(backups() == 2u);
  BOOST_TEST(dispatches() == 2u);

  // A success resets the count.
  serve_runs({run_json(105, "success", 1), run_json(104, "failure", 5), run_json(103, "failure", 10)});
  h = run(restarted->check());
  BOOST_TEST((h.state == status::healthy), h.summary);
  BOOST_TEST(target(h, "sync.yml").detail.at("consecutive_failures").to_number<int>() == 0);
  again = run(restarted->recover(h));
  BOOST_TEST(backups() == 2u);
}

BOOST_FIXTURE_TEST_CASE(unchanged_answers_use_the_etag, fixture) {
  serve_runs({run_json(2, "failure", 10), run_json(1, "success", 20)}, {{"etag", "W/\"abc\""}});
  auto sub = make();
  auto first = run(sub->check());
  fixture::gh.clear();
  auto second = run(sub->check());
  BOOST_TEST((target(second, "sync.yml").state == status::degraded), target(second, "sync.yml").reason);
  BOOST_TEST(target(second, "sync.yml").detail.at("consecutive_failures").to_number<int>() == 1);
  bool saw_304 = false;
  for (const auto& r : fixture::gh.requests()) {
    if (r.at("path").as_string() != runs_path) continue;
    BOOST_TEST(r.at("headers").at("if-none-match") == "W/\"abc\"");
    saw_304 = r.at("answered").to_number<int>() == 304;
  }
  BOOST_TEST(saw_304);
}

BOOST_FIXTURE_TEST_CASE(rate_limits_errors_and_silence_are_unknown_without_backup, fixture) {
  cfg.github.timeout = std::chrono::milliseconds(700);
  const json::array failing{run_json(3, "failure", 10), run_json(2, "failure", 20), run_json(1, "failure", 30)};
  const auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                         (std::chrono::system_clock::now() + std::chrono::minutes(30)).time_since_epoch())
                         .count();
  struct variant {
    const char* name;
    json::object spec;
    const char* reason;
  };
  const std::vector<variant> variants{
      {"rate limit",
       {{"status", 403},
        {"headers", json::object{{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", std::to_string(reset)}}},
        {"body", R"({"message": "API rate limit exceeded"})"}},
       "rate-limited by GitHub (403) until "},
      {"secondary limit",
       {{"status", 429}, {"headers", json::object{{"retry-after", "120"}}}},
       "rate-limited by GitHub (429)"},
      {"server error", {{"status", 500}, {"body", R"({"message": "boom"})"}}, "GitHub answered 500 to GET"},
      {"invalid json", {{"status", 200}, {"body", "{not json"}}, "GitHub answered invalid JSON"},
      {"wrong shape", {{"status", 200}, {"body", R"({"workflow_runs": 3})"}}, "run list is not understood"},
      {"silence",
       {{"status", 200}, {"delay", 3}, {"body", json::serialize(json::object{{"workflow_runs", failing}})}},
       "cannot reach GitHub"},
  };
  for (const auto& v : variants) {
    BOOST_TEST_CONTEXT(v.name) {
      json::object spec = v.spec;
      spec["path"] = runs_path;
      fixture::gh.route(spec);
      fixture::gh.clear();
      auto sub = make();
      auto h = run(sub->check());
      const auto& t = target(h, "sync.yml");
      BOOST_TEST((t.state == status::unknown), t.reason);
      BOOST_TEST((h.state == status::unknown), h.summary);
      BOOST_TEST(t.reason.find(v.reason) != std::string::npos, t.reason);
      auto r = run(sub->recover(h));
      BOOST_TEST(r.summary == "no backup due", r.summary);
      BOOST_TEST(backups() == 0u);
      BOOST_TEST(dispatches() == 0u);
      if (std::string(v.name) == "rate limit") {
        // While blocked the client does not ask again.
        fixture::gh.clear();
        h = run(sub->check());
        BOOST_TEST((target(h, "sync.yml").state == status::unknown));
        unsigned asked = 0;
        for (const auto& req : fixture::gh.requests())
          if (req.at("path").as_string() == runs_path) ++asked;
        BOOST_TEST(asked == 0u);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(nothing_to_watch_is_disabled) {
  config cfg;
  cfg.project_dir = std::filesystem::temp_directory_path() / "redundancy-nothing-here";
  cfg.state_dir = cfg.project_dir / "state";
  auto sub = std::make_shared<github_subsystem>(cfg);
  auto h = run(sub->check());
  BOOST_TEST((h.state == status::disabled));
  BOOST_TEST(h.summary.find("nothing to watch: no workflow files in") != std::string::npos, h.summary);
  BOOST_TEST(!counts_as_unhealthy(h.state));
}

BOOST_AUTO_TEST_CASE(workflow_files_beyond_the_cap_are_counted_and_not_watched) {
  // A folder is not bounded by the config's check: 10,003 files would be 10,003 targets.
  config cfg;
  cfg.project_dir =
      std::filesystem::temp_directory_path() / ("redundancy-many-workflows-" + std::to_string(::getpid()));
  cfg.state_dir = cfg.project_dir / "state";
  const auto dir = cfg.project_dir / cfg.github.workflows_dir;
  std::filesystem::create_directories(dir);
  for (int i = 0; i < 10'003; ++i)
    std::ofstream(dir / ("w" + std::to_string(i) + ".yml"))
        << "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n";
  auto sub = std::make_shared<github_subsystem>(cfg);
  auto h = run(sub->check());
  std::filesystem::remove_all(cfg.project_dir);
  BOOST_TEST(h.targets.size() == 10'000u);
  BOOST_TEST(h.summary.find("3 more workflow files not watched: at most 10000 are") != std::string::npos, h.summary);
  BOOST_TEST((h.state == status::degraded), h.summary);
}

BOOST_AUTO_TEST_CASE(trigger_validates_its_arguments) {
  config cfg;
  cfg.project_dir = std::filesystem::path(REDUNDANCY_SOURCE_DIR) / "test/fixtures/github";
  cfg.github.workflows_dir = "workflows";
  cfg.state_dir = std::filesystem::temp_directory_path() / "redundancy-trigger-state";
  auto sub = std::make_shared<github_subsystem>(cfg);
  BOOST_TEST(!sub->manual("trigger", json::object{{"workflow", "missing.yml"}}, {}).has_value());
  auto invalid = sub->manual("trigger", json::object{{"workflow", "invalid-step.yml"}}, {});
  BOOST_REQUIRE(!invalid.has_value());
  BOOST_TEST(invalid.error().find("invalid-step.yml is invalid and is never run: invalid-step.yml:8:") == 0u,
             invalid.error());
  BOOST_TEST(sub->manual("trigger", json::object{{"workflow", "valid-sync.yml"}, {"mode", "fast"}}, {}).error() ==
             "mode: expected \"local\" or \"dispatch\"");
  BOOST_TEST(sub->manual("trigger", json::object{{"workflow", "valid-sync"}, {"mode", "dispatch"}}, {}).has_value());
  BOOST_TEST(!sub->manual("restart", json::object{}, {}).has_value());
}

BOOST_AUTO_TEST_CASE(tls_verifies_against_the_configured_ca) {
  const test::temp_dir tmp{"redundancy-ghtls"};
  const std::filesystem::path& dir = tmp.path();
  const std::string d = shell_quote(dir.string());
  // A CA, a server certificate it signs for localhost, and an unrelated CA.
  const std::string cmd = "cd " + d +
                          " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "
                          "/CN=test-ca" +
                          " 2>/dev/null && openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "
                          "/CN=localhost 2>/dev/null" +
                          " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1' > ext && openssl x509 -req -in "
                          "srv.csr -CA ca.pem" +
                          " -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext 2>/dev/null && openssl req "
                          "-x509 -newkey" +
                          " rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other-ca 2>/dev/null";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  {
    fake_github gh({"--cert", (dir / "srv.pem").string(), "--key", (dir / "srv.key").string()});
    gh.scheme = "https";
    gh.host = "localhost";
    gh.ca_file = dir / "ca.pem";
    gh.route({{"path", "/repos/acme/site"}, {"body", R"({"default_branch": "main"})"}});
    gh.route({{"path", "/repos/acme/site/actions/workflows/sync.yml"}, {"body", R"({"state": "active"})"}});
    gh.route({{"path", runs_path},
              {"body", json::serialize(json::object{{"workflow_runs", json::array{run_json(1, "success", 5)}}})}});

    config cfg;
    cfg.project_dir = dir;
    cfg.state_dir = dir / "state";
    std::filesystem::create_directories(dir / ".github/workflows");
    std::ofstream(dir / ".github/workflows/sync.yml")
        << "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n";
    cfg.github.repository = "acme/site";
    cfg.github.api_url = gh.url();
    cfg.github.token_env = "REDUNDANCY_TEST_GH_TOKEN";
    ::setenv("REDUNDANCY_TEST_GH_TOKEN", "test-token-123", 1);
    cfg.github.ca_file = dir / "ca.pem";
    auto h = run(std::make_shared<github_subsystem>(cfg)->check());
    BOOST_TEST((target(h, "sync.yml").state == status::healthy), target(h, "sync.yml").reason);
    BOOST_TEST(target(h, "sync.yml").detail.at("last_runs").as_array().size() == 1u);

    cfg.github.ca_file = dir / "other.pem";
    h = run(std::make_shared<github_subsystem>(cfg)->check());
    const auto& t = target(h, "sync.yml");
    BOOST_TEST((t.state == status::unknown), t.reason);
    BOOST_TEST(t.reason.find("cannot reach GitHub (https://localhost:") == 0u, t.reason);
    BOOST_TEST(t.reason.find("certificate") != std::string::npos, t.reason);
    BOOST_TEST_MESSAGE("wrong CA: " << t.reason);
  }
}

BOOST_FIXTURE_TEST_CASE(emergency_runs_every_valid_workflow_locally, fixture) {
  std::ofstream(dir / ".github/workflows/broken.yml") << "on: push\njobs:\n  a:\n    runs-on: x\n";
  std::ofstream(dir / ".github/workflows/second.yaml")
      << "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo second >> "
         "\"$GITHUB_WORKSPACE/backup.txt\"\n";
  auto sub = make();
  const auto r = run(sub->emergency({}));
  BOOST_TEST(r.ok, r.summary);
  BOOST_TEST(r.summary == "ran 2 workflows locally, 0 failed");
  BOOST_TEST(read_text(dir / "backup.txt") == "second\nbackup-ran\n");  // one at a time, in file-name order
  // Each run's line, then its steps' outcomes.
  BOOST_REQUIRE(r.steps.size() == 5u);
  BOOST_TEST(r.steps[0].detail == "skipped: invalid workflows are never run");
  BOOST_TEST(r.steps[1].name == "local second.yaml");
  BOOST_TEST(r.steps[2].name == "second.yaml: a / echo second >> \"$GITHUB_WORKSPACE/backup.txt\"", r.steps[2].name);
  BOOST_TEST(r.steps[2].detail.find("success: exit 0 in ") == 0u, r.steps[2].detail);
  BOOST_TEST(r.steps[4].detail.find("success: exit 0 in ") == 0u, r.steps[4].detail);
  BOOST_TEST(dispatches() == 0u);
}

namespace {

// A workflow that runs every hour, with a step whose side effect shows that a backup ran.
void write_hourly(const std::filesystem::path& dir) {
  std::ofstream(dir / ".github/workflows/sync.yml") << R"yaml(name: sync
on:
  schedule:
    - cron: '0 * * * *'
  workflow_dispatch:
jobs:
  sync:
    runs-on: ubuntu-latest
    steps:
      - run: echo backup-ran >> "$GITHUB_WORKSPACE/backup.txt"
)yaml";
}

sys_time at(const char* rfc3339) { return *from_rfc3339(rfc3339); }

json::object schedule_run(std::uint64_t id, const char* conclusion, const char* created) {
  return {{"id", id},
          {"event", "schedule"},
          {"status", "completed"},
          {"conclusion", conclusion},
          {"created_at", created},
          {"run_started_at", created},
          {"html_url", "https://github.com/acme/site/actions/runs/" + std::to_string(id)}};
}

void serve_repository(fake_github& gh, sys_time pushed) {
  gh.route({{"path", "/repos/acme/site"},
            {"body", json::serialize(json::object{{"default_branch", "trunk"}, {"pushed_at", to_rfc3339(pushed)}})}});
}

void serve_workflow_state(fake_github& gh, const char* state, const char* updated) {
  gh.route({{"path", "/repos/acme/site/actions/workflows/sync.yml"},
            {"body", json::serialize(json::object{
                         {"state", state}, {"created_at", "2020-01-01T00:00:00Z"}, {"updated_at", updated}})}});
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(missed_schedule_ticks_count_as_failures_after_the_grace, fixture) {
  write_hourly(dir);
  const sys_time now = at("2026-03-10T12:30:00Z");
  serve_repository(fixture::gh, now - std::chrono::hours(2));
  // The 08:00 tick ran; 09:00, 10:00 and 11:00 left no run. 12:00 is still within the grace.
  serve_runs({schedule_run(50, "success", "2026-03-10T08:00:40Z")});
  auto sub = make();
  sub->set_clock([now] { return now; });
  auto h = run(sub->check());
  const auto& t = target(h, "sync.yml");
  BOOST_TEST((t.state == status::unhealthy), t.reason);
  BOOST_TEST(t.reason == "3 consecutive failures (3 missed schedule ticks)", t.reason);
  BOOST_TEST(t.detail.at("missed_ticks").to_number<int>() == 3);
  BOOST_TEST(t.detail.at("backup_due").as_bool());
  const auto r = run(sub->recover(h));
  BOOST_TEST(r.ok, r.summary);
  BOOST_TEST(backups() == 1u);
  BOOST_TEST(dispatches() == 1u);
  // The same missed tick is not handled twice, also by a restarted daemon.
  auto restarted = make();
  restarted->set_clock([now] { return now; });
  h = run(restarted->check());
  BOOST_TEST(!target(h, "sync.yml").detail.at("backup_due").as_bool());
  run(restarted->recover(h));
  BOOST_TEST(backups() == 1u);
  BOOST_TEST(dispatches() == 1u);

  // A longer grace: 11:00 may still come, so only 09:00 and 10:00 count, below max_failures.
  cfg.github.schedule_grace = std::chrono::hours(2);
  auto patient = make();
  patient->set_clock([now] { return now; });
  h = run(patient->check());
  BOOST_TEST((target(h, "sync.yml").state == status::degraded), target(h, "sync.yml").reason);
  BOOST_TEST(target(h, "sync.yml").detail.at("missed_ticks").to_number<int>() == 2);
}

BOOST_FIXTURE_TEST_CASE(an_idle_repository_warns_before_github_disables_its_schedules, fixture) {
  write_hourly(dir);
  const sys_time now = at("2026-03-10T12:30:00Z");
  serve_runs({schedule_run(60, "success", "2026-03-10T12:00:40Z")});
  serve_repository(fixture::gh, now - std::chrono::hours(24 * 51));
  auto sub = make();
  sub->set_clock([now] { return now; });
  auto h = run(sub->check());
  const auto& t = target(h, "sync.yml");
  BOOST_TEST((t.state == status::degraded), t.reason);
  BOOST_TEST(t.reason ==
                 "no push for 51 days: GitHub disables scheduled workflows after 60 days without "
                 "activity",
             t.reason);
  BOOST_TEST(!t.detail.at("backup_due").as_bool());
  BOOST_TEST(run(sub->recover(h)).summary == "no backup due");
  BOOST_TEST(backups() == 0u);

  // 49 days is no warning yet.
  serve_repository(fixture::gh, now - std::chrono::hours(24 * 49));
  auto fresh = make();
  fresh->set_clock([now] { return now; });
  h = run(fresh->check());
  BOOST_TEST((target(h, "sync.yml").state == status::healthy), target(h, "sync.yml").reason);
}

BOOST_FIXTURE_TEST_CASE(a_workflow_github_disabled_is_backed_up_once, fixture) {
  write_hourly(dir);
  const sys_time now = at("2026-03-10T12:30:00Z");
  serve_repository(fixture::gh, now - std::chrono::hours(24 * 61));
  serve_runs({schedule_run(70, "success", "2026-03-10T12:00:40Z")});
  serve_workflow_state(fixture::gh, "disabled_inactivity", "2026-03-09T00:00:00Z");
  auto sub = make();
  sub->set_clock([now] { return now; });
  auto h = run(sub->check());
  const auto& t = target(h, "sync.yml");
  BOOST_TEST((t.state == status::unhealthy), t.reason);
  BOOST_TEST(t.reason == "GitHub disabled the workflow (disabled_inactivity)");
  BOOST_TEST(t.detail.at("state") == "disabled_inactivity");
  const auto r = run(sub->recover(h));
  BOOST_TEST(r.ok, r.summary);
  BOOST_TEST(backups() == 1u);
  BOOST_TEST(dispatches() == 1u);

  auto restarted = make();
  restarted->set_clock([now] { return now; });
  h = run(restarted->check());
  BOOST_TEST(target(h, "sync.yml").detail.at("last_backup").at("ok").as_bool());
  run(restarted->recover(h));
  BOOST_TEST(backups() == 1u);
  BOOST_TEST(dispatches() == 1u);

  // Enabled again and disabled again later: a new disabling, a new backup.
  serve_workflow_state(fixture::gh, "disabled_inactivity", "2026-05-09T00:00:00Z");
  h = run(restarted->check());
  run(restarted->recover(h));
  BOOST_TEST(backups() == 2u);
}

BOOST_FIXTURE_TEST_CASE(the_last_request_of_the_rate_limit_window_blocks_until_reset, fixture) {
  serve_runs({run_json(3, "failure", 10), run_json(2, "failure", 20), run_json(1, "failure", 30)});
  const auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                         (std::chrono::system_clock::now() + std::chrono::minutes(30)).time_since_epoch())
                         .count();
  // The repository answer is fine but uses the window's last request.
  fixture::gh.route(
      {{"path", "/repos/acme/site"},
       {"headers", json::object{{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", std::to_string(reset)}}},
       {"body", R"({"default_branch": "trunk"})"}});
  auto sub = make();
  auto h = run(sub->check());
  const auto& t = target(h, "sync.yml");
  BOOST_TEST((t.state == status::unknown), t.reason);
  BOOST_TEST(t.reason.find("rate-limited by GitHub (x-ratelimit-remaining: 0) until ") == 0u, t.reason);
  unsigned asked = 0;
  for (const auto& req : fixture::gh.requests())
    if (req.at("path").as_string() == runs_path) ++asked;
  BOOST_TEST(asked == 0u);
  BOOST_TEST(run(sub->recover(h)).summary == "no backup due");
  BOOST_TEST(backups() == 0u);
  BOOST_TEST(dispatches() == 0u);
}

BOOST_FIXTURE_TEST_CASE(retry_after_on_a_server_error_is_honoured, fixture) {
  serve_runs({run_json(3, "failure", 10), run_json(2, "failure", 20), run_json(1, "failure", 30)},
             {{"status", 503}, {"headers", json::object{{"retry-after", "600"}}}});
  auto sub = make();
  auto h = run(sub->check());
  BOOST_TEST((target(h, "sync.yml").state == status::unknown), target(h, "sync.yml").reason);
  BOOST_TEST(target(h, "sync.yml").reason.find("GitHub answered 503 to GET") == 0u, target(h, "sync.yml").reason);
  BOOST_TEST(run(sub->recover(h)).summary == "no backup due");
  // Within the ten minutes nothing is asked, and the answer says why.
  fixture::gh.clear();
  h = run(sub->check());
  BOOST_TEST((target(h, "sync.yml").state == status::unknown));
  BOOST_TEST(target(h, "sync.yml").reason.find("GitHub asked to retry later (503) until ") == 0u,
             target(h, "sync.yml").reason);
  BOOST_TEST(fixture::gh.requests().empty());
  BOOST_TEST(run(sub->recover(h)).summary == "no backup due");
  BOOST_TEST(backups() == 0u);
  BOOST_TEST(dispatches() == 0u);
}

// GitHub's answers are input like any other: a retry-after or reset time that would overflow the clock
// (undefined behaviour, a wait that wraps into the past) is held to an hour from now.
BOOST_FIXTURE_TEST_CASE(a_wait_github_asks_for_is_believed_for_an_hour_at_most, fixture) {
  const std::vector<std::pair<const char*, json::object>> hostile{
      {"retry-after on 429", {{"status", 429}, {"headers", json::object{{"retry-after", "9223372036854775807"}}}}},
      {"retry-after on 503", {{"status", 503}, {"headers", json::object{{"retry-after", "99999999999999"}}}}},
      {"reset far ahead",
       {{"status", 403},
        {"headers", json::object{{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "9223372036854775807"}}}}},
      {"reset in the past",
       {{"status", 403}, {"headers", json::object{{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "-5"}}}}},
  };
  for (const auto& [name, answer] : hostile) {
    BOOST_TEST_CONTEXT(name) {
      serve_runs({run_json(1, "failure", 10)}, answer);
      auto sub = make();
      const auto before = std::chrono::system_clock::now();
      auto h = run(sub->check());
      const auto& reason = target(h, "sync.yml").reason;
      BOOST_TEST((target(h, "sync.yml").state == status::unknown), reason);
      const auto at = reason.rfind(' ');
      BOOST_REQUIRE_MESSAGE(at != std::string::npos, reason);
      const auto until = from_rfc3339(reason.substr(at + 1));
      BOOST_REQUIRE_MESSAGE(until.has_value(), reason);
      BOOST_TEST((*until >= before - std::chrono::seconds(1)), reason);
      BOOST_TEST((*until <= std::chrono::system_clock::now() + std::chrono::hours(1)), reason);
    }
  }
}

namespace {

json::object pull_request_run(std::uint64_t id, const char* conclusion, int minutes_ago) {
  auto r = run_json(id, conclusion, minutes_ago);
  r["event"] = "pull_request";
  r["head_branch"] = "contributor/feature";
  return r;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(failed_pull_request_runs_and_other_branches_never_make_it_unhealthy, fixture) {
  // Pull requests of a contributor and pushes to another branch fail; the deploy branch (the
  // default branch GitHub names, "trunk") last succeeded.
  auto other_branch = run_json(5, "failure", 5);
  other_branch["head_branch"] = "experiment";
  auto trunk = run_json(1, "success", 60);
  trunk["head_branch"] = "trunk";
  serve_runs({other_branch, pull_request_run(4, "failure", 10), pull_request_run(3, "failure", 20),
              pull_request_run(2, "failure", 30), trunk});
  auto sub = make();
  auto h = run(sub->check());
  const auto& t = target(h, "sync.yml");
  BOOST_TEST((t.state == status::healthy), t.reason);
  BOOST_TEST(t.detail.at("consecutive_failures").to_number<int>() == 0);
  const auto r = run(sub->recover(h));
  BOOST_TEST(r.summary == "no backup due", r.summary);
  BOOST_TEST(backups() == 0u);
  BOOST_TEST(dispatches() == 0u);

  // Three failed pushes to the deploy branch are a failure as before.
  auto push = [](std::uint64_t id, int minutes_ago) {
    auto p = run_json(id, "failure", minutes_ago);
    p["head_branch"] = "trunk";
    return p;
  };
  serve_runs({pull_request_run(9, "success", 1), push(8, 2), push(7, 3), push(6, 4), trunk});
  h = run(sub->check());
  BOOST_TEST((target(h, "sync.yml").state == status::unhealthy), target(h, "sync.yml").reason);
  BOOST_TEST(target(h, "sync.yml").reason == "3 consecutive failures (newest: run 8 failure)");
}

BOOST_FIXTURE_TEST_CASE(emergency_and_triggers_never_run_a_pull_request_workflow_locally, fixture) {
  std::ofstream(dir / ".github/workflows/pr.yml")
      << "on: pull_request_target\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: touch "
         "\"$GITHUB_WORKSPACE/pr-ran\"\n";
  auto sub = make();
  const auto r = run(sub->emergency({}));
  BOOST_TEST(r.summary == "ran 1 workflows locally, 0 failed", r.summary);
  BOOST_REQUIRE(!r.steps.empty());
  BOOST_TEST(r.steps[0].name == "local pr.yml");
  BOOST_TEST(r.steps[0].detail ==
                 "skipped: it runs only on pull_request_target, not on the deploy branch's own "
                 "events (push, schedule, workflow_dispatch, repository_dispatch), so it is never "
                 "run locally",
             r.steps[0].detail);
  BOOST_TEST(!std::filesystem::exists(dir / "pr-ran"));
  BOOST_TEST(backups() == 1u);  // sync.yml (push, workflow_dispatch) did run

  const auto local = sub->manual("trigger", json::object{{"workflow", "pr.yml"}, {"mode", "local"}}, {});
  BOOST_REQUIRE(!local.has_value());
  BOOST_TEST(local.error().find("pr.yml: it runs only on pull_request_target") == 0u, local.error());
  // The backup order (local, then dispatch) leaves the local part out, saying why.
  auto both = sub->manual("trigger", json::object{{"workflow", "pr.yml"}}, {});
  BOOST_REQUIRE(both.has_value());
  const auto done = run((*both)());
  BOOST_REQUIRE(!done.steps.empty());
  BOOST_TEST(done.steps[0].detail.find("skipped: it runs only on pull_request_target") == 0u, done.steps[0].detail);
  BOOST_TEST(!std::filesystem::exists(dir / "pr-ran"));
  // The health shows the coverage as nothing, and why.
  const auto h = run(sub->check());
  const auto& coverage = target(h, "pr.yml").detail.at("coverage");
  BOOST_TEST(coverage.at("runnable").to_number<int>() == 0);
  BOOST_TEST(coverage.at("not_run_locally").as_string().starts_with("it runs only on"));
}
