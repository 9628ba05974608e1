// The orchestrator's process-level promises on the real binary: 409 on a second emergency while one
// runs; SIGKILL in the middle of an emergency leaves it `interrupted` with its attempt counted and no
// second recovery after the restart; a history file that cannot be opened, or that is locked while
// the daemon runs, is a loud error state in /api/health while the daemon stays up.
//
// The PM2 subsystem is the failing one: no PM2 daemon in its PM2_HOME (unhealthy), a dump.pm2 so its
// emergency runs `pm2 resurrect`, and a fake `pm2` that records its calls and, while a `hang` file
// exists, sleeps in `resurrect` (its 60 s timeout is longer than the test needs) with its pid in a file
// so the test can end it.
#define BOOST_TEST_MODULE orchestrator_daemon
#include <boost/test/unit_test.hpp>

#include "support/daemon.hpp"
#include "support/proc.hpp"

#include <boost/json/parse.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

using namespace redundancy::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view token = "test-token-0123456789";

// proc.hpp's polling with a limit for a whole daemon at work on a loaded machine.
bool within_30s(const std::function<bool()>& done) { return redundancy::test::eventually(done, 30s); }

std::size_t occurrences(const std::string& text, const std::string& word) {
  std::size_t n = 0;
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

struct project {
  temp_dir dir;
  fs::path config_file{dir.path() / "redundancy.json"};
  fs::path calls{dir.path() / "pm2-calls.txt"};
  fs::path hang{dir.path() / "hang"};
  fs::path sleeper{dir.path() / "pm2-sleeper.pid"};
  std::optional<daemon_process> process;
  std::string address;

  explicit project(const std::string& orchestrator_json) {
    fs::create_directories(dir.path() / "pm2-home");
    write_text(dir.path() / "pm2-home" / "dump.pm2", R"([{"name": "api"}])");
    const auto fake = dir.path() / "fake-pm2";
    write_text(fake,
               "#!/bin/sh\n"
               "echo \"$*\" >> '" +
                   calls.string() +
                   "'\n"
                   "if [ \"$1\" = resurrect ] && [ -e '" +
                   hang.string() +
                   "' ]; then\n"
                   "  echo $$ > '" +
                   sleeper.string() +
                   "'\n"
                   "  exec sleep 120\n"
                   "fi\n"
                   "exit 0\n");
    fs::permissions(fake, fs::perms::owner_all);
    write_text(config_file, R"({
      "project_dir": ")" + dir.path().string() +
                                R"(",
      "state_dir": "state", "log_dir": "logs",
      "http": { "listen": "127.0.0.1:0" },
      "pm2": { "home": "pm2-home", "processes": ["api"], "ecosystem_files": [], "interval": "200ms",
               "timeout": "60s", "command": [")" +
                                fake.string() + R"("] },
      "orchestrator": )" + orchestrator_json +
                                R"(,
      "github": { "enabled": false }, "netlify": { "enabled": false }
    })");
  }
  ~project() {
    end_sleeper();
    process.reset();
  }

  void start() {
    fs::remove(dir.path() / "state" / "http.addr");
    process.emplace(config_file, dir.path(),
                    std::map<std::string, std::string>{{"REDUNDANCY_TOKEN", std::string(token)}});
    address = process->wait_for_address(dir.path() / "state");
  }

  // The fake pm2 sleeping in `resurrect`, which a SIGKILLed daemon leaves behind.
  void end_sleeper() {
    const auto text = read_text(sleeper);
    if (text.empty()) return;
    const pid_t pid = std::stoi(text);
    if (pid > 1) ::kill(pid, SIGKILL);
    fs::remove(sleeper);
  }

  json::value get(const std::string& path) {
    auto answer = http_get(address, path);
    BOOST_TEST_REQUIRE(answer.status != 0, path << ": no answer");
    return json::parse(answer.body);
  }

  std::vector<json::object> emergency_actions() {
    std::vector<json::object> out;
    const auto body = get("/api/actions?subsystem=orchestrator");  // kept: the loop reads into it
    for (const auto& a : body.at("actions").as_array())
      if (a.at("kind").as_string() == "emergency") out.push_back(a.as_object());
    return out;
  }

  bool has_event(const std::string& kind, std::size_t at_least = 1) {
    std::size_t n = 0;
    const auto body = get("/api/events?limit=1000");
    for (const auto& e : body.at("events").as_array())
      if (e.at("kind").as_string() == kind) ++n;
    return n >= at_least;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_second_emergency_request_while_one_runs_gets_409_with_the_running_action) {
  project p(R"({ "auto_recovery": false })");
  write_text(p.hang, "");
  p.start();
  auto first = http_post(p.address, "/api/emergency", "{}", std::string(token));
  BOOST_TEST_REQUIRE(first.status == 202, first.body);
  const auto id = json::parse(first.body).at("action_id").as_int64();
  BOOST_REQUIRE(within_30s([&] { return read_text(p.calls).find("resurrect") != std::string::npos; }));

  auto second = http_post(p.address, "/api/emergency", "{}", std::string(token));
  BOOST_TEST(second.status == 409, second.body);
  const auto body = json::parse(second.body);
  BOOST_TEST(body.at("error").at("code").as_string() == "conflict");
  BOOST_TEST(body.at("action_id").as_int64() == id);
  const auto health = p.get("/api/health");
  BOOST_TEST(health.at("emergency").at("running_action").as_int64() == id);
  BOOST_TEST(p.emergency_actions().size() == 1u);

  // Once it ends, a new request is accepted again.
  fs::remove(p.hang);
  p.end_sleeper();
  BOOST_REQUIRE(within_30s([&] { return p.get("/api/actions/" + std::to_string(id)).at("finished_at").is_string(); }));
  auto third = http_post(p.address, "/api/emergency", "{}", std::string(token));
  BOOST_TEST(third.status == 202, third.body);
}

