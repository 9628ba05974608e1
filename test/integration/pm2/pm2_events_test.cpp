// PM2's sockets with a real pm2 (build/npm) under a private PM2_HOME: getMonitorData against jlist, the
// check's transports, a killed daemon noticed and reconnected, an errored app restarted by the real
// daemon well before its 60 s poll, and a fake daemon writing garbage that never crashes ours.
#define BOOST_TEST_MODULE pm2_events
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/pm2_subsystem.hpp"
#include "redundancy/pm2/rpc_client.hpp"
#include "support/daemon.hpp"
#include "support/health.hpp"
#include "support/pm2_sandbox.hpp"
#include "support/proc.hpp"
#include "support/run.hpp"
#include "test_paths.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

using namespace redundancy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace redundancy {
std::ostream& operator<<(std::ostream& os, status s) { return os << to_string(s); }
namespace pm2 {
std::ostream& operator<<(std::ostream& os, pm2_state s) { return os << to_string(s); }
std::ostream& operator<<(std::ostream& os, list_source s) { return os << to_string(s); }
}  // namespace pm2
}  // namespace redundancy

namespace {

using test::alive;
using test::find_target;
using test::have_pm2;
using test::pid_in;
using test::pm2_bin;
using test::run_on;

// Runs io until done() or limit; the io_context keeps the watcher's work, so it never runs out.
bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until) {
    io.restart();
    io.run_for(20ms);
  }
  return done();
}

// A steady app and one that counts its crashes; every app pid jlist reports is killed at the end.
struct sandbox : test::pm2_sandbox {
  sandbox() : test::pm2_sandbox({"ok.js", "crash_count.js"}) {}

