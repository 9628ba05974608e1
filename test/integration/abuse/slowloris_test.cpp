// 1,000 connections opened and held against the real daemon: half send a request header one byte at a
// time and never finish it (slowloris), half send one whole request and then sit idle on keep-alive.
// The daemon holds at most its connection limit (256) of them, closing the rest at once, refuses
// nothing but new connections while full, answers new clients again once the read timeout (10 s) has
// freed the slowloris slots, frees the idle ones at the idle timeout (30 s), and ends with the
// descriptors, children and state it had before.
#define BOOST_TEST_MODULE http_abuse_slowloris
#include "abuse_support.hpp"

#include <memory>

using namespace redundancy::test;
using namespace redundancy::test::abuse;
using steady = std::chrono::steady_clock;

namespace {
constexpr std::size_t connection_count = 1000;
constexpr std::size_t connection_limit = 256;  // server_settings::max_connections
// Descriptors the daemon may open besides its connections while we look (a log rotation, a db handle).
constexpr std::size_t slack = 8;

// GET /api/health on a new connection: the status, or 0 when the daemon closed it without an answer.
int health_status(const quiet_daemon& d) {
  try {
    raw_connection c(d.port());
    if (!c.send("GET /api/health HTTP/1.1\r\nHost: " + d.address + "\r\nConnection: close\r\n\r\n")) return 0;
    const auto answer = c.read_answer(std::chrono::seconds(5));
    return answer ? answer->status : 0;
  } catch (const std::exception&) {
    return 0;
  }
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(a_thousand_held_connections_stay_within_the_limit_and_time_out, quiet_daemon) {
  const auto limit = raise_fd_limit(connection_count + 200);
  BOOST_TEST_REQUIRE(limit >= connection_count + 100,
                     "RLIMIT_NOFILE hard limit " << limit << " is too low for this test");
  const auto before = take();
  BOOST_TEST_MESSAGE("the daemon has " << before.fds << " descriptors open before");

  const auto start = steady::now();
  const std::string partial = "GET /api/health HTTP/1.1\r\nHost: " + address + "\r\nX-Slow: ";
  const std::string whole = "GET /api/health HTTP/1.1\r\nHost: " + address + "\r\n\r\n";
  std::vector<std::unique_ptr<raw_connection>> slow, idle;
  for (std::size_t i = 0; i < connection_count; ++i) {
    auto c = std::make_unique<raw_connection>(port());
    if (i % 2 == 0) {
      c->send(partial);
      slow.push_back(std::move(c));
    } else {
      c->send(whole);  // answered, then idle on keep-alive
      idle.push_back(std::move(c));
    }
  }
  BOOST_TEST_MESSAGE("opened " << connection_count << " connections in "
                               << std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count()
                               << " ms");

  // Let the daemon accept the lot, then look: it is full, never past its limit.
  std::this_thread::sleep_for(1s);
  const auto held = open_fds(process->pid());
  BOOST_TEST_MESSAGE("while held: " << held << " descriptors");
  BOOST_TEST(held <= before.fds + connection_limit + slack, "within the connection limit: " << held);
  BOOST_TEST(held >= before.fds + connection_limit - slack,
             "the limit was reached (the test tested something): " << held);
  // Full: a new client is closed without an answer (it must not queue unseen).
  BOOST_TEST(health_status(*this) == 0);
  BOOST_TEST(!process->exited());

  // Slowloris: a byte a second on every held connection. The read timeout counts from the request's
  // first byte, so the trickle does not keep a slot; after it new clients are answered again.
  std::optional<steady::duration> answered_after;
  while (steady::now() - start < 40s) {
    for (auto& c : slow) c->send("x");
    const auto status = health_status(*this);
    if (status == 503 || status == 200) {
      answered_after = steady::now() - start;
      break;
    }
    std::this_thread::sleep_for(1s);
  }
  BOOST_TEST_REQUIRE(answered_after.has_value(), "a new client was answered once the read timeout freed slots");
  BOOST_TEST_MESSAGE("new clients answered again after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(*answered_after).count() << " ms");
  BOOST_TEST((*answered_after >= 8s), "slots were freed by the read timeout (10 s), not earlier");

  // The idle keep-alive connections go at the idle timeout (30 s): then every descriptor is back,
  // though this test still holds all of its sockets open.
  const bool released = eventually([&] { return open_fds(process->pid()) <= before.fds; }, 60s);
  BOOST_TEST(released, "descriptors back to " << before.fds << ": " << open_fds(process->pid()));
  BOOST_TEST_MESSAGE("all slots released after "
                     << std::chrono::duration_cast<std::chrono::seconds>(steady::now() - start).count() << " s");
  BOOST_TEST((steady::now() - start >= 25s), "idle connections were held until the idle timeout");
  // Every one of our connections was closed by the daemon.
  std::size_t closed = 0;
  for (auto* group : {&slow, &idle})
    for (auto& c : *group) closed += c->wait_closed(2s) ? 1 : 0;
  BOOST_TEST(closed == connection_count);
  slow.clear();
  idle.clear();

  BOOST_TEST(health_status(*this) == 503);
  require_unchanged(before);
}
