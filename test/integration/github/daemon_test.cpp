// The github subsystem inside the real daemon: POST /api/github/trigger takes only the name of a
// watched workflow (a path, a symlink out of the folder, a file outside github.workflows are 404
// naming the watched ones, and their steps never run); a step's process that left its process group
// (`setsid ... &`) is ended when the daemon stops, and by the next start after a SIGKILL; a stopped
// run leaves no runner temp folder.
#define BOOST_TEST_MODULE github_daemon
#include "support/daemon.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "support/proc.hpp"

using namespace redundancy::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view token = "test-token-github-0123456789";

// A project with two workflows in its folder and a daemon watching `listed` of them (all when
// empty); GitHub itself is not asked (no github.repository).
struct project {
  temp_dir dir;
  fs::path config_file{dir.path() / "redundancy.json"};
  fs::path workflows{dir.path() / ".github/workflows"};
  std::optional<daemon_process> process;
  std::string address;

  explicit project(json::array listed = {}) {
    write_text(workflows / "sync.yml",
               "on: push\njobs:\n  sync:\n    runs-on: x\n    steps:\n      - run: echo synced >> "
               "\"$GITHUB_WORKSPACE/synced.txt\"\n");
    write_text(workflows / "plain.yml",
               "on: push\njobs:\n  plain:\n    runs-on: x\n    steps:\n      - run: echo plain >> "
               "\"$GITHUB_WORKSPACE/plain.txt\"\n");
    json::object github{{"interval", "1h"}};
    if (!listed.empty()) github["workflows"] = std::move(listed);
    write_text(config_file, json::serialize(json::object{{"project_dir", dir.path().string()},
                                                         {"state_dir", "state"},
                                                         {"log_dir", "logs"},
                                                         {"http", json::object{{"listen", "127.0.0.1:0"}}},
                                                         {"orchestrator", json::object{{"auto_recovery", false}}},
                                                         {"github", std::move(github)},
                                                         {"pm2", json::object{{"enabled", false}}},
                                                         {"netlify", json::object{{"enabled", false}}}}));
  }

  void start() {
    fs::remove(dir.path() / "state" / "http.addr");
    process.emplace(config_file, dir.path(),
                    std::map<std::string, std::string>{{"REDUNDANCY_TOKEN", std::string(token)}});
    address = process->wait_for_address(dir.path() / "state");
  }

  http_answer trigger(const std::string& workflow) {
    return http_post(address, "/api/github/trigger",
                     json::serialize(json::object{{"workflow", workflow}, {"mode", "local"}}), std::string(token));
  }

  // Waits for the action to finish; its JSON.
  json::object finished(std::int64_t id) {
    json::object action;
    const bool done = eventually(
        [&] {
          const auto answer = http_get(address, "/api/actions/" + std::to_string(id));
          if (answer.status != 200) return false;
          action = json::parse(answer.body).as_object();
          return !action.at("finished_at").is_null();
        },
        60s);
    BOOST_TEST_REQUIRE(done, "action " << id << " did not finish");
    return action;
  }
};

std::int64_t action_id(const http_answer& a) { return json::parse(a.body).at("action_id").to_number<std::int64_t>(); }

bool gone(pid_t pid) { return !pid_exists(pid) || is_zombie(pid); }

}  // namespace

BOOST_AUTO_TEST_CASE(trigger_takes_only_the_name_of_a_watched_workflow) {
  project p(json::array{"sync.yml", "link.yml"});
  temp_dir outside;
  const auto marker = outside.path() / "evil-ran";
  const auto evil = outside.path() / "evil.yml";
  write_text(evil,
             "on: push\njobs:\n  evil:\n    runs-on: x\n    steps:\n      - run: touch '" + marker.string() + "'\n");
  fs::create_symlink(evil, p.workflows / "link.yml");
  p.start();

  // The daemon's cwd is the test's: a relative path climbs from there to the file.
  const std::string climbing = "../../../../../../../../.." + evil.string();
  const std::string known = "; the watched workflows are sync.yml";
  for (const std::string& name : {evil.string(), climbing, std::string("plain.yml"), std::string("plain"),
                                  std::string("../workflows/plain.yml")}) {
    const auto answer = p.trigger(name);
    BOOST_TEST(answer.status == 404, name << ": " << answer.status << " " << answer.body);
    const std::string message(json::parse(answer.body).at("error").at("message").as_string());
    BOOST_TEST(message == "no workflow '" + name + "' in " + p.workflows.string() + known, message);
  }
  const auto link = p.trigger("link.yml");
  BOOST_TEST(link.status == 404, link.body);
  BOOST_TEST(link.body.find("workflow 'link.yml' is a symlink to " + evil.string() + ", outside ") != std::string::npos,
             link.body);
  // The refused link is in the health, not watched.
  const auto status = http_get(p.address, "/api/status");
  BOOST_TEST(status.body.find("not watched") != std::string::npos, status.body);

  // The watched one runs.
  const auto ok = p.trigger("sync");
  BOOST_TEST_REQUIRE(ok.status == 202, ok.body);
  const auto action = p.finished(action_id(ok));
  BOOST_TEST(action.at("state") == "succeeded", json::serialize(action));
  BOOST_TEST(read_text(p.dir.path() / "synced.txt") == "synced\n");
  BOOST_TEST(!fs::exists(p.dir.path() / "plain.txt"));
  BOOST_TEST(!fs::exists(marker));
}

