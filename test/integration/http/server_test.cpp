// The HTTP server over real sockets on 127.0.0.1:0, in-process on its own io_context thread, driven by a
// raw TCP client: keep-alive, auth, Host/Origin, every limit (each test fails if its limit is removed),
// the connection cap, malformed input, static files and stop().
#define BOOST_TEST_MODULE http_server
#include <boost/test/unit_test.hpp>

#include "redundancy/http/server.hpp"
#include "support/http_client.hpp"

#include <boost/asio/post.hpp>

#include <atomic>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

using namespace redundancy;
using namespace redundancy::http;
using redundancy::test::http_exchange;
using redundancy::test::raw_connection;
using namespace std::chrono_literals;

namespace {
const std::string token = "0123456789abcdef";

// A server with a GET /api/ping, a GET /api/whoami (reports request.authorized) and a POST /api/do that
// counts its calls, running on its own thread until the fixture is destroyed.
struct running_server {
  asio::io_context ioc;
  router routes;
  std::atomic<int> do_calls{0};
  std::unique_ptr<server> srv;
  std::thread thread;
  unsigned short port{0};

  explicit running_server(server_settings settings = {}) {
    settings.listen = "127.0.0.1:0";
    settings.token = token;
    routes.add("GET", "/api/ping", [](const request&, const route_params&) {
      return json_response(200, boost::json::object{{"pong", true}});
    });
    routes.add("GET", "/api/whoami", [](const request& req, const route_params&) {
      return json_response(200, boost::json::object{{"authorized", req.authorized}});
    });
    routes.add("POST", "/api/do", [this](const request& req, const route_params&) {
      ++do_calls;
      return json_response(202, boost::json::object{{"action_id", "a1"}, {"bytes", req.body.size()}});
    });
    srv = std::make_unique<server>(ioc.get_executor(), std::move(settings), routes);
    const auto listening = srv->listen();
    BOOST_REQUIRE_MESSAGE(listening.has_value(), (listening.has_error() ? listening.error() : std::string()));
    port = srv->local_endpoint().port();
    asio::co_spawn(ioc, srv->run(), asio::detached);
    thread = std::thread([this] { ioc.run(); });
  }
  ~running_server() {
    asio::post(ioc, [this] { srv->stop(); });
    thread.join();
  }
};

std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra) + "\r\n";
}

std::string post(std::string_view path, std::string_view body, std::string_view extra) {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" + std::string(body);
}

const std::string auth = "Authorization: Bearer " + token + "\r\n";

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_CASE(keep_alive_two_requests_on_one_connection) {
  running_server s;
  raw_connection c(s.port);
  BOOST_REQUIRE(c.send(get("/api/ping")));
  const auto first = c.read_answer();
  BOOST_REQUIRE(first);
  BOOST_TEST(first->status == 200);
  BOOST_TEST(first->header("content-type") == "application/json");
  BOOST_TEST(first->body == R"({"pong":true})");
  BOOST_REQUIRE(c.send(get("/api/ping")));
  const auto second = c.read_answer();
  BOOST_REQUIRE(second);
  BOOST_TEST(second->status == 200);
  // Two pipelined requests in one write are answered in order too.
  BOOST_REQUIRE(c.send(get("/api/ping") + get("/api/nothing")));
  BOOST_TEST(c.read_answer()->status == 200);
  const auto missing = c.read_answer();
  BOOST_REQUIRE(missing);
  BOOST_TEST(missing->status == 404);
  BOOST_TEST(has(missing->body, R"("code":"not_found")"));
  // Connection: close is honoured.
  BOOST_REQUIRE(c.send(get("/api/ping", "Connection: close\r\n")));
  BOOST_TEST(c.read_answer()->status == 200);
  BOOST_TEST(c.wait_closed(5s));
}

