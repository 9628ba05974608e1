// The HTTP client against tiny scripted servers on loopback: replies, chunking, caps, timeouts, refusals.
#define BOOST_TEST_MODULE http_client
#include <boost/test/unit_test.hpp>

#include "redundancy/net/client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <functional>
#include <future>

namespace {

using namespace redundancy;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using http::http_fetch;
using http::http_reply;
using http::http_request_spec;

// Runs the loop until `task` finishes; servers still waiting are dropped with the io_context.
template <typename T>
T run_until(asio::io_context& ioc, awaitable<T> task) {
  auto done = asio::co_spawn(ioc, std::move(task), asio::use_future);
  while (done.wait_for(0s) != std::future_status::ready) ioc.run_one();
  return done.get();
}

// Reads one request (head and Content-Length body) and returns it as text.
awaitable<std::string> read_request(tcp::socket& socket) {
  std::string data;
  const auto head_end =
      co_await asio::async_read_until(socket, asio::dynamic_buffer(data), "\r\n\r\n", asio::use_awaitable);
  std::size_t length = 0;
  if (auto at = data.find("Content-Length: "); at != std::string::npos && at < head_end)
    length = std::stoul(data.substr(at + 16));
  if (data.size() < head_end + length)
    co_await asio::async_read(socket, asio::dynamic_buffer(data),
                              asio::transfer_exactly(head_end + length - data.size()), asio::use_awaitable);
  co_return data;
}

// A listener on 127.0.0.1 (or ::1) that hands each accepted connection to `script`.
struct loopback_server {
  tcp::acceptor acceptor;
  std::function<awaitable<void>(tcp::socket)> script;

  loopback_server(asio::io_context& ioc, std::function<awaitable<void>(tcp::socket)> s,
                  tcp::endpoint where = {asio::ip::make_address("127.0.0.1"), 0})
      : acceptor(ioc, where), script(std::move(s)) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }

  awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor.async_accept(asio::use_awaitable);
      asio::co_spawn(acceptor.get_executor(), script(std::move(socket)), asio::detached);
    }
  }

  std::string url(std::string_view target = "/") const {
    const auto ep = acceptor.local_endpoint();
    const auto host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
    return "http://" + host + ":" + std::to_string(ep.port()) + std::string(target);
  }
};

