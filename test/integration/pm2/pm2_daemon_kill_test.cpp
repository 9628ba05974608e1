// `pm2 kill` under a running redundancy daemon: PM2 first deletes the apps, then its daemon exits. A
// repair started in between talks to a daemon that is going away and would hang until pm2.timeout; the
// subsystem waits for the daemon to be gone instead and brings the apps back in about PM2's own time.
#define BOOST_TEST_MODULE pm2_daemon_kill
#include <boost/test/unit_test.hpp>

#include "redundancy/core/process.hpp"
#include "redundancy/pm2/jlist.hpp"
#include "redundancy/pm2/pm2_subsystem.hpp"
#include "redundancy/pm2/rpc_client.hpp"
#include "support/daemon.hpp"
#include "support/pm2_rpc_list.hpp"
#include "support/pm2_sandbox.hpp"
#include "support/proc.hpp"
#include "test_paths.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_future.hpp>

#include <spawn.h>
#include <sys/wait.h>

#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

using namespace redundancy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace redundancy::pm2 {
std::ostream& operator<<(std::ostream& os, pm2_state s) { return os << to_string(s); }
}  // namespace redundancy::pm2

namespace {

using test::alive;
using test::have_pm2;
using test::pid_in;

// A project with ok.js; every app pid seen over rpc.sock is killed at the end.
struct sandbox : test::pm2_sandbox {
  sandbox() : test::pm2_sandbox({"ok.js"}) {}

  bool online(std::initializer_list<std::string_view> names) {
    auto list = test::apps_over_rpc(*this);
    for (auto n : names)
      if (std::none_of(list.begin(), list.end(),
                       [&](const auto& a) { return a.name == n && a.status == pm2::app_status::online; }))
        return false;
    return true;
  }
};

}  // namespace