// After the first request of a connection, the server parses what its idle read brought in without
// another read: a whole request, a request with a body, a chunked one, and one that arrives in parts
// must get the same answers and the same refusals as on the first read.
BOOST_AUTO_TEST_CASE(keep_alive_requests_parsed_from_the_buffer_get_the_same_checks) {
  running_server s(server_settings{.read_timeout = 500ms, .close_linger = 100ms});
  raw_connection c(s.port);
  BOOST_REQUIRE(c.send(get("/api/ping")));
  BOOST_TEST(c.read_answer()->status == 200);
  BOOST_REQUIRE(c.send(post("/api/do", R"({"x":12345})", auth)));
  const auto with_body = c.read_answer();
  BOOST_REQUIRE(with_body);
  BOOST_TEST(with_body->status == 202);
  BOOST_TEST(with_body->body == R"({"action_id":"a1","bytes":11})");
  BOOST_REQUIRE(c.send("POST /api/do HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n" + auth +
                       "\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  const auto chunked = c.read_answer();
  BOOST_REQUIRE(chunked);
  BOOST_TEST(chunked->body == R"({"action_id":"a1","bytes":5})");
  // Half a request, then the rest: the read goes on from where the buffered parse stopped.
  const auto request = get("/api/whoami", auth);
  BOOST_REQUIRE(c.send(request.substr(0, 20)));
  std::this_thread::sleep_for(100ms);
  BOOST_REQUIRE(c.send(request.substr(20)));
  const auto joined = c.read_answer();
  BOOST_REQUIRE(joined);
  BOOST_TEST(joined->body == R"({"authorized":true})");
  BOOST_TEST(s.do_calls == 2);
  // A framing that two parsers could read differently is refused on a kept connection too.
  BOOST_REQUIRE(c.send("POST /api/do HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n" + auth +
                       "\r\n3\r\nabc\r\n0\r\n\r\n"));
  const auto smuggled = c.read_answer();
  BOOST_REQUIRE(smuggled);
  BOOST_TEST(smuggled->status == 400);
  BOOST_TEST(s.do_calls == 2);
  BOOST_TEST(c.wait_closed(5s));
  // A kept connection whose next request stops half-way gets 408 at the read limit.
  raw_connection stalled(s.port);
  BOOST_REQUIRE(stalled.send(get("/api/ping")));
  BOOST_TEST(stalled.read_answer()->status == 200);
  BOOST_REQUIRE(stalled.send("GET /api/ping HTTP/1.1\r\nHost: 127"));
  const auto timeout = stalled.read_answer(5s);
  BOOST_REQUIRE(timeout);
  BOOST_TEST(timeout->status == 408);
}

BOOST_AUTO_TEST_CASE(head_and_405) {
  running_server s;
  raw_connection c(s.port);
  BOOST_REQUIRE(c.send("HEAD /api/ping HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const auto head = c.read_answer(10s, true);
  BOOST_REQUIRE(head);
  BOOST_TEST(head->status == 200);
  BOOST_TEST(head->header("content-length") == "13");
  BOOST_TEST(head->body.empty());
  // No body bytes follow: the next answer on the connection starts right away.
  BOOST_REQUIRE(c.send(get("/api/ping")));
  BOOST_TEST(c.read_answer()->body == R"({"pong":true})");
  const auto wrong = http_exchange(s.port, get("/api/do", auth));
  BOOST_REQUIRE(wrong);
  BOOST_TEST(wrong->status == 405);
  BOOST_TEST(wrong->header("allow") == "POST");
}

BOOST_AUTO_TEST_CASE(post_needs_the_token) {
  running_server s;
  const auto none = http_exchange(s.port, post("/api/do", "{}", ""));
  BOOST_REQUIRE(none);
  BOOST_TEST(none->status == 401);
  BOOST_TEST(none->header("www-authenticate") == "Bearer");
  BOOST_TEST(has(none->body, R"("code":"unauthorized")"));
  BOOST_TEST(!has(none->body, token));

  const auto wrong = http_exchange(s.port, post("/api/do", "{}", "Authorization: Bearer 0123456789abcdeX\r\n"));
  BOOST_REQUIRE(wrong);
  BOOST_TEST(wrong->status == 401);
  const auto basic = http_exchange(s.port, post("/api/do", "{}", "Authorization: Basic " + token + "\r\n"));
  BOOST_TEST(basic->status == 401);
  BOOST_TEST(s.do_calls == 0);  // the handler never ran

  const auto right = http_exchange(s.port, post("/api/do", "{}", auth));
  BOOST_REQUIRE(right);
  BOOST_TEST(right->status == 202);
  BOOST_TEST(s.do_calls == 1);

  BOOST_TEST(http_exchange(s.port, get("/api/whoami"))->body == R"({"authorized":false})");
  BOOST_TEST(http_exchange(s.port, get("/api/whoami", auth))->body == R"({"authorized":true})");
}

BOOST_AUTO_TEST_CASE(expect_100_continue) {
  running_server s;
  raw_connection c(s.port);
  const std::string body = R"({"x":1})";
  BOOST_REQUIRE(c.send("POST /api/do HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n" + auth + "\r\n"));
  const auto go_on = c.read_answer();
  BOOST_REQUIRE(go_on);
  BOOST_TEST(go_on->status == 100);
  BOOST_REQUIRE(c.send(body));
  const auto done = c.read_answer();
  BOOST_REQUIRE(done);
  BOOST_TEST(done->status == 202);
}

BOOST_AUTO_TEST_CASE(foreign_host_is_403) {
  running_server s(server_settings{.allowed_hosts = {"watch.example"}});
  const auto foreign = http_exchange(s.port, "GET /api/ping HTTP/1.1\r\nHost: evil.example\r\n\r\n");
  BOOST_REQUIRE(foreign);
  BOOST_TEST(foreign->status == 403);
  BOOST_TEST(has(foreign->body, R"("code":"forbidden_host")"));
  const auto rebinding =
      http_exchange(s.port, "GET /api/ping HTTP/1.1\r\nHost: evil.example:" + std::to_string(s.port) + "\r\n\r\n");
  BOOST_TEST(rebinding->status == 403);
  const auto allowed = http_exchange(s.port, "GET /api/ping HTTP/1.1\r\nHost: watch.example\r\n\r\n");
  BOOST_TEST(allowed->status == 200);
  const auto v6 = http_exchange(s.port, "GET /api/ping HTTP/1.1\r\nHost: [::1]:8686\r\n\r\n");
  BOOST_TEST(v6->status == 200);
  const auto missing = http_exchange(s.port, "GET /api/ping HTTP/1.1\r\n\r\n");
  BOOST_TEST(missing->status == 400);
}

BOOST_AUTO_TEST_CASE(foreign_origin_on_post_is_403) {
  running_server s;
  const auto foreign = http_exchange(s.port, post("/api/do", "{}", auth + "Origin: https://evil.example\r\n"));
  BOOST_REQUIRE(foreign);
  BOOST_TEST(foreign->status == 403);
  BOOST_TEST(has(foreign->body, R"("code":"forbidden_origin")"));
  BOOST_TEST(s.do_calls == 0);
  const auto same = http_exchange(
      s.port, post("/api/do", "{}", auth + "Origin: http://127.0.0.1:" + std::to_string(s.port) + "\r\n"));
  BOOST_TEST(same->status == 202);
  BOOST_TEST(s.do_calls == 1);
}

BOOST_AUTO_TEST_CASE(header_over_8k_is_431) {
  running_server s;
  const auto big = http_exchange(s.port, get("/api/ping", "X-Pad: " + std::string(9 * 1024, 'a') + "\r\n"));
  BOOST_REQUIRE(big);
  BOOST_TEST(big->status == 431);
  BOOST_TEST(has(big->body, R"("code":"header_too_large")"));
  const auto fits = http_exchange(s.port, get("/api/ping", "X-Pad: " + std::string(7 * 1024, 'a') + "\r\n"));
  BOOST_TEST(fits->status == 200);
}

BOOST_AUTO_TEST_CASE(body_over_64k_is_413) {
  running_server s;
  const auto big = http_exchange(s.port, post("/api/do", std::string(65 * 1024, 'x'), auth));
  BOOST_REQUIRE(big);
  BOOST_TEST(big->status == 413);
  BOOST_TEST(has(big->body, R"("code":"body_too_large")"));
  BOOST_TEST(s.do_calls == 0);
  // Chunked bodies count too.
  raw_connection chunked(s.port);
  std::string chunk = std::string(40 * 1024, 'y');
  std::ostringstream size;
  size << std::hex << chunk.size();
  BOOST_REQUIRE(
      chunked.send("POST /api/do HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n" + auth + "\r\n"));
  chunked.send(size.str() + "\r\n" + chunk + "\r\n" + size.str() + "\r\n" + chunk + "\r\n0\r\n\r\n");
  const auto big_chunked = chunked.read_answer();
  BOOST_REQUIRE(big_chunked);
  BOOST_TEST(big_chunked->status == 413);
  BOOST_TEST(s.do_calls == 0);
  const auto fits = http_exchange(s.port, post("/api/do", std::string(63 * 1024, 'x'), auth));
  BOOST_REQUIRE(fits);
  BOOST_TEST(fits->status == 202);
  BOOST_TEST(fits->body == R"({"action_id":"a1","bytes":64512})");
}

BOOST_AUTO_TEST_CASE(request_trickled_slower_than_the_read_limit_is_cut) {
  running_server s(server_settings{.read_timeout = 300ms, .close_linger = 100ms});
  raw_connection c(s.port);
  // Each byte comes well within any per-read timeout, but the whole request takes about 2 s.
  const std::string request = get("/api/ping");
  bool cut = false;
  for (const char byte : request) {
    if (c.readable(0ms) || !c.send(std::string_view(&byte, 1))) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2000 / static_cast<int>(request.size())));
  }
  BOOST_TEST(cut);
  const auto answer = c.read_answer(5s);
  if (answer) {
    BOOST_TEST(answer->status == 408);
    BOOST_TEST(has(answer->body, R"("code":"request_timeout")"));
  }
  BOOST_TEST(c.wait_closed(5s));
  // A connection that sends nothing at all is cut the same way.
  raw_connection silent(s.port);
  const auto timeout = silent.read_answer(5s);
  BOOST_REQUIRE(timeout);
  BOOST_TEST(timeout->status == 408);
  BOOST_TEST(http_exchange(s.port, get("/api/ping"))->status == 200);
}

BOOST_AUTO_TEST_CASE(idle_keep_alive_connection_is_closed) {
  running_server s(server_settings{.idle_timeout = 300ms});
  raw_connection c(s.port);
  BOOST_REQUIRE(c.send(get("/api/ping")));
  BOOST_TEST(c.read_answer()->status == 200);
  BOOST_TEST(c.wait_closed(5s));
}

BOOST_AUTO_TEST_CASE(connections_over_the_cap_are_closed_and_the_server_lives) {
  running_server s(server_settings{.read_timeout = 60s, .max_connections = 256});
  std::vector<std::unique_ptr<raw_connection>> connections;
  for (int i = 0; i < 300; ++i) connections.push_back(std::make_unique<raw_connection>(s.port));
  // The kernel queues connections in order, so the first 256 are served and the last 44 refused.
  int closed = 0;
  for (std::size_t i = 256; i < connections.size(); ++i) closed += connections[i]->wait_closed(5s) ? 1 : 0;
  BOOST_TEST(closed == 44);
  int answered = 0;
  for (std::size_t i = 0; i < 256; ++i) {
    if (!connections[i]->send(get("/api/ping"))) continue;
    const auto answer = connections[i]->read_answer();
    answered += answer && answer->status == 200 ? 1 : 0;
  }
  BOOST_TEST(answered == 256);
  connections.clear();
  // Once they are gone (the server notices asynchronously) a new client is served again.
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    const auto answer = http_exchange(s.port, get("/api/ping"));
    served = answer && answer->status == 200;
    if (!served) std::this_thread::sleep_for(50ms);
  }
  BOOST_TEST(served);
}

BOOST_AUTO_TEST_CASE(garbage_gets_400_or_close_and_the_server_answers) {
  running_server s;
  const std::string garbage[] = {
      std::string("\x00\x01\x02\xff garbage\r\n\r\n", 16),
      "GET\r\n\r\n",
      "GET /api/ping HTTP/9.9.9\r\n\r\n",
      "GET nothing HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/ping%00 HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "POST /api/do HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n",
      "POST /api/do HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "GET /api/ping HTTP/1.1\r\nHost localhost\r\n\r\n",
      std::string(5000, 'G') + "\r\n\r\n",
  };
  for (const auto& bytes : garbage) {
    raw_connection c(s.port);
    c.send(bytes);
    const auto answer = c.read_answer(5s);
    if (answer) BOOST_TEST(answer->status == 400, bytes.substr(0, 40) << " -> " << answer->status);
    BOOST_TEST(c.wait_closed(5s), bytes.substr(0, 40));
  }
  BOOST_TEST(s.do_calls == 0);
  BOOST_TEST(http_exchange(s.port, get("/api/ping"))->status == 200);
}

BOOST_AUTO_TEST_CASE(static_files_and_traversal_over_the_wire) {
  namespace fs = std::filesystem;
  const auto base = fs::temp_directory_path() / ("redundancy-web-" + std::to_string(std::random_device{}()));
  fs::create_directories(base / "web");
  std::ofstream(base / "web" / "index.html") << "<h1>dashboard</h1>";
  std::ofstream(base / "secret.txt") << "SECRET";
  {
    running_server s(server_settings{.web_root = base / "web"});
    const auto home = http_exchange(s.port, get("/"));
    BOOST_REQUIRE(home);
    BOOST_TEST(home->status == 200);
    BOOST_TEST(home->header("content-type") == "text/html; charset=utf-8");
    BOOST_TEST(home->body == "<h1>dashboard</h1>");
    const auto cached = http_exchange(s.port, get("/", "If-None-Match: " + home->header("etag") + "\r\n"));
    BOOST_TEST(cached->status == 304);
    BOOST_TEST(http_exchange(s.port, get("/api/nothing"))->header("content-type") == "application/json");
    BOOST_TEST(http_exchange(s.port, get("/api/ping"))->status == 200);
    for (const char* target :
         {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/%252e%252e/secret.txt", "/..%2fsecret.txt",
          "/%2e%2e%2fsecret.txt", "/..%5csecret.txt", "/%00/../secret.txt", "//secret.txt", "/secret.txt"}) {
      const auto answer = http_exchange(s.port, get(target));
      if (!answer) continue;
      BOOST_TEST((answer->status == 400 || answer->status == 404), target << " -> " << answer->status);
      BOOST_TEST(!has(answer->body, "SECRET"), target);
    }
  }
  fs::remove_all(base);
}

BOOST_AUTO_TEST_CASE(stop_closes_open_connections) {
  auto s = std::make_unique<running_server>();
  raw_connection c(s->port);
  BOOST_REQUIRE(c.send(get("/api/ping")));
  BOOST_TEST(c.read_answer()->status == 200);
  s.reset();  // stops the server and joins its thread: only possible once every connection ended
  BOOST_TEST(c.wait_closed(5s));
}
