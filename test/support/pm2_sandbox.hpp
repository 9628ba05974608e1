// The real pm2 (pinned in package.json, installed into build/npm by tools/bootstrap) for a test: a
// project folder with some of test/fixtures/pm2/apps and a private PM2_HOME, whose PM2 daemon (and every
// app pid the test saw) is killed at the end, by pid.
#pragma once
#include "redundancy/core/config.hpp"
#include "support/files.hpp"
#include "support/proc.hpp"
#include "test_paths.hpp"

#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::test {

inline const std::string pm2_bin = REDUNDANCY_BUILD_DIR "/npm/node_modules/.bin/pm2";
inline const std::filesystem::path pm2_fixtures = std::filesystem::path(REDUNDANCY_SOURCE_DIR) / "test/fixtures/pm2";

// False (and the test says it skipped) when tools/bootstrap has not installed pm2.
inline bool have_pm2() {
  if (std::filesystem::exists(pm2_bin)) return true;
  BOOST_TEST_MESSAGE("SKIPPED: no pm2 at " << pm2_bin << " (run tools/bootstrap: npm ci into build/npm)");
  return false;
}

// The pid a pid file names; 0 when it is missing or holds no number.
inline int pid_in(const std::filesystem::path& file) {
  std::ifstream in(file);
  int pid = 0;
  in >> pid;
  return pid;
}

// What a config built in code sets besides the sandbox's paths; an unset one keeps config's default.
struct pm2_settings {
  std::vector<std::string> ecosystem_files{};  // names in the project folder; none, not config's default names
  std::vector<std::string> processes{};
  std::optional<std::string> transport{};
  std::optional<std::chrono::milliseconds> interval{};
  std::optional<std::chrono::milliseconds> restart_delay{};
};

class pm2_sandbox {
 public:
  std::filesystem::path home;  // PM2_HOME
  std::filesystem::path dir;   // the project
  std::vector<int> app_pids;   // killed at the end: a SIGKILLed PM2 daemon leaves its apps behind

  // Copies `apps` (file names in test/fixtures/pm2/apps) into the project.
  explicit pm2_sandbox(std::initializer_list<std::string_view> apps) {
    // Under /tmp and short: PM2's sockets live in PM2_HOME and their path must fit sun_path.
    char h[] = "/tmp/rp2h-XXXXXX";
    char d[] = "/tmp/rp2d-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(h) && ::mkdtemp(d));
    home = h;
    dir = d;
    BOOST_REQUIRE((home / "rpc.sock").string().size() <= 107);
    for (auto app : apps) std::filesystem::copy_file(pm2_fixtures / "apps" / app, dir / app);
  }
  pm2_sandbox(const pm2_sandbox&) = delete;
  pm2_sandbox& operator=(const pm2_sandbox&) = delete;

  ~pm2_sandbox() {
    // pm2 kill (only when a daemon runs: any pm2 command would spawn one), then the daemon's pid for sure.
    int daemon = pid_in(home / "pm2.pid");
    if (daemon == ::getpid()) daemon = 0;  // a fake "daemon" (this test process) stands in for a real one
    if (alive(daemon)) pm2("kill");
    if (alive(daemon)) ::kill(daemon, SIGKILL);
    for (int p : app_pids)
      if (alive(p)) ::kill(p, SIGKILL);
    std::error_code ec;
    std::filesystem::remove_all(home, ec);
    std::filesystem::remove_all(dir, ec);
  }

  // Runs the real pm2 in the project with this PM2_HOME, for setting the scene; returns the exit status.
  int pm2(const std::string& args) const { return std::system((command(args) + " >/dev/null 2>&1").c_str()); }

  // The same, returning what it printed on stdout.
  std::string pm2_out(const std::string& args) const {
    std::string out;
    if (FILE* p = ::popen((command(args) + " 2>/dev/null").c_str(), "r")) {
      char buf[4096];
      while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
      ::pclose(p);
    }
    return out;
  }

  void write(const std::string& name, std::string_view text) const { write_text(dir / name, text); }

  // A config built in code: the project, its state folder, this pm2 and PM2_HOME, a 30 s step timeout,
  // and `s`.
  config make_config(const pm2_settings& s) const {
    config c;
    c.project_dir = dir;
    c.state_dir = dir / "state";
    c.pm2.command = {pm2_bin};
    c.pm2.home = home;
    c.pm2.timeout = std::chrono::seconds(30);
    c.pm2.ecosystem_files.clear();
    for (const auto& f : s.ecosystem_files) c.pm2.ecosystem_files.push_back(dir / f);
    c.pm2.processes = s.processes;
    if (s.transport) c.pm2.transport = *s.transport;
    if (s.interval) c.pm2.interval = *s.interval;
    if (s.restart_delay) c.pm2.restart_delay = *s.restart_delay;
    return c;
  }

  // A config read through the config reader as a project would write it: the project, "state", this
  // pm2 and PM2_HOME, then `pm2_keys` (more members of the "pm2" object, JSON) and `env`.
  config read_config(std::string_view pm2_keys, const env_lookup& env = {}) const {
    const std::string text = R"({"project_dir": ")" + dir.string() +
                             R"(", "state_dir": "state", "pm2": {"command": ")" + pm2_bin + R"(", "home": ")" +
                             home.string() + "\", " + std::string(pm2_keys) + "}}";
    auto parsed = parse_config(text, (dir / "redundancy.json").string(), env);
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), (parsed ? "" : parsed.error()));
    return *parsed;
  }

  // <project>/redundancy.json for a daemon on this sandbox: "state" and "logs", the API on loopback port
  // 0, this pm2 and PM2_HOME, GitHub and Netlify off; `pm2_keys` are more members of "pm2" and
  // `sections` more members of the whole (JSON, each list starting with a comma when not empty).
  std::filesystem::path write_daemon_config(std::string_view pm2_keys, std::string_view sections = {}) const {
    const auto file = dir / "redundancy.json";
    write_text(file, R"({"state_dir": "state", "log_dir": "logs", "http": {"listen": "127.0.0.1:0"},)"
                     R"( "github": {"enabled": false}, "netlify": {"enabled": false},)"
                     R"( "pm2": {"command": ")" +
                         pm2_bin + R"(", "home": ")" + home.string() + "\"" + std::string(pm2_keys) + "}" +
                         std::string(sections) + "}");
    return file;
  }

 private:
  // `timeout`: a pm2 that hangs fails the test instead of holding it until ctest's limit.
  std::string command(const std::string& args) const {
    return "cd '" + dir.string() + "' && PM2_HOME='" + home.string() + "' PM2_SILENT=true timeout 120 '" + pm2_bin +
           "' " + args;
  }
};

}  // namespace redundancy::test
