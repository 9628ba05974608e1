// sd_notify: $NOTIFY_SOCKET addresses (paths, abstract names, bad values), the watchdog period and
// whose it is, the messages, the status line, and the notifier sending real datagrams to a
// test-owned socket, with its keep-alive timer on the io_context and nothing at all without
// $NOTIFY_SOCKET.
#define BOOST_TEST_MODULE systemd_notify
#include "redundancy/systemd/notify.hpp"

#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <random>

#include "redundancy/core/asio.hpp"
#include "redundancy/systemd/status_line.hpp"
#include "support/notify_socket.hpp"

using namespace redundancy;
using namespace redundancy::systemd;
using namespace redundancy::test;
using namespace std::chrono_literals;

namespace {

std::string unique(std::string_view prefix) {
  std::random_device random;
  return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(random());
}

std::string socket_path() { return (std::filesystem::temp_directory_path() / unique("redundancy-notify-")).string(); }

std::size_t count(const std::vector<notify_message>& messages, std::string_view line) {
  std::size_t n = 0;
  for (const auto& m : messages) n += m.has(line) ? 1 : 0;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_path_is_used_as_it_is) {
  const auto address = socket_address("/run/systemd/notify");
  BOOST_TEST_REQUIRE(address.has_value());
  BOOST_TEST(*address == "/run/systemd/notify");
}

BOOST_AUTO_TEST_CASE(an_abstract_name_starts_with_a_nul_and_has_no_trailing_one) {
  const auto address = socket_address("@/org/freedesktop/systemd1/notify/123");
  BOOST_TEST_REQUIRE(address.has_value());
  BOOST_TEST(address->size() == std::string_view("@/org/freedesktop/systemd1/notify/123").size());
  BOOST_TEST(address->front() == '\0');
  BOOST_TEST(address->substr(1) == "/org/freedesktop/systemd1/notify/123");
}

BOOST_AUTO_TEST_CASE(bad_values_are_errors_that_say_what_is_wrong) {
  auto a = socket_address("");
  BOOST_TEST_REQUIRE(!a.has_value());
  BOOST_TEST(a.error().find("empty") != std::string::npos, a.error());

  a = socket_address("run/notify");
  BOOST_TEST_REQUIRE(!a.has_value());
  BOOST_TEST(a.error().find("run/notify") != std::string::npos, a.error());
  BOOST_TEST(a.error().find("absolute") != std::string::npos, a.error());

  a = socket_address("vsock:2:1234");
  BOOST_TEST_REQUIRE(!a.has_value());
  BOOST_TEST(a.error().find("vsock") != std::string::npos, a.error());

  a = socket_address("@");
  BOOST_TEST_REQUIRE(!a.has_value());
  BOOST_TEST(a.error().find("empty") != std::string::npos, a.error());

  a = socket_address("/" + std::string(107, 'x'));
  BOOST_TEST_REQUIRE(!a.has_value());
  BOOST_TEST(a.error().find("108 bytes") != std::string::npos, a.error());
  BOOST_TEST(socket_address("/" + std::string(106, 'x')).has_value());
}

BOOST_AUTO_TEST_CASE(the_watchdog_period_is_half_the_timeout_and_only_for_its_own_pid) {
  BOOST_TEST(!watchdog_from({}, 42).period.has_value());
  BOOST_TEST(watchdog_from({}, 42).problem.empty());

  auto w = watchdog_from({{"WATCHDOG_USEC", "30000000"}}, 42);
  BOOST_TEST_REQUIRE(w.period.has_value());
  BOOST_TEST(w.period->count() == 15000000);

  w = watchdog_from({{"WATCHDOG_USEC", "30000000"}, {"WATCHDOG_PID", "42"}}, 42);
  BOOST_TEST_REQUIRE(w.period.has_value());
  BOOST_TEST(w.period->count() == 15000000);

  // Inherited from a parent that was the service's main process: not ours to keep alive.
  w = watchdog_from({{"WATCHDOG_USEC", "30000000"}, {"WATCHDOG_PID", "41"}}, 42);
  BOOST_TEST(!w.period.has_value());
  BOOST_TEST(w.problem.empty());

  // A value that cannot be right is no watchdog, and says why.
  for (const std::string bad : {"", "0", "-5", "30s", "12abc"}) {
    w = watchdog_from({{"WATCHDOG_USEC", bad}}, 42);
    BOOST_TEST(!w.period.has_value(), bad);
    BOOST_TEST(w.problem.find("WATCHDOG_USEC=" + bad) != std::string::npos, w.problem);
  }
  w = watchdog_from({{"WATCHDOG_USEC", "1000"}, {"WATCHDOG_PID", "me"}}, 42);
  BOOST_TEST(!w.period.has_value());
  BOOST_TEST(w.problem.find("WATCHDOG_PID=me") != std::string::npos, w.problem);

  // A tiny timeout does not make the timer spin.
  w = watchdog_from({{"WATCHDOG_USEC", "1"}}, 42);
  BOOST_TEST_REQUIRE(w.period.has_value());
  BOOST_TEST(w.period->count() == 1000);
}

BOOST_AUTO_TEST_CASE(a_status_is_one_line_of_bounded_length) {
  BOOST_TEST(status_message("healthy: pm2 healthy") == "STATUS=healthy: pm2 healthy");
  BOOST_TEST(status_message("a\nb\r\tc") == "STATUS=a b  c");
  BOOST_TEST(status_message("") == "STATUS=");

  const auto long_text = std::string(max_status_bytes + 500, 'x');
  BOOST_TEST(status_message(long_text).size() == std::string("STATUS=").size() + max_status_bytes);
  // A cut never splits a UTF-8 character: "é" is two bytes, and the limit falls between them.
  const auto accented = std::string(max_status_bytes - 1, 'x') + "\xC3\xA9";
  const auto cut = status_message(accented);
  BOOST_TEST(cut.size() == std::string("STATUS=").size() + max_status_bytes - 1);
  BOOST_TEST(cut.back() == 'x');
}

BOOST_AUTO_TEST_CASE(reloading_carries_the_monotonic_time) {
  BOOST_TEST(reloading_message(123456789us) == "RELOADING=1\nMONOTONIC_USEC=123456789");
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto mine = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  const auto theirs = monotonic_now().count();
  BOOST_TEST(theirs >= mine);
  BOOST_TEST(theirs - mine < 1000000);
}

BOOST_AUTO_TEST_CASE(the_status_line_sums_up_the_health_body) {
  const auto health = boost::json::parse(R"({
    "status": "degraded", "checked_at": "2026-01-01T00:00:00Z",
    "subsystems": {
      "github": {"status": "disabled", "summary": "no workflow files in /p/.github/workflows", "checked_at": null},
      "netlify": {"status": "degraded", "summary": "2 of 3 functions answer", "checked_at": null},
      "pm2": {"status": "healthy", "summary": "3 apps online", "checked_at": null}
    },
    "emergency": {"active": false, "phase": "normal", "attempts": 0, "max_attempts": 3},
    "history": {"ok": true}
  })")
                          .as_object();
  BOOST_TEST(status_line(health) ==
             "degraded: github disabled (no workflow files in /p/.github/workflows); netlify "
             "degraded (2 of 3 "
             "functions answer); pm2 healthy (3 apps online)");

