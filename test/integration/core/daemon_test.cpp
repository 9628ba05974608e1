// The real binary: config errors exit 2 naming the key, `config check` redacts, the daemon starts,
// answers, reloads on SIGHUP and stops on SIGTERM within 2 s leaving no child behind.
#define BOOST_TEST_MODULE daemon
#include <boost/test/unit_test.hpp>

#include "support/daemon.hpp"

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