// Answers every connection with `reply` after reading the request, keeping the request text.
std::function<awaitable<void>(tcp::socket)> answer(std::string reply, std::string* seen = nullptr) {
  return [reply, seen](tcp::socket socket) -> awaitable<void> {
    auto request = co_await read_request(socket);
    if (seen) *seen = request;
    co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(parse_url_splits_and_refuses) {
  auto a = http::parse_url("https://api.github.com/repos/o/r?per_page=1");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(a->scheme == "https");
  BOOST_TEST(a->host == "api.github.com");
  BOOST_TEST(a->port == 443);
  BOOST_TEST(a->target == "/repos/o/r?per_page=1");
  BOOST_TEST(a->host_header() == "api.github.com");

  auto b = http::parse_url("http://[::1]:8686");
  BOOST_TEST_REQUIRE(b.has_value());
  BOOST_TEST(b->host == "::1");
  BOOST_TEST(b->port == 8686);
  BOOST_TEST(b->target == "/");
  BOOST_TEST(b->host_header() == "[::1]:8686");

  auto c = http::parse_url("HTTP://Example.COM?x=1#frag");
  BOOST_TEST_REQUIRE(c.has_value());
  BOOST_TEST(c->host == "example.com");
  BOOST_TEST(c->target == "/?x=1");

  BOOST_TEST(http::parse_url("ftp://x/").error() == "unsupported scheme 'ftp'");
  BOOST_TEST(http::parse_url("http://x:99999/").error() == "bad port '99999'");
  BOOST_TEST(http::parse_url("http://x:/").error() == "bad port ''");
  BOOST_TEST(http::parse_url("http:///path").error() == "no host");
  BOOST_TEST(http::parse_url("localhost:8686").has_error());
  BOOST_TEST(http::parse_url("http://[::1/").error() == "unclosed '[' in the host");
  BOOST_TEST(http::parse_url("http://[zz]/").error() == "bad IPv6 address 'zz'");
  BOOST_TEST(http::parse_url("http://u:p@host/").has_error());
  BOOST_TEST(http::parse_url("http://host/a b").has_error());
}

BOOST_AUTO_TEST_CASE(descriptions_read_as_people_write_them) {
  BOOST_TEST(http::describe_duration(10s) == "10s");
  BOOST_TEST(http::describe_duration(250ms) == "250ms");
  BOOST_TEST(http::describe_duration(2min) == "2min");
  BOOST_TEST(http::describe_size(8 * 1024 * 1024) == "8 MiB");
  BOOST_TEST(http::describe_size(64 * 1024) == "64 KiB");
  BOOST_TEST(http::describe_size(1000) == "1000 bytes");
}

BOOST_AUTO_TEST_CASE(status_headers_and_body_come_back) {
  asio::io_context ioc;
  std::string seen;
  loopback_server server(ioc, answer("HTTP/1.1 201 Created\r\nX-Thing: a\r\nSet-Cookie: x=1\r\nSet-Cookie: y=2\r\n"
                                     "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
                                     &seen));
  http_request_spec spec{.method = "POST",
                         .url = server.url("/api/check?x=1"),
                         .headers = {{"Authorization", "Bearer t0k"}},
                         .body = R"({"subsystem":"pm2"})"};
  const auto reply = run_until(ioc, http_fetch(spec));
  BOOST_TEST(reply.error == "");
  BOOST_TEST(reply.status == 201u);
  BOOST_TEST(reply.body == R"({"ok":true})");
  BOOST_TEST(reply.headers.at("x-thing") == "a");
  BOOST_TEST(reply.headers.at("content-type") == "application/json");
  BOOST_TEST(reply.headers.at("set-cookie") == "x=1, y=2");
  BOOST_TEST(seen.starts_with("POST /api/check?x=1 HTTP/1.1\r\n"));
  BOOST_TEST(seen.find("User-Agent: redundancy/" REDUNDANCY_VERSION "\r\n") != std::string::npos);
  BOOST_TEST(seen.find("Authorization: Bearer t0k\r\n") != std::string::npos);
  BOOST_TEST(seen.find("Host: 127.0.0.1:") != std::string::npos);
  BOOST_TEST(seen.ends_with("\r\n\r\n{\"subsystem\":\"pm2\"}"));
}

BOOST_AUTO_TEST_CASE(error_statuses_are_replies_not_errors) {
  asio::io_context ioc;
  loopback_server server(ioc, answer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown"));
  const auto reply = run_until(ioc, http_fetch({.url = server.url()}));
  BOOST_TEST(reply.error == "");
  BOOST_TEST(reply.status == 503u);
  BOOST_TEST(reply.body == "down");
}

BOOST_AUTO_TEST_CASE(chunked_reply_is_reassembled) {
  asio::io_context ioc;
  loopback_server server(ioc, answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     "5\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\n\r\n"));
  const auto reply = run_until(ioc, http_fetch({.url = server.url()}));
  BOOST_TEST(reply.error == "");
  BOOST_TEST(reply.status == 200u);
  BOOST_TEST(reply.body == "hello, world");
}

BOOST_AUTO_TEST_CASE(reply_ending_at_close_is_read_whole) {
  asio::io_context ioc;
  loopback_server server(ioc, [](tcp::socket socket) -> awaitable<void> {
    co_await read_request(socket);
    const std::string reply = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
    co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
    socket.close();
  });
  const auto reply = run_until(ioc, http_fetch({.url = server.url()}));
  BOOST_TEST(reply.error == "");
  BOOST_TEST(reply.body == "until the end");
}

BOOST_AUTO_TEST_CASE(body_over_the_cap_is_an_error) {
  asio::io_context ioc;
  loopback_server sized(ioc, answer("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x')));
  auto reply = run_until(ioc, http_fetch({.url = sized.url(), .max_body = 1000}));
  BOOST_TEST(reply.error == "body over 1000 bytes");
  BOOST_TEST(reply.body.empty());

  loopback_server chunked(ioc,
                          answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "400\r\n" +
                                 std::string(1024, 'y') + "\r\n400\r\n" + std::string(1024, 'y') + "\r\n0\r\n\r\n"));
  reply = run_until(ioc, http_fetch({.url = chunked.url(), .max_body = 1024}));
  BOOST_TEST(reply.error == "body over 1 KiB");

  // Exactly at the cap is fine.
  reply = run_until(ioc, http_fetch({.url = sized.url(), .max_body = 2000}));
  BOOST_TEST(reply.error == "");
  BOOST_TEST(reply.body.size() == 2000u);
}

BOOST_AUTO_TEST_CASE(server_that_never_answers_times_out) {
  asio::io_context ioc;
  std::vector<std::shared_ptr<tcp::socket>> held;
  loopback_server server(ioc, [&held](tcp::socket socket) -> awaitable<void> {
    held.push_back(std::make_shared<tcp::socket>(std::move(socket)));  // accepted, read nothing, said nothing
    co_return;
  });
  const auto reply = run_until(ioc, http_fetch({.url = server.url(), .timeout = 300ms}));
  BOOST_TEST(reply.error == "timed out after 300ms");
  BOOST_TEST(reply.status == 0u);
  BOOST_TEST(held.size() == 1u);
}

BOOST_AUTO_TEST_CASE(trickling_server_cannot_stretch_the_deadline) {
  asio::io_context ioc;
  int bytes_sent = 0;
  loopback_server server(ioc, [&bytes_sent](tcp::socket socket) -> awaitable<void> {
    co_await read_request(socket);
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'z');
    asio::steady_timer tick(socket.get_executor());
    // One byte every 50 ms would take about a minute; bounded, and it stops when the client hangs up.
    for (char c : reply) {
      boost::system::error_code ec;
      co_await asio::async_write(socket, asio::buffer(&c, 1), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++bytes_sent;
      tick.expires_after(50ms);
      co_await tick.async_wait(asio::use_awaitable);
    }
  });
  const auto reply = run_until(ioc, http_fetch({.url = server.url(), .timeout = 600ms}));
  BOOST_TEST(reply.error == "timed out after 600ms");
  BOOST_TEST(bytes_sent > 1);  // it was trickling, not silent
}

BOOST_AUTO_TEST_CASE(nothing_listening_is_connection_refused) {
  asio::io_context ioc;
  std::string url;
  {
    tcp::acceptor probe(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    url = "http://127.0.0.1:" + std::to_string(probe.local_endpoint().port()) + "/";
  }
  const auto reply = run_until(ioc, http_fetch({.url = url}));
  BOOST_TEST(reply.error == "connection refused");
  BOOST_TEST(reply.status == 0u);
}

BOOST_AUTO_TEST_CASE(closing_without_a_reply_is_an_error) {
  asio::io_context ioc;
  loopback_server server(ioc, [](tcp::socket socket) -> awaitable<void> {
    co_await read_request(socket);
    socket.close();
  });
  const auto reply = run_until(ioc, http_fetch({.url = server.url()}));
  BOOST_TEST(reply.error.find("before a reply") != std::string::npos, reply.error);
}

BOOST_AUTO_TEST_CASE(bad_url_is_an_error_not_an_exception) {
  asio::io_context ioc;
  const auto reply = run_until(ioc, http_fetch({.url = "gopher://x/"}));
  BOOST_TEST(reply.error == "bad URL 'gopher://x/': unsupported scheme 'gopher'");
}

BOOST_AUTO_TEST_CASE(ipv6_literal_hosts_work) {
  asio::io_context ioc;
  boost::system::error_code ec;
  tcp::acceptor probe(ioc);
  probe.open(tcp::v6(), ec);
  if (!ec) probe.bind({asio::ip::make_address("::1"), 0}, ec);
  if (ec) {
    BOOST_TEST_MESSAGE("skipped: this machine has no ::1 (" << ec.message() << ")");
    return;
  }
  probe.close();
  std::string seen;
  loopback_server server(ioc, answer("HTTP/1.1 204 No Content\r\n\r\n", &seen), {asio::ip::make_address("::1"), 0});
  const auto reply = run_until(ioc, http_fetch({.url = server.url("/v6")}));
  BOOST_TEST(reply.error == "");
  BOOST_TEST(reply.status == 204u);
  BOOST_TEST(seen.find("Host: [::1]:") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tls_to_a_plain_server_fails_cleanly) {
  asio::io_context ioc;
  loopback_server server(ioc, [](tcp::socket socket) -> awaitable<void> {
    // The ClientHello is not HTTP; answer it as a plain server would, then hang up.
    char junk[512];
    boost::system::error_code ec;
    co_await socket.async_read_some(asio::buffer(junk), asio::redirect_error(asio::use_awaitable, ec));
    const std::string reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
    socket.close(ec);
  });
  auto url = server.url();
  url.replace(0, 4, "https");
  const auto reply = run_until(ioc, http_fetch({.url = url, .timeout = 5s}));
  BOOST_TEST(reply.error.starts_with("TLS handshake with 127.0.0.1:"), reply.error);
  BOOST_TEST(reply.status == 0u);
}

BOOST_AUTO_TEST_CASE(missing_ca_file_is_an_error) {
  asio::io_context ioc;
  const auto reply = run_until(ioc, http_fetch({.url = "https://127.0.0.1:1/", .ca_file = "/nonexistent/ca.pem"}));
  BOOST_TEST(reply.error.starts_with("cannot load trusted certificates"), reply.error);
}
