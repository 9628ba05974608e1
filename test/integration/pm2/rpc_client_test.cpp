// The rpc.sock client and the pub.sock watcher against test-owned Unix socket servers on loopback
// files: replies out of order, deadlines, late replies, garbage, closes, refusals and reconnection.
#define BOOST_TEST_MODULE rpc_client
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/bus_watcher.hpp"
#include "redundancy/pm2/rpc_client.hpp"
#include "redundancy/pm2/rpc_protocol.hpp"
#include "support/run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>

using namespace redundancy;
using namespace redundancy::pm2;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
using stream = asio::local::stream_protocol;

namespace redundancy::pm2 {
std::ostream& operator<<(std::ostream& os, rpc_failure f) { return os << to_string(f); }
}  // namespace redundancy::pm2

namespace {

struct socket_dir {
  fs::path dir;
  socket_dir() {
    char d[] = "/tmp/rpcc-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(d));
    dir = d;
  }
  ~socket_dir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path sock(const char* name) const { return dir / name; }
};

using redundancy::test::run_on;

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Reads n request frames from a server-side socket.
awaitable<std::vector<rpc_reply>> read_requests(stream::socket& s, amp_parser& p, std::size_t n) {
  std::vector<rpc_reply> got;  // reuses rpc_reply for {id, body}: the request has the same shape
  std::array<char, 4096> buf;
  while (got.size() < n) {
    auto [ec, k] = co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return got;
    auto frames = p.feed(std::string_view(buf.data(), k));
    BOOST_REQUIRE(frames.has_value());
    for (auto& f : *frames) {
      BOOST_REQUIRE(f.args.size() == 2u);
      auto body = amp_as_json(f.args[0]);
      BOOST_REQUIRE(body.has_value());
      got.push_back({.id = *amp_as_string(f.args[1]), .result = body->at("method"), .error = {}});
    }
  }
  co_return got;
}

std::string reply_frame(const std::string& id, const json::value& result) {
  return amp_encode({amp_json(json::object{{"args", json::array{result}}}), amp_string(id)});
}

}  // namespace

BOOST_AUTO_TEST_CASE(out_of_order_replies_reach_their_own_callers) {
  socket_dir d;
  asio::io_context ioc;
  stream::acceptor acceptor(ioc, stream::endpoint(d.sock("rpc.sock").string()));
  auto server = [&]() -> awaitable<void> {
    auto s = co_await acceptor.async_accept(asio::use_awaitable);
    amp_parser p;
    auto requests = co_await read_requests(s, p, 3);
    BOOST_REQUIRE(requests.size() == 3u);
    // Answer the last first, in two writes that split a frame, as a daemon may.
    std::string all;
    for (auto it = requests.rbegin(); it != requests.rend(); ++it)
      all += reply_frame(it->id, json::string("answer to " + std::string(it->result->as_string())));
    co_await asio::async_write(s, asio::buffer(all.data(), 7), asio::use_awaitable);
    co_await sleep_for(50ms);
    co_await asio::async_write(s, asio::buffer(all.data() + 7, all.size() - 7), asio::use_awaitable);
    co_await sleep_for(200ms);
  };
  asio::co_spawn(ioc, server(), asio::detached);
  rpc_client client(ioc.get_executor(), d.sock("rpc.sock"));
  auto three = [&]() -> awaitable<std::vector<std::string>> {
    auto a = client.call("a", {}, 5s);
    auto b = client.call("b", {}, 5s);
    auto c = client.call("c", {}, 5s);
    auto [ra, rb, rc] = co_await (std::move(a) && std::move(b) && std::move(c));
    std::vector<std::string> out;
    for (auto* r : {&ra, &rb, &rc})
      out.push_back(r->has_value() ? std::string((*r)->as_string()) : "error " + r->error().message);
    co_return out;
  };
  auto answers = run_on(ioc, three());
  BOOST_TEST(answers == (std::vector<std::string>{"answer to a", "answer to b", "answer to c"}),
             boost::test_tools::per_element());
  BOOST_TEST(client.connections() == 1u);
}

