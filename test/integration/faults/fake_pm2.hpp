// A PM2 subsystem on the fake tool (test/helpers/fake_tool.cpp) with a fake PM2 daemon: this test
// process's pid in pm2.pid and a listening rpc.sock. Its jlist shows one online app, "web", while
// the tool's mode is "ok"; any other mode is a fault. That rpc.sock accepts and never answers, so the
// rows about the `pm2` command read with `"transport": "cli"`; "auto" makes the silent socket the fault.
#pragma once
#include "fault_project.hpp"

namespace redundancy::test {

// A jlist with one online app, as `pm2 jlist` prints it (only the fields the parser reads).
inline std::string jlist_with_web() {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return R"([{"name":"web","pid":)" + std::to_string(::getpid()) +
         R"(,"pm_id":0,"monit":{"memory":10000000,"cpu":0},"pm2_env":{"status":"online","restart_time":0,)"
         R"("unstable_restarts":0,"pm_uptime":)" +
         std::to_string(now_ms) + "}}]\n";
}

struct fake_pm2_project : fault_project {
  fs::path home{dir.path() / "pm2-home"};
  std::optional<unix_listener> rpc;

  // `command`: the pm2 command line (the fake tool by default); `orchestrator`: that config section;
  // `transport`: pm2.transport.
  explicit fake_pm2_project(std::optional<std::string> command = {},
                            const std::string& orchestrator = R"({ "interval": "300ms" })",
                            const std::string& transport = "cli") {
    fs::create_directories(home);
    // The "PM2 daemon" is this test process: a live pid and an rpc.sock that accepts.
    write_text(home / "pm2.pid", std::to_string(::getpid()));
    rpc.emplace(home / "rpc.sock");
    write_text(home / "dump.pm2", R"([{"name":"web"}])");
    write_text(tool / "stdout", jlist_with_web());
    const std::string argv = command ? "\"" + *command + "\"" : "\"" + fake_tool() + "\", \"" + tool.string() + "\"";
    configure(R"("pm2": { "home": ")" + home.string() + R"(", "processes": ["web"], "ecosystem_files": [],
                          "interval": "300ms", "timeout": "1500ms", "transport": ")" +
              transport + R"(",
                          "command": [)" +
              argv + R"(] },
                 "orchestrator": )" +
              orchestrator + R"(,
                 "github": { "enabled": false }, "netlify": { "enabled": false })");
  }
};

}  // namespace redundancy::test