// The pinned pm2 announces pm2:kill only as its daemon exits, so while `pm2 kill` deletes the apps the
// subsystem cannot tell it from `pm2 delete web`: the repair of web may work against the dying daemon (or
// spawn the next one through a `pm2` command), and the daemon's exit that follows is repaired at once.
// A check that catches that next daemon before its rpc.sock answers must wait for it, not give up
// (was: "nothing to try" without pm2.daemon_restart_command, and the apps back an interval later, 37 s).
// Under ASan a third interleaving was seen (36 s): the repair of `slow` ran against the dying daemon, its
// `pm2 start` spawned the next daemon, which got `slow` only, and the check that found `web` missing came
// 1 s after that repair, inside the policy's half-interval spacing. A check through another daemon is a
// new problem for the policy (health::counterpart), so web is started at once.
BOOST_AUTO_TEST_CASE(after_pm2_kill_the_apps_are_back_without_any_step_running_into_its_timeout) {
  if (!have_pm2()) return;
  sandbox box;
  // `pm2 kill` deletes the apps two at a time, waiting for each to exit: `web` is gone at once, `slow`
  // ignores SIGINT for its kill_timeout, and only then does the daemon exit. A repair of `web` has those
  // seconds to talk to a daemon that is going away.
  test::write_text(box.dir / "slow.js", "process.on('SIGINT', () => {});\nsetInterval(() => {}, 1000);\n");
  test::write_text(box.dir / "ecosystem.config.js",
                   "module.exports = { apps: [ { name: 'web', script: 'ok.js' },"
                   " { name: 'slow', script: 'slow.js', kill_timeout: 3000 } ] };\n");
  BOOST_TEST_REQUIRE(box.pm2("start ecosystem.config.js") == 0);
  BOOST_TEST_REQUIRE(box.pm2("save") == 0);
  BOOST_TEST_REQUIRE(box.online({"web", "slow"}));
  const auto config_file = box.write_daemon_config(
      R"(, "interval": "30s", "timeout": "20s", "restart_delay": "100ms", "ecosystem_files": ["ecosystem.config.js"])");
  test::daemon_process d(config_file, box.dir);
  const auto address = d.wait_for_address(box.dir / "state");
  auto ready = [&] {
    auto s = test::http_get(address, "/api/subsystems/pm2");
    return s.status == 200 && s.body.find("\"status\":\"healthy\"") != std::string::npos &&
           test::read_text(box.dir / "daemon.err").find("listening to PM2 events") != std::string::npos;
  };
  for (int i = 0; i < 300 && !ready(); ++i) std::this_thread::sleep_for(100ms);
  BOOST_TEST_REQUIRE(ready(), test::read_text(box.dir / "daemon.err"));

  const int old_daemon = pid_in(box.home / "pm2.pid");
  const auto killed_at = std::chrono::steady_clock::now();
  BOOST_TEST_REQUIRE(box.pm2("kill") == 0);
  for (int i = 0; i < 100 && alive(old_daemon); ++i) std::this_thread::sleep_for(50ms);
  BOOST_TEST_REQUIRE(!alive(old_daemon));
  // Back through the subsystem's recovery: the test starts no daemon.
  bool back = false;
  while (!back && std::chrono::steady_clock::now() - killed_at < 45s) {
    back = fs::exists(box.home / "rpc.sock") && alive(pid_in(box.home / "pm2.pid")) && box.online({"web", "slow"});
    if (!back) std::this_thread::sleep_for(100ms);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  BOOST_TEST_MESSAGE("apps back " << took.count() << " ms after pm2 kill");
  BOOST_TEST_REQUIRE(back, test::read_text(box.dir / "daemon.err"));
  BOOST_TEST(pid_in(box.home / "pm2.pid") != old_daemon);
  BOOST_TEST(took < 10s, test::read_text(box.dir / "daemon.err"));
  // No step waited for a daemon that was going away.
  const auto actions = test::http_get(address, "/api/actions");
  BOOST_TEST(actions.status == 200);
  BOOST_TEST(actions.body.find("after timeout") == std::string::npos, actions.body.substr(0, 3000));
}

// Without the bus (pm2.transport "cli") nothing announces the kill: a step already running when the daemon
// dies is cancelled then, its process group ended, and the recovery goes on against what follows. A fake
// pm2 whose `restart` hangs, and a fake daemon (a child of this test, left a zombie when killed).
BOOST_AUTO_TEST_CASE(a_step_whose_daemon_dies_under_it_is_cancelled_at_once) {
  sandbox box;
  const auto fake_pm2 = box.dir / "pm2";
  test::write_text(fake_pm2,
                   "#!/bin/sh\n"
                   "echo $$ >> '" +
                       (box.dir / "pids").string() +
                       "'\n"
                       "if [ \"$1\" = jlist ]; then\n"
                       "  echo '[{\"name\":\"alpha\",\"pid\":0,\"pm_id\":0,\"monit\":{\"cpu\":0,\"memory\":0},"
                       "\"pm2_env\":{\"status\":\"errored\",\"restart_time\":0,\"pm_uptime\":0}}]'\n"
                       "  exit 0\n"
                       "fi\n"
                       "exec sleep 600\n");
  fs::permissions(fake_pm2, fs::perms::owner_all);
  pid_t daemon = 0;
  {
    const char* argv[] = {"sleep", "600", nullptr};
    BOOST_TEST_REQUIRE(::posix_spawnp(&daemon, "sleep", nullptr, nullptr, const_cast<char**>(argv), environ) == 0);
  }
  test::write_text(box.home / "pm2.pid", std::to_string(daemon));
  asio::io_context io;
  // A socket that accepts (the kernel's backlog) is a daemon answering, as far as the probe can tell.
  asio::local::stream_protocol::acceptor rpc(io,
                                             asio::local::stream_protocol::endpoint((box.home / "rpc.sock").string()));

  config c;
  c.project_dir = box.dir;
  c.state_dir = box.dir / "state";
  c.pm2.command = {fake_pm2.string()};
  c.pm2.home = box.home;
  c.pm2.transport = "cli";
  c.pm2.timeout = 20s;
  c.pm2.restart_delay = 100ms;
  c.pm2.ecosystem_files.clear();
  c.pm2.processes = {"alpha"};
  pm2::pm2_subsystem pm2s(c);
  auto checked = asio::co_spawn(io, pm2s.check(), asio::use_future);
  io.run();
  const auto h = checked.get();
  BOOST_TEST_REQUIRE(pm2s.state() == pm2::pm2_state::ok, h.summary);

  io.restart();
  asio::steady_timer kill_timer(io, 1s);
  kill_timer.async_wait([&](boost::system::error_code) {
    ::kill(daemon, SIGKILL);  // not reaped: a zombie until the end of the test
    rpc.close();
    fs::remove(box.home / "rpc.sock");
  });
  const auto started = std::chrono::steady_clock::now();
  auto recovery = asio::co_spawn(io, pm2s.recover(pm2s.snapshot()), asio::use_future);
  io.run();
  const auto r = recovery.get();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::string steps;
  for (const auto& st : r.steps) steps += st.name + ": " + st.detail + "; ";
  BOOST_TEST_MESSAGE("recovery took " << took.count() << " ms: " << r.summary << ": " << steps);
  ::waitpid(daemon, nullptr, 0);
  BOOST_TEST(took < 5s);
  BOOST_TEST_REQUIRE(!r.steps.empty());
  BOOST_TEST(r.steps.front().name == "pm2 restart alpha");
  BOOST_TEST(r.steps.front().detail.find("the PM2 daemon (pid " + std::to_string(daemon) + ") it talked to died") !=
                 std::string::npos,
             r.steps.front().detail);
  BOOST_TEST(pm2s.state() == pm2::pm2_state::daemon_down);
  BOOST_TEST(running_children() == 0u);
  // Every fake pm2 it ran has ended (the hanging one with its group).
  std::ifstream pids(box.dir / "pids");
  for (int pid = 0; pids >> pid;) BOOST_TEST(!alive(pid), pid);
}