BOOST_AUTO_TEST_CASE(a_silent_daemon_times_the_call_out_and_a_late_reply_is_ignored) {
  socket_dir d;
  asio::io_context ioc;
  stream::acceptor acceptor(ioc, stream::endpoint(d.sock("rpc.sock").string()));
  auto server = [&]() -> awaitable<void> {
    auto s = co_await acceptor.async_accept(asio::use_awaitable);
    amp_parser p;
    auto first = co_await read_requests(s, p, 1);
    auto second = co_await read_requests(s, p, 1);  // arrives after the first timed out
    // The late reply to the first, then the second's.
    auto bytes = reply_frame(first.at(0).id, "late") + reply_frame(second.at(0).id, "on time");
    co_await asio::async_write(s, asio::buffer(bytes), asio::use_awaitable);
    co_await sleep_for(200ms);
  };
  asio::co_spawn(ioc, server(), asio::detached);
  rpc_client client(ioc.get_executor(), d.sock("rpc.sock"));
  const auto start = std::chrono::steady_clock::now();
  auto first = run_on(ioc, client.call("slow", {}, 300ms));
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST_REQUIRE(!first.has_value());
  BOOST_TEST(first.error().kind == rpc_failure::timed_out);
  BOOST_TEST(took >= 300ms);
  BOOST_TEST(took < 5s);
  auto second = run_on(ioc, client.call("next", {}, 5s));
  BOOST_TEST_REQUIRE(second.has_value(), (second ? "" : second.error().message));
  BOOST_TEST(second->as_string() == "on time");
}

BOOST_AUTO_TEST_CASE(garbage_drops_the_connection_and_the_next_call_reconnects) {
  socket_dir d;
  asio::io_context ioc;
  stream::acceptor acceptor(ioc, stream::endpoint(d.sock("rpc.sock").string()));
  auto server = [&]() -> awaitable<void> {
    {
      auto s = co_await acceptor.async_accept(asio::use_awaitable);
      amp_parser p;
      co_await read_requests(s, p, 1);
      // A well-formed amp frame that is not a reply, then bytes that are not amp at all.
      std::string garbage = amp_encode({"s:hello", "x"}) + std::string("\xff\xff\xff\xff\xff\xff garbage", 14);
      co_await asio::async_write(s, asio::buffer(garbage), asio::as_tuple(asio::use_awaitable));
      co_await sleep_for(100ms);
    }
    {
      auto s = co_await acceptor.async_accept(asio::use_awaitable);
      amp_parser p;
      auto r = co_await read_requests(s, p, 1);
      auto bytes = reply_frame(r.at(0).id, json::object{{"msg", "pong"}});
      co_await asio::async_write(s, asio::buffer(bytes), asio::use_awaitable);
      co_await sleep_for(200ms);
    }
  };
  asio::co_spawn(ioc, server(), asio::detached);
  rpc_client client(ioc.get_executor(), d.sock("rpc.sock"));
  auto bad = run_on(ioc, client.call("ping", {}, 5s));
  BOOST_TEST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().kind == rpc_failure::protocol);
  BOOST_TEST(!client.connected());
  auto good = run_on(ioc, client.call("ping", {}, 5s));
  BOOST_TEST_REQUIRE(good.has_value(), (good ? "" : good.error().message));
  BOOST_TEST(json::serialize(*good) == R"({"msg":"pong"})");
  BOOST_TEST(client.connections() == 2u);
}

BOOST_AUTO_TEST_CASE(an_absent_or_refusing_socket_is_unreachable_and_creates_nothing) {
  socket_dir d;
  asio::io_context ioc;
  rpc_client absent(ioc.get_executor(), d.sock("rpc.sock"));
  auto r = run_on(ioc, absent.call("ping", {}, 2s));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().kind == rpc_failure::unreachable);
  BOOST_TEST(!fs::exists(d.sock("rpc.sock")));
  {
    // A socket file whose server is gone (a daemon killed with SIGKILL leaves one): refused.
    stream::acceptor gone(ioc, stream::endpoint(d.sock("stale.sock").string()));
  }
  BOOST_TEST(fs::exists(d.sock("stale.sock")));
  rpc_client stale(ioc.get_executor(), d.sock("stale.sock"));
  r = run_on(ioc, stale.call("ping", {}, 2s));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().kind == rpc_failure::unreachable);
}

