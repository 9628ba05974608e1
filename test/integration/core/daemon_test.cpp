// The real binary: config errors exit 2 naming the key, `config check` redacts, the daemon starts,
// answers, reloads on SIGHUP and stops on SIGTERM within 2 s leaving no child behind.
#define BOOST_TEST_MODULE daemon
#include <boost/test/unit_test.hpp>

#include "support/daemon.hpp"

#include <sys/prctl.h>

using namespace redundancy::test;
using namespace std::chrono_literals;

namespace {

// A project with nothing to watch and every subsystem off, listening on a free port.
std::string quiet_config(const std::filesystem::path& dir, std::string_view extra = "") {
  return R"({
    "project_dir": ")" + dir.string() + R"(",
    "state_dir": "state", "log_dir": "logs",
    "http": { "listen": "127.0.0.1:0" },
    "pm2": { "enabled": false }, "github": { "enabled": false }, "netlify": { "enabled": false },
    )" + std::string(extra) + R"(
    "orchestrator": { "interval": "1s" }
  })";
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_bad_config_exits_2_naming_the_file_and_key) {
  temp_dir dir;
  const auto file = dir.path() / "redundancy.json";
  write_text(file, R"({ "pm2": { "interval": "fast" } })");
  auto r = run_binary({"config", "check", "--config", file.string()});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("pm2.interval") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("fast") != std::string::npos, r.err);
  BOOST_TEST(r.err.find(file.string()) != std::string::npos, r.err);

  // The daemon refuses to start on it too, and starts nothing.
  r = run_binary({"run", "--config", file.string()});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("pm2.interval") != std::string::npos, r.err);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "automation"));
}