BOOST_AUTO_TEST_CASE(sigkill_mid_emergency_leaves_it_interrupted_keeps_the_count_and_does_not_repeat) {
  // One unhealthy subsystem is enough with a threshold of 1; one attempt allowed.
  project p(R"({ "emergency_threshold": 1, "max_recovery_attempts": 1, "interval": "200ms" })");
  write_text(p.hang, "");
  p.start();
  BOOST_REQUIRE(within_30s([&] { return read_text(p.calls).find("resurrect") != std::string::npos; }));
  auto running = p.emergency_actions();
  BOOST_TEST_REQUIRE(running.size() == 1u);
  BOOST_TEST(running[0].at("state").as_string() == "running");
  BOOST_TEST(p.get("/api/health").at("emergency").at("attempts").as_int64() == 1);
  const auto id = running[0].at("id").as_int64();

  BOOST_REQUIRE(p.process->signal_and_wait(SIGKILL, 10s).has_value());
  p.end_sleeper();
  fs::remove(p.hang);
  p.start();

  // The next life sees the same failing project: it must not try again (the one attempt is spent).
  BOOST_REQUIRE(within_30s([&] { return p.has_event("emergency_given_up"); }));
  const auto health = p.get("/api/health");
  BOOST_TEST(health.at("status").as_string() == "emergency");
  BOOST_TEST(health.at("emergency").at("attempts").as_int64() == 1);
  BOOST_TEST(health.at("emergency").at("given_up").as_bool());
  // A few more checks and evaluations later, still nothing new.
  BOOST_REQUIRE(within_30s([&] { return p.has_event("daemon_started", 2); }));
  std::this_thread::sleep_for(1s);
  const auto actions = p.emergency_actions();
  BOOST_TEST_REQUIRE(actions.size() == 1u);
  BOOST_TEST(actions[0].at("id").as_int64() == id);
  BOOST_TEST(actions[0].at("state").as_string() == "interrupted");
  BOOST_TEST(actions[0].at("finished_at").is_string());
  BOOST_TEST(occurrences(read_text(p.calls), "resurrect") == 1u);
  // Neither did a per-subsystem recovery run in its place.
  BOOST_TEST(p.get("/api/actions?subsystem=pm2").at("actions").as_array().empty());
}