BOOST_AUTO_TEST_CASE(a_daemon_that_closes_fails_the_call_and_an_error_reply_is_remote) {
  socket_dir d;
  asio::io_context ioc;
  stream::acceptor acceptor(ioc, stream::endpoint(d.sock("rpc.sock").string()));
  auto server = [&]() -> awaitable<void> {
    {
      auto s = co_await acceptor.async_accept(asio::use_awaitable);
      amp_parser p;
      co_await read_requests(s, p, 1);
    }  // closed without a reply
    auto s = co_await acceptor.async_accept(asio::use_awaitable);
    amp_parser p;
    auto r = co_await read_requests(s, p, 1);
    auto bytes = amp_encode({amp_json(json::object{{"error", "method \"x\" does not exist"}}), amp_string(r.at(0).id)});
    co_await asio::async_write(s, asio::buffer(bytes), asio::use_awaitable);
    co_await sleep_for(200ms);
  };
  asio::co_spawn(ioc, server(), asio::detached);
  rpc_client client(ioc.get_executor(), d.sock("rpc.sock"));
  auto closed = run_on(ioc, client.call("x", {}, 5s));
  BOOST_TEST_REQUIRE(!closed.has_value());
  BOOST_TEST(closed.error().kind == rpc_failure::closed);
  auto remote = run_on(ioc, client.call("x", {}, 5s));
  BOOST_TEST_REQUIRE(!remote.has_value());
  BOOST_TEST(remote.error().kind == rpc_failure::remote);
  BOOST_TEST(remote.error().message == "method \"x\" does not exist");
}

BOOST_AUTO_TEST_CASE(the_bus_watcher_reports_events_skips_logs_survives_garbage_and_reconnects) {
  socket_dir d;
  asio::io_context ioc;
  std::vector<bus_notice> seen;
  auto watcher =
      bus_watcher::start(ioc.get_executor(), d.sock("pub.sock"), [&](const bus_notice& n) { seen.push_back(n); });
  auto count = [&](bus_notice::kind k) {
    return std::count_if(seen.begin(), seen.end(), [&](const auto& n) { return n.what == k; });
  };
  auto wait_until = [&](auto pred) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      ioc.restart();
      ioc.run_for(20ms);
    }
    return pred();
  };
  // No socket yet: it keeps retrying, and connects once a server appears.
  ioc.restart();
  ioc.run_for(300ms);
  BOOST_TEST(count(bus_notice::kind::connected) == 0);
  auto acceptor = std::make_unique<stream::acceptor>(ioc, stream::endpoint(d.sock("pub.sock").string()));
  auto publisher = [&](std::string bytes) -> awaitable<void> {
    auto s = co_await acceptor->async_accept(asio::use_awaitable);
    // Byte by byte: frames split everywhere.
    for (char c : bytes) co_await asio::async_write(s, asio::buffer(&c, 1), asio::use_awaitable);
    co_await sleep_for(100ms);
  };
  std::string events =
      amp_encode({"s:log:out", "j:{not even json"}) +
      amp_encode({"s:process:event", R"(j:{"event":"exit","manually":false,"process":{"name":"api"}})"}) +
      amp_encode({"s:process:event", "j:[1]"}) +  // unreadable data: skipped, connection kept
      amp_encode({"s:process:event", R"(j:{"event":"restart overlimit","process":{"name":"worker"}})"});
  asio::co_spawn(ioc, publisher(events), asio::detached);
  BOOST_TEST_REQUIRE(wait_until([&] { return count(bus_notice::kind::closed) == 1; }));
  BOOST_TEST_REQUIRE(count(bus_notice::kind::event) == 2);
  BOOST_TEST(seen.at(1).event.event == "exit");
  BOOST_TEST(seen.at(1).event.app == "api");
  BOOST_TEST(seen.at(2).event.event == "restart overlimit");
  BOOST_TEST(watcher->skipped_frames() == 1u);
  // Garbage that breaks the framing: closed, then back when the server takes connections again.
  asio::co_spawn(ioc, publisher(std::string("\x1f\xff\xff\xff\xff", 5)), asio::detached);
  BOOST_TEST_REQUIRE(wait_until([&] { return count(bus_notice::kind::closed) == 2; }));
  BOOST_TEST(seen.back().why.find("unreadable") != std::string::npos);
  asio::co_spawn(ioc, publisher(""), asio::detached);
  BOOST_TEST(wait_until([&] { return count(bus_notice::kind::connected) == 3; }));
  BOOST_TEST(watcher->connections() == 3u);
  watcher->stop();
  const auto before = seen.size();
  ioc.restart();
  ioc.run_for(300ms);
  BOOST_TEST(seen.size() == before);
}