  const auto emergency = boost::json::parse(R"({
    "status": "emergency",
    "subsystems": {"pm2": {"status": "unhealthy", "summary": ""}},
    "emergency": {"active": true, "phase": "recovering", "attempts": 2, "max_attempts": 3},
    "history": {"ok": false}
  })")
                             .as_object();
  BOOST_TEST(status_line(emergency) == "emergency (recovering, attempt 2 of 3) (history unavailable): pm2 unhealthy");

  BOOST_TEST(status_line({}) == "unknown");
}

BOOST_AUTO_TEST_CASE(without_notify_socket_nothing_is_sent_and_no_timer_runs) {
  notify_socket listener(socket_path());
  asio::io_context io;
  // Every other variable is there: only NOTIFY_SOCKET is missing.
  notifier n(io.get_executor(), {{"WATCHDOG_USEC", "2000"}, {"WATCHDOG_PID", std::to_string(::getpid())}}, ::getpid());
  BOOST_TEST(!n.enabled());
  BOOST_TEST(!n.watchdog_period().has_value());
  n.ready("up");
  n.status("fine");
  n.reloading();
  BOOST_TEST(!n.send("READY=1"));
  // No keep-alive timer was started: the loop has nothing to do.
  BOOST_TEST(io.run_for(200ms) == 0u);
  n.stopping();
  std::this_thread::sleep_for(100ms);
  BOOST_TEST(listener.messages().empty());
}