BOOST_AUTO_TEST_CASE(a_history_file_that_cannot_be_opened_is_an_error_state_and_the_daemon_stays_up) {
  project p(R"({ "auto_recovery": false })");
  // In the way of the database file, whoever runs the test (root ignores file modes).
  fs::create_directories(p.dir.path() / "state" / "redundancy.db");
  p.start();
  BOOST_REQUIRE(within_30s([&] { return p.get("/api/health").at("status").as_string() != "starting"; }));
  auto health = http_get(p.address, "/api/health");
  BOOST_TEST(health.status == 503);  // pm2 is down; the history problem shows beside it
  const auto body = json::parse(health.body);
  const auto& history = body.at("history");
  BOOST_TEST(!history.at("ok").as_bool());
  BOOST_TEST(history.at("in_memory").as_bool());
  BOOST_TEST(history.at("error").as_string().find("redundancy.db") != json::string::npos);
  BOOST_TEST(!p.get("/api/status").at("history").at("ok").as_bool());
  BOOST_TEST(p.process->err().find("HISTORY UNAVAILABLE") != std::string::npos);
  // It still serves, watches and records this life's events in memory.
  BOOST_TEST(p.has_event("daemon_started"));
  auto paused = http_post(p.address, "/api/pause", R"({"target":"pm2","for":"10m"})", std::string(token));
  BOOST_TEST(paused.status == 200, paused.body);
  auto degraded = http_get(p.address, "/api/health");
  BOOST_TEST(degraded.status == 200);
  BOOST_TEST(json::parse(degraded.body).at("status").as_string() == "degraded");
  BOOST_TEST(!p.process->exited());
}

BOOST_AUTO_TEST_CASE(a_history_file_that_refuses_writes_is_an_error_state_until_it_works_again) {
  project p(R"({ "auto_recovery": false, "interval": "200ms" })");
  p.start();
  BOOST_REQUIRE(within_30s([&] { return p.get("/api/health").at("status").as_string() != "starting"; }));
  BOOST_TEST(p.get("/api/health").at("history").at("ok").as_bool());

  // Another connection holds the write lock: every write of the daemon fails (after its 1 s busy wait).
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open((p.dir.path() / "state" / "redundancy.db").c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  BOOST_REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto paused =
      http_post(p.address, "/api/pause", R"({"target":"pm2","for":"10m","reason":"locked"})", std::string(token));
  BOOST_TEST(paused.status == 200, paused.body);
  const auto health = p.get("/api/health");
  BOOST_TEST(health.at("status").as_string() == "degraded");
  BOOST_TEST(!health.at("history").at("ok").as_bool());
  BOOST_TEST(health.at("history").at("error").as_string().find("locked") != json::string::npos);
  BOOST_TEST(p.has_event("paused"));  // kept in memory meanwhile
  BOOST_TEST(!p.process->exited());

  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  BOOST_REQUIRE(within_30s([&] { return p.get("/api/health").at("history").at("ok").as_bool(); }));
  BOOST_REQUIRE(within_30s([&] { return p.get("/api/health").at("history").at("unsaved_events").as_int64() == 0; }));
  BOOST_TEST(p.process->err().find("HISTORY UNAVAILABLE") != std::string::npos);
  // The event and the pause are in the file now: they survive a restart.
  BOOST_REQUIRE(p.process->signal_and_wait(SIGTERM, 10s).has_value());
  p.start();
  BOOST_TEST(p.has_event("paused"));
  BOOST_TEST(p.get("/api/status").at("subsystems").at("pm2").at("paused_until").is_string());
}