BOOST_AUTO_TEST_CASE(a_process_that_left_its_step_group_ends_with_the_daemon) {
  project p;
  const auto pid_file = p.dir.path() / "detached.pid";
  write_text(p.workflows / "detach.yml", R"yaml(on: push
jobs:
  detach:
    runs-on: x
    steps:
      - run: |
          echo "$RUNNER_TEMP" > "$GITHUB_WORKSPACE/runner-temp.txt"
          setsid sh -c 'echo $$ > "$GITHUB_WORKSPACE/detached.pid.tmp"; mv "$GITHUB_WORKSPACE/detached.pid.tmp" "$GITHUB_WORKSPACE/detached.pid"; exec sleep 302' > /dev/null 2>&1 &
          sleep 120
)yaml");
  const auto detached = [&] {
    BOOST_TEST_REQUIRE(eventually([&] { return fs::exists(pid_file); }, 30s));
    const pid_t pid = std::stoi(read_text(pid_file));
    fs::remove(pid_file);
    BOOST_TEST_REQUIRE(pid > 1);
    return pid;
  };
  // Whatever happens, the test ends the processes it saw started, by pid.
  struct by_pid {
    std::vector<pid_t> pids;
    ~by_pid() {
      for (const pid_t pid : pids)
        if (!gone(pid)) ::kill(pid, SIGKILL);
    }
    void push_back(pid_t pid) { pids.push_back(pid); }
    pid_t back() const { return pids.back(); }
  } started;

  // SIGTERM while the job runs.
  p.start();
  BOOST_TEST_REQUIRE(p.trigger("detach.yml").status == 202);
  started.push_back(detached());
  BOOST_TEST(!gone(started.back()));
  BOOST_TEST(p.process->signal_and_wait(SIGTERM, 20s).has_value());
  BOOST_TEST(eventually([&] { return gone(started.back()); }, 10s),
             "the detached process " << started.back() << " outlived the daemon's stop");
  // The stopped run's temp folder (its steps' unmasked output) went with it.
  const fs::path runner_temp =
      read_text(p.dir.path() / "runner-temp.txt").substr(0, read_text(p.dir.path() / "runner-temp.txt").find('\n'));
  BOOST_TEST(runner_temp.filename().string().starts_with("redundancy-runner-"), runner_temp);
  BOOST_TEST(!fs::exists(runner_temp), runner_temp << " was left behind");

  // SIGKILL while the job runs: the process outlives the daemon, and the next start ends it.
  p.start();
  BOOST_TEST_REQUIRE(p.trigger("detach.yml").status == 202);
  started.push_back(detached());
  BOOST_TEST(p.process->signal_and_wait(SIGKILL, 20s).has_value());
  std::this_thread::sleep_for(300ms);
  BOOST_TEST_REQUIRE(!gone(started.back()));
  p.start();
  BOOST_TEST(eventually([&] { return gone(started.back()); }, 10s),
             "the next start left the detached process " << started.back() << " running");
  const auto events = http_get(p.address, "/api/events?limit=100");
  BOOST_TEST(events.body.find("leftover_children_ended") != std::string::npos, events.body);
  // A SIGKILLed run cannot remove its runner temp folder; the next start does, its maker being gone.
  const auto killed_text = read_text(p.dir.path() / "runner-temp.txt");
  const fs::path killed_temp = killed_text.substr(0, killed_text.find('\n'));
  BOOST_TEST_REQUIRE(killed_temp.filename().string().starts_with("redundancy-runner-"), killed_temp);
  BOOST_TEST(!fs::exists(killed_temp), killed_temp << " was left behind after the restart");
  std::error_code ignored;
  fs::remove_all(killed_temp, ignored);  // when the check above failed
}
