// Fault matrix, PM2 rows, against the real binary: a `pm2` that hangs, exits non-zero, prints garbage,
// prints 50 MiB or is missing (the fake tool, with a fake PM2 daemon: a live pid and a listening
// rpc.sock), and the real PM2 daemon killed in the middle of a check (real pm2, private PM2_HOME).
// Each row: the fault shows in /api/health with its reason, no child is left, every event shown is
// in the file, and the subsystem is healthy again once the fault goes.
#define BOOST_TEST_MODULE faults_pm2
#include <boost/test/unit_test.hpp>

#include "fake_pm2.hpp"

using namespace redundancy::test;

namespace {

// The common course of a row: the fault from the start, its reason in /api/health while the daemon
// answers, its children gone; then `heal`, and healthy again with both changes in the history.
void fault_then_recovery(fake_pm2_project& p, const std::string& status, const std::string& reason,
                         const std::function<void()>& heal, int health_code) {
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", status, reason), "pm2 never became " << status << " with '" << reason << "'");
  const auto answer = p.health_answer();
  BOOST_TEST(answer.status == health_code);
  // Still answering promptly while the fault lasts, several checks later.
  for (int i = 0; i < 5; ++i) {
    BOOST_TEST(p.health_answer().status == health_code);
    std::this_thread::sleep_for(200ms);
  }
  p.check_tool_children_gone();
  heal();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"), "pm2 never recovered");
  BOOST_TEST(p.health_answer().status == 200);
  BOOST_TEST(p.has_event("status_changed", "pm2 is " + status));
  BOOST_TEST(p.has_event("status_changed", "pm2 is healthy"));
  p.check_tool_children_gone();
  BOOST_TEST(!p.process->exited());
  p.stop();
  p.check_events_all_stored();
}

}  // namespace

BOOST_AUTO_TEST_CASE(pm2_that_hangs_is_not_answering_and_every_hung_process_is_ended) {
  fake_pm2_project p;
  p.mode("hang");
  fault_then_recovery(
      p, "unhealthy", "not answering", [&] { p.mode("ok"); }, 503);
  // Each hung call had a grandchild in its group: the timeout ended both.
  std::size_t recorded = 0;
  std::istringstream lines(read_text(p.tool / "pids"));
  for (std::string line; std::getline(lines, line);) ++recorded;
  BOOST_TEST(recorded >= 2u);
  BOOST_TEST(live_pids_in(p.tool / "pids").empty());
}

BOOST_AUTO_TEST_CASE(pm2_that_exits_non_zero_names_the_exit_and_its_message) {
  fake_pm2_project p;
  p.mode("exit 3");
  fault_then_recovery(
      p, "unknown", "pm2 jlist failed: exit 3: fake_tool: failing on purpose", [&] { p.mode("ok"); }, 200);
}

BOOST_AUTO_TEST_CASE(pm2_that_prints_garbage_is_unknown_not_a_crash) {
  fake_pm2_project p;
  p.mode("garbage");
  fault_then_recovery(
      p, "unknown", "pm2 jlist output unreadable", [&] { p.mode("ok"); }, 200);
}

BOOST_AUTO_TEST_CASE(pm2_that_prints_50_mib_is_capped_and_ignored) {
  fake_pm2_project p;
  p.mode("huge 52428800");
  fault_then_recovery(
      p, "unknown", "pm2 jlist printed more than",
      [&] {
        // The cap holds: 50 MiB per check, several times over, and the daemon did not keep it.
        const auto rss = p.get("/api/status").at("daemon").at("rss_bytes").to_number<std::int64_t>();
#ifdef __SANITIZE_ADDRESS__
        // ASan keeps freed memory in quarantine (256 MiB by default): RSS says nothing about the cap here.
        BOOST_TEST_MESSAGE("SKIPPED under ASan: rss " << rss << " not compared with 100 MiB");
#else
        BOOST_TEST(rss < 100 * 1024 * 1024, "rss " << rss);
#endif
        p.mode("ok");
      },
      200);
}

BOOST_AUTO_TEST_CASE(pm2_that_is_missing_says_not_installed_until_it_appears) {
  temp_dir bin;
  const auto pm2 = bin.path() / "pm2";
  fake_pm2_project p(pm2.string());
  fault_then_recovery(
      p, "unhealthy", "pm2 is not installed",
      [&] {
        // The tool appears: a script that hands over to the fake tool with its state folder.
        write_text(pm2, "#!/bin/sh\nexec '" + p.fake_tool() + "' '" + p.tool.string() + "' \"$@\"\n");
        fs::permissions(pm2, fs::perms::owner_all);
      },
      503);
}