BOOST_AUTO_TEST_CASE(an_unknown_key_and_a_bad_override_are_errors) {
  temp_dir dir;
  const auto file = dir.path() / "redundancy.json";
  write_text(file, R"({ "http": { "lisen": "127.0.0.1:1" } })");
  auto r = run_binary({"config", "check", "--config", file.string()});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("http.lisen") != std::string::npos, r.err);

  write_text(file, "{}");
  r = run_binary({"config", "check", "--config", file.string()}, {{"REDUNDANCY_PM2__MAX_RESTART_ATTEMPTS", "many"}});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("max_restart_attempts") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(config_check_prints_the_effective_config_with_secrets_redacted) {
  temp_dir dir;
  const auto file = dir.path() / "redundancy.json";
  write_text(file, R"({
    // comments and trailing commas are fine
    "netlify": { "build_hook_url": "https://api.netlify.com/build_hooks/SECRET123", },
    "notify": { "webhooks": ["https://hooks.example/SECRET456"] },
  })");
  auto r = run_binary({"config", "check", "--config", file.string()}, {{"REDUNDANCY_PM2__INTERVAL", "10s"}});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("SECRET") == std::string::npos, r.out);
  BOOST_TEST(r.out.find("\"10s\"") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("redacted") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_and_help_exits_0) {
  BOOST_TEST(run_binary({"no-such-command"}).exit_code == 2);
  BOOST_TEST(run_binary({}).exit_code == 2);
  auto help = run_binary({"--help"});
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(help.out.find("run") != std::string::npos);
  auto version = run_binary({"--version"});
  BOOST_TEST(version.exit_code == 0);
  BOOST_TEST(version.out.find("redundancy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_daemon_serves_reloads_and_stops_on_sigterm_within_2s) {
  temp_dir dir;
  const auto file = dir.path() / "redundancy.json";
  write_text(file, quiet_config(dir.path()));
  daemon_process d(file, dir.path());
  const auto address = d.wait_for_address(dir.path() / "state");
  auto health = http_get(address, "/api/health");
  BOOST_TEST(health.status == 200, health.body);
  BOOST_TEST(health.body.find("\"status\"") != std::string::npos);
  // The token file is created on first start, 0600.
  const auto token = dir.path() / "state" / "token";
  BOOST_TEST(std::filesystem::exists(token));
  BOOST_TEST(((std::filesystem::status(token).permissions() & std::filesystem::perms::group_all) ==
              std::filesystem::perms::none));

  // An invalid config on SIGHUP is refused and the daemon keeps running.
  write_text(file, R"({ "pm2": { "interval": "fast" } })");
  ::kill(d.pid(), SIGHUP);
  std::this_thread::sleep_for(300ms);
  BOOST_TEST(!d.exited());
  BOOST_TEST(d.err().find("reload refused") != std::string::npos, d.err());
  BOOST_TEST(http_get(address, "/api/health").status == 200);

  const auto took = d.signal_and_wait(SIGTERM, 2s);
  BOOST_REQUIRE(took.has_value());
  BOOST_TEST(d.exit_code() == 0);
  BOOST_TEST(members_of_group(d.pid()).empty());
}

namespace {

// The processes whose command line mentions `word`, among the children of `parent`.
std::vector<pid_t> children_running(pid_t parent, std::string_view word) {
  std::vector<pid_t> found;
  for (auto pid : children_of(parent)) {
    auto cmdline = read_text("/proc/" + std::to_string(pid) + "/cmdline");
    if (cmdline.find(word) != std::string::npos) found.push_back(pid);
  }
  return found;
}

bool alive_and_not_zombie(pid_t pid) {
  auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigterm_during_a_recovery_ends_its_whole_process_group_within_2s) {
  // Orphans of the daemon's children come to this test rather than to a PID 1 that may never reap them,
  // so that "nothing left" can tell a live process from a reaped one.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  temp_dir dir;
  const auto file = dir.path() / "redundancy.json";
  // No PM2 daemon runs in this PM2_HOME, so the recovery runs daemon_restart_command: a shell whose
  // background child would outlive it if only the shell were killed.
  write_text(file, R"({
    "project_dir": ")" + dir.path().string() + R"(",
    "state_dir": "state", "log_dir": "logs",
    "http": { "listen": "127.0.0.1:0" },
    "pm2": { "home": "pm2-home", "processes": ["api"], "ecosystem_files": [], "interval": "1h", "timeout": "1m",
             "daemon_restart_command": ["sh", "-c", "sleep 300 & sleep 301; echo done"] },
    "github": { "enabled": false }, "netlify": { "enabled": false }
  })");
  std::filesystem::create_directories(dir.path() / "pm2-home");
  daemon_process d(file, dir.path());
  d.wait_for_address(dir.path() / "state");

  std::vector<pid_t> shells;
  for (int i = 0; i < 1000 && shells.empty(); ++i) {
    shells = children_running(d.pid(), "sleep 301");
    std::this_thread::sleep_for(10ms);
  }
  BOOST_REQUIRE_MESSAGE(!shells.empty(), "the recovery never started its command; stderr:\n" + d.err());
  const pid_t group = shells.front();  // the runner makes each child the leader of its own group
  std::vector<pid_t> members;
  for (int i = 0; i < 200 && members.size() < 3; ++i) {
    members = members_of_group(group);
    std::this_thread::sleep_for(10ms);
  }
  BOOST_TEST(members.size() >= 2u);  // the shell and its sleeps

  const auto took = d.signal_and_wait(SIGTERM, 2s);
  BOOST_REQUIRE_MESSAGE(took.has_value(), "the daemon did not exit within 2 s of SIGTERM");
  BOOST_TEST(d.exit_code() == 0);
  // Reap whatever was orphaned to us, then nothing of that group may still run.
  for (int i = 0; i < 50; ++i) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    std::this_thread::sleep_for(10ms);
  }
  for (auto pid : members) BOOST_TEST(!alive_and_not_zombie(pid), "pid " << pid << " survived");
  BOOST_TEST(d.err().find("stopped") != std::string::npos);
}