  std::vector<pm2::app_entry> jlist() {
    auto parsed = pm2::parse_jlist(pm2_out("jlist"));
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), (parsed ? "" : parsed.error()));
    for (const auto& a : *parsed) app_pids.push_back(a.pid);
    return *parsed;
  }
  // Two expected apps and no ecosystem files, over `transport`; the check interval stays the default.
  config make_config(std::string transport) const {
    return test::pm2_sandbox::make_config({.processes = {"alpha", "beta"}, .transport = std::move(transport)});
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(get_monitor_data_lists_the_same_apps_as_jlist) {
  if (!have_pm2()) return;
  sandbox box;
  BOOST_TEST_REQUIRE(box.pm2("start ok.js --name alpha") == 0);
  BOOST_TEST_REQUIRE(box.pm2("start ok.js --name beta -i 2") == 0);
  auto cli = box.jlist();
  asio::io_context io;
  pm2::rpc_client client(io.get_executor(), box.home / "rpc.sock");
  auto reply = run_on(io, client.call("getMonitorData", json::array{json::object{}}, 10s));
  BOOST_TEST_REQUIRE(reply.has_value(), (reply ? "" : reply.error().message));
  auto rpc = pm2::parse_app_list(*reply, "getMonitorData");
  BOOST_TEST_REQUIRE(rpc.has_value());
  BOOST_TEST_REQUIRE(rpc->size() == cli.size());
  BOOST_TEST(rpc->size() == 3u);
  for (std::size_t i = 0; i < cli.size(); ++i) {
    BOOST_TEST((*rpc)[i].name == cli[i].name);
    BOOST_TEST((*rpc)[i].pm_id == cli[i].pm_id);
    BOOST_TEST((*rpc)[i].pid == cli[i].pid);
    BOOST_TEST((*rpc)[i].status_text == cli[i].status_text);
    BOOST_TEST((*rpc)[i].exec_mode == cli[i].exec_mode);
    BOOST_TEST((*rpc)[i].out_log_path == cli[i].out_log_path);
  }
  auto pong = run_on(io, client.call("ping", json::array{json::object{}}, 10s));
  BOOST_TEST_REQUIRE(pong.has_value());
  BOOST_TEST(json::serialize(*pong) == R"({"msg":"pong"})");
  BOOST_TEST(client.connections() == 1u);
}

BOOST_AUTO_TEST_CASE(the_check_says_which_path_it_read_and_never_spawns_a_daemon) {
  if (!have_pm2()) return;
  sandbox box;
  // No daemon: every transport reports it down, and none starts one.
  for (const char* transport : {"auto", "socket", "cli"}) {
    pm2::pm2_subsystem s(box.make_config(transport));
    asio::io_context io;
    auto h = run_on(io, s.check());
    BOOST_TEST(s.state() == pm2::pm2_state::daemon_down, transport);
    BOOST_TEST(s.source() == pm2::list_source::none);
    BOOST_TEST(!fs::exists(box.home / "pm2.pid"), transport);
    BOOST_TEST(!fs::exists(box.home / "rpc.sock"), transport);
  }
  BOOST_TEST_REQUIRE(box.pm2("start ok.js --name alpha") == 0);
  BOOST_TEST_REQUIRE(box.pm2("start ok.js --name beta") == 0);
  BOOST_TEST_REQUIRE(box.pm2("save") == 0);  // without a dump.pm2 the check warns (degraded)
  box.jlist();
  for (auto [transport, source] : {std::pair{"auto", pm2::list_source::rpc}, std::pair{"socket", pm2::list_source::rpc},
                                   std::pair{"cli", pm2::list_source::jlist}}) {
    pm2::pm2_subsystem s(box.make_config(transport));
    asio::io_context io;
    auto h = run_on(io, s.check());
    BOOST_TEST_MESSAGE(transport << ": " << h.summary);
    BOOST_TEST(s.state() == pm2::pm2_state::ok);
    BOOST_TEST(s.source() == source, transport);
    BOOST_TEST(h.state == status::healthy);
    BOOST_TEST_REQUIRE(find_target(h, "alpha"));
    BOOST_TEST(find_target(h, "alpha")->detail.at("source").as_string() == pm2::to_string(source));
    BOOST_TEST(h.summary.find(source == pm2::list_source::rpc ? "rpc.sock" : "pm2 jlist") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_killed_daemon_is_noticed_reported_down_and_reconnected_when_back) {
  if (!have_pm2()) return;
  sandbox box;
  BOOST_TEST_REQUIRE(box.pm2("start ok.js --name alpha") == 0);
  BOOST_TEST_REQUIRE(box.pm2("start ok.js --name beta") == 0);
  BOOST_TEST_REQUIRE(box.pm2("save") == 0);  // without a dump.pm2 the check warns (degraded)
  box.jlist();
  asio::io_context io;
  pm2::pm2_subsystem s(box.make_config("auto"));
  unsigned asked = 0;
  s.start_watching(io.get_executor(), [&] { ++asked; });
  BOOST_TEST_REQUIRE(run_until(
      io, [&] { return s.events()->connected(); }, 20s));
  auto h = run_on(io, s.check());
  BOOST_TEST(s.source() == pm2::list_source::rpc);
  BOOST_TEST(h.state == status::healthy);

  const int daemon = pid_in(box.home / "pm2.pid");
  BOOST_TEST_REQUIRE(alive(daemon));
  const auto killed_at = std::chrono::steady_clock::now();
  ::kill(daemon, SIGKILL);
  // The bus closing asks for a check at once (debounced), long before any interval.
  BOOST_TEST_REQUIRE(run_until(
      io, [&] { return asked >= 1; }, 10s));
  BOOST_TEST_MESSAGE(
      "check asked "
      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at).count()
      << " ms after the kill");
  BOOST_TEST(!s.events()->connected());
  while (alive(daemon)) std::this_thread::sleep_for(10ms);
  h = run_on(io, s.check());
  BOOST_TEST_MESSAGE(h.summary);
  BOOST_TEST(s.state() == pm2::pm2_state::daemon_down);
  BOOST_TEST(h.state == status::unhealthy);
  BOOST_TEST(!alive(pid_in(box.home / "pm2.pid")));  // the check started no daemon

  // PM2 comes back: the watcher reconnects by itself and asks for a check; the kept rpc connection is
  // replaced by a new one.
  const unsigned before = asked;
  BOOST_TEST_REQUIRE(box.pm2("start ok.js --name alpha") == 0);
  box.jlist();
  BOOST_TEST_REQUIRE(run_until(
      io, [&] { return s.events()->connected() && asked > before; }, 30s));
  BOOST_TEST(s.events()->connections() == 2u);
  h = run_on(io, s.check());
  BOOST_TEST_MESSAGE(h.summary);
  BOOST_TEST(s.state() == pm2::pm2_state::ok);
  BOOST_TEST(s.source() == pm2::list_source::rpc);
  s.stop_watching();
}

BOOST_AUTO_TEST_CASE(an_errored_app_is_restarted_by_the_daemon_long_before_its_60s_poll) {
  if (!have_pm2()) return;
  sandbox box;
  test::write_text(box.dir / "count", "0");
  // PM2 counts an exit as unstable within min_uptime of the start: a wide one works on a slow machine.
  test::write_text(box.dir / "apps.config.json",
                   R"({"apps": [{"name": "flaky", "script": "crash_count.js", "max_restarts": 3, "min_uptime": 60000,
                                 "env": {"COUNTER": ")" +
                       (box.dir / "count").string() + R"("}}]})");
  BOOST_TEST_REQUIRE(box.pm2("start apps.config.json") == 0);
  BOOST_TEST_REQUIRE(box.pm2("save") == 0);  // without a dump.pm2 the check warns (degraded)
  box.jlist();
  test::write_text(box.dir / "redundancy.json", R"({
    "state_dir": "state", "log_dir": "logs",
    "http": {"listen": "127.0.0.1:0"},
    "pm2": {"command": ")" + pm2_bin + R"(", "home": ")" +
                                                    box.home.string() + R"(",
            "interval": "60s", "restart_delay": "1s", "ecosystem_files": ["apps.config.json"]},
    "github": {"enabled": false}, "netlify": {"enabled": false}
  })");
  test::daemon_process d(box.dir / "redundancy.json", box.dir);
  const auto address = d.wait_for_address(box.dir / "state");
  // Healthy first, and listening to PM2's events.
  auto ready = [&] {
    auto s = test::http_get(address, "/api/subsystems/pm2");
    return s.status == 200 && s.body.find("\"status\":\"healthy\"") != std::string::npos &&
           test::read_text(box.dir / "daemon.err").find("listening to PM2 events") != std::string::npos;
  };
  for (int i = 0; i < 300 && !ready(); ++i) std::this_thread::sleep_for(100ms);
  BOOST_TEST_REQUIRE(ready(), test::read_text(box.dir / "daemon.err"));

  // Three unstable exits in a row make PM2 give up on it: errored, pid 0, never retried by PM2.
  test::write_text(box.dir / "count", "3");
  const auto kicked_at = std::chrono::steady_clock::now();
  for (const auto& a : box.jlist())
    if (a.name == "flaky" && a.pid > 0) ::kill(a.pid, SIGKILL);
  // Our daemon's recovery restarts it; only an event explains that before the 60 s poll.
  auto restarted = [&] {
    auto a = test::http_get(address, "/api/actions");
    return a.status == 200 && a.body.find("pm2 restart flaky") != std::string::npos;
  };
  for (int i = 0; i < 600 && !restarted(); ++i) std::this_thread::sleep_for(100ms);
  const auto after =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - kicked_at);
  BOOST_TEST_REQUIRE(restarted(), test::read_text(box.dir / "daemon.err"));
  BOOST_TEST_MESSAGE("restart of the errored app recorded " << after.count() << " ms after the first crash");
  BOOST_TEST(after < 30s);
  const auto log = test::read_text(box.dir / "daemon.err");
  BOOST_TEST(log.find("flaky hit PM2's restart limit") != std::string::npos);
  // And it stays up: the count is spent.
  bool online = false;
  for (int i = 0; i < 300 && !online; ++i) {
    for (const auto& a : box.jlist()) online = online || (a.name == "flaky" && a.status == pm2::app_status::online);
    if (!online) std::this_thread::sleep_for(200ms);
  }
  BOOST_TEST(online);
}