BOOST_AUTO_TEST_CASE(rpc_sock_that_accepts_and_never_answers_falls_back_to_jlist_and_says_so) {
  // The fake daemon's rpc.sock accepts and stays silent: in "auto" each check gives getMonitorData
  // its share of the timeout, then reads with `pm2 jlist` and says why (degraded, not unhealthy).
  fake_pm2_project p({}, R"({ "interval": "300ms" })", "auto");
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "degraded", "getMonitorData over rpc.sock failed (timed_out)"));
  BOOST_TEST(p.summary("pm2").find("read with pm2 jlist") != std::string::npos, p.summary("pm2"));
  for (int i = 0; i < 5; ++i) {
    BOOST_TEST(p.health_answer().status == 200);
    std::this_thread::sleep_for(200ms);
  }
  // The app itself was read and judged through the fallback.
  const auto web = p.get("/api/subsystems/pm2");
  BOOST_TEST(json::serialize(web).find(R"("source":"jlist")") != std::string::npos, json::serialize(web));
  BOOST_TEST(p.has_event("status_changed", "pm2 is degraded"));
  p.check_tool_children_gone();
  BOOST_TEST(!p.process->exited());
  p.stop();
  p.check_events_all_stored();
}

namespace {

const std::string pm2_bin = REDUNDANCY_BUILD_DIR "/npm/node_modules/.bin/pm2";

// The real pm2 with a private PM2_HOME (short: rpc.sock must fit sun_path), killed at the end.
struct real_pm2 {
  fs::path home;
  explicit real_pm2() {
    char h[] = "/tmp/rfh-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(h));
    home = h;
  }
  ~real_pm2() {
    if (daemon_pid() > 0) run("kill");
    if (const int pid = daemon_pid(); pid > 0) ::kill(pid, SIGKILL);
    std::error_code ec;
    fs::remove_all(home, ec);
  }
  int run(const std::string& args, const fs::path& cwd = "/") const {
    const std::string cmd = "cd '" + cwd.string() + "' && PM2_HOME='" + home.string() + "' PM2_SILENT=true '" +
                            pm2_bin + "' " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str());
  }
  int daemon_pid() const {
    const auto text = read_text(home / "pm2.pid");
    try {
      return text.empty() ? 0 : std::stoi(text);
    } catch (const std::exception&) {
      return 0;
    }
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(pm2_daemon_killed_mid_check_is_reported_and_resurrected) {
  if (!fs::exists(pm2_bin)) {
    BOOST_TEST_MESSAGE("SKIPPED: no pm2 at " << pm2_bin << " (run tools/bootstrap)");
    return;
  }
  real_pm2 pm2;
  fault_project p;
  // The app notes its pid: the one the killed PM2 daemon leaves orphaned is ended by the test.
  const auto web_pids = p.dir.path() / "web.pids";
  write_text(p.dir.path() / "web.js", "require('fs').appendFileSync('" + web_pids.string() +
                                          "', process.pid + '\\n');\nsetInterval(() => {}, 1000);\n");
  struct end_web {
    fs::path file;
    ~end_web() {
      std::istringstream lines(read_text(file));
      for (std::string line; std::getline(lines, line);)
        if (!line.empty()) ::kill(std::stoi(line), SIGKILL);
    }
  } web_cleanup{web_pids};
  BOOST_REQUIRE(pm2.run("start web.js --name web", p.dir.path()) == 0);
  BOOST_REQUIRE(pm2.run("save") == 0);
  p.configure(R"("pm2": { "home": ")" + pm2.home.string() + R"(", "processes": ["web"], "ecosystem_files": [],
                          "interval": "300ms", "timeout": "20s", "restart_delay": "100ms",
                          "command": [")" +
              pm2_bin + R"("] },
                 "orchestrator": { "interval": "300ms" },
                 "github": { "enabled": false }, "netlify": { "enabled": false })");
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"));
  // Checks run back to back (300 ms apart, each a `pm2 jlist` of a few hundred ms): the kill lands in
  // the middle of one, or between two.
  const int first = pm2.daemon_pid();
  BOOST_REQUIRE(first > 0);
  BOOST_REQUIRE(::kill(first, SIGKILL) == 0);
  // Whether the kill lands in a `pm2 jlist` (which then hangs until pm2.timeout) or between two, pm2
  // turns unhealthy: "not answering" or "PM2 daemon is not running".
  BOOST_TEST_REQUIRE(p.wait_for_event("status_changed", "pm2 is unhealthy"));
  BOOST_TEST(p.health_answer().status != 0);
  // Automatic recovery resurrects the daemon and its app.
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy", "", 90s));
  BOOST_TEST(pm2.daemon_pid() != first);
  BOOST_TEST(p.wait_for_event("action_finished", "recover succeeded"));
  // The daemon's children now: only detached daemons (the new PM2 daemon, re-parented to it as
  // subreaper, in a session of its own); no `pm2` command of a check or of the recovery is left.
  const auto session_of = [](int pid) {
    const auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 > stat.size()) return pid;  // gone meanwhile
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    int ppid = 0, pgrp = 0, session = 0;
    rest >> state >> ppid >> pgrp >> session;
    return session;
  };
  BOOST_TEST(wait_for(
      [&] {
        for (const auto child : children_of(p.process->pid()))
          if (child != pm2.daemon_pid() && session_of(child) != child) return false;
        return true;
      },
      30s));
  p.stop();
  p.check_events_all_stored();
}