BOOST_AUTO_TEST_CASE(an_unusable_notify_socket_disables_the_notifier) {
  asio::io_context io;
  notifier n(io.get_executor(), {{"NOTIFY_SOCKET", "relative/notify"}, {"WATCHDOG_USEC", "2000"}}, ::getpid());
  BOOST_TEST(!n.enabled());
  n.ready();
  BOOST_TEST(io.run_for(100ms) == 0u);
}

BOOST_AUTO_TEST_CASE(messages_reach_a_path_socket_from_this_process) {
  notify_socket listener(socket_path());
  asio::io_context io;
  notifier n(io.get_executor(), {{"NOTIFY_SOCKET", listener.name()}}, ::getpid());
  BOOST_TEST_REQUIRE(n.enabled());
  BOOST_TEST(!n.watchdog_period().has_value());
  n.ready("starting");
  n.status("healthy: all\nfine");
  n.reloading();
  n.ready();
  n.stopping();
  BOOST_TEST_REQUIRE(listener.wait_for("STOPPING=1", 0, 5s).has_value());
  const auto got = listener.messages();
  BOOST_TEST_REQUIRE(got.size() == 5u);
  BOOST_TEST(got[0].text == "READY=1\nSTATUS=starting");
  BOOST_TEST(got[1].text == "STATUS=healthy: all fine");
  BOOST_TEST(got[2].has("RELOADING=1"));
  BOOST_TEST(got[2].value("MONOTONIC_USEC").has_value());
  BOOST_TEST(got[3].text == "READY=1");
  BOOST_TEST(got[4].text == "STOPPING=1");
  for (const auto& m : got) BOOST_TEST(m.sender == ::getpid());
  // No watchdog was asked for: no timer.
  BOOST_TEST(io.run_for(100ms) == 0u);
}

BOOST_AUTO_TEST_CASE(keep_alives_go_to_an_abstract_socket_from_the_loop_until_stopping) {
  notify_socket listener(unique("@redundancy-notify-test-"));
  asio::io_context io;
  notifier n(
      io.get_executor(),
      {{"NOTIFY_SOCKET", listener.name()}, {"WATCHDOG_USEC", "100000"}, {"WATCHDOG_PID", std::to_string(::getpid())}},
      ::getpid());
  BOOST_TEST_REQUIRE(n.enabled());
  BOOST_TEST_REQUIRE(n.watchdog_period().has_value());
  BOOST_TEST(n.watchdog_period()->count() == 50000);
  n.ready();
  n.ready();  // a second READY (after a reload) starts no second timer
  // Without the loop running, no keep-alive goes out: they come from the loop, not from a thread.
  std::this_thread::sleep_for(300ms);
  BOOST_TEST(count(listener.messages(), "WATCHDOG=1") == 0u);

  io.run_for(600ms);
  BOOST_TEST_REQUIRE(listener.wait_for("WATCHDOG=1", 0, 5s).has_value());
  const auto got = listener.messages();
  std::vector<std::chrono::steady_clock::time_point> pings;
  for (const auto& m : got)
    if (m.has("WATCHDOG=1")) pings.push_back(m.at);
  // 600 ms at one every 50 ms: at most 12, never early; at least a few even on a loaded machine.
  // One timer, not two: a second timer would double them.
  BOOST_TEST(pings.size() >= 3u);
  BOOST_TEST(pings.size() <= 12u);

  n.stopping();
  BOOST_TEST_REQUIRE(listener.wait_for("STOPPING=1", 0, 5s).has_value());
  const auto before = listener.messages().size();
  io.restart();
  // The keep-alive timer ended with STOPPING: the loop runs out of work and no ping follows.
  io.run_for(300ms);
  BOOST_TEST(io.stopped());
  std::this_thread::sleep_for(100ms);
  const auto after = listener.messages();
  BOOST_TEST_REQUIRE(after.size() == before);
  BOOST_TEST(after.back().text == "STOPPING=1");
}

BOOST_AUTO_TEST_CASE(a_missing_listener_is_a_failed_send_not_an_exception) {
  const auto path = socket_path();
  asio::io_context io;
  notifier n(io.get_executor(), {{"NOTIFY_SOCKET", path}}, ::getpid());
  BOOST_TEST_REQUIRE(n.enabled());
  BOOST_TEST(!n.send("READY=1"));
  {
    notify_socket listener(path);
    BOOST_TEST(n.send("READY=1"));
    BOOST_TEST(listener.wait_for("READY=1", 0, 5s).has_value());
  }
}