BOOST_AUTO_TEST_CASE(garbage_on_the_fake_daemon_sockets_never_crashes_the_daemon) {
  sandbox box;
  // A test-owned fake "daemon": rpc.sock and pub.sock answer every connection with garbage and close.
  asio::io_context fake;
  using stream = asio::local::stream_protocol;
  stream::acceptor rpc(fake, stream::endpoint((box.home / "rpc.sock").string()));
  stream::acceptor pub(fake, stream::endpoint((box.home / "pub.sock").string()));
  std::atomic<unsigned> served{0};
  auto serve = [&](stream::acceptor& a) -> awaitable<void> {
    for (unsigned n = 0;; ++n) {
      auto [ec, s] = co_await a.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      std::string garbage;
      switch (n % 4) {
        case 0:
          garbage = std::string("\x1f\xff\xff\xff\xff", 5);
          break;  // a 4 GiB argument
        case 1:
          garbage = pm2::amp_encode({"j:{\"args\":[[{\"name\":1}]]}", "s:nobody"});
          break;
        case 2:
          garbage = pm2::amp_encode({"s:process:event", "j:[[[[", "x"});
          break;
        default:
          for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) & 0xff));
      }
      co_await asio::async_write(s, asio::buffer(garbage), asio::as_tuple(asio::use_awaitable));
      ++served;
    }
  };
  asio::co_spawn(fake, serve(rpc), asio::detached);
  asio::co_spawn(fake, serve(pub), asio::detached);
  std::thread fake_thread([&] { fake.run(); });
  struct joiner {
    asio::io_context& io;
    std::thread& t;
    ~joiner() {
      io.stop();
      t.join();
    }
  } join{fake, fake_thread};

  test::write_text(box.dir / "redundancy.json", R"({
    "state_dir": "state", "log_dir": "logs",
    "http": {"listen": "127.0.0.1:0"},
    "pm2": {"command": "/nonexistent/pm2", "home": ")" +
                                                    box.home.string() + R"(", "interval": "1s",
            "transport": "socket", "processes": ["alpha"]},
    "orchestrator": {"auto_recovery": false},
    "github": {"enabled": false}, "netlify": {"enabled": false}
  })");
  test::daemon_process d(box.dir / "redundancy.json", box.dir);
  const auto address = d.wait_for_address(box.dir / "state");
  const auto until = std::chrono::steady_clock::now() + 6s;
  while (std::chrono::steady_clock::now() < until) {
    BOOST_TEST_REQUIRE(!d.exited(), test::read_text(box.dir / "daemon.err"));
    std::this_thread::sleep_for(200ms);
  }
  BOOST_TEST(served.load() >= 8u);
  auto s = test::http_get(address, "/api/subsystems/pm2");
  BOOST_TEST(s.status == 200);
  BOOST_TEST_MESSAGE(s.body.substr(0, 400));
  BOOST_TEST(s.body.find("\"status\":\"healthy\"") == std::string::npos);
  BOOST_TEST(!d.exited());
}
