// The HTTP/1.1 server: accept loop, one coroutine per connection with keep-alive, the size and time
// limits, the security checks, then the router or the static files. Beast stays inside server.cpp.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/http/router.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace redundancy::http {

using namespace std::chrono_literals;

// What the server needs; the limits have the documented defaults and are members so tests can shrink them.
struct server_settings {
  std::string listen{"127.0.0.1:8686"};  // host:port or [v6]:port; port 0 picks a free one
  std::string token{};                   // the Bearer token POSTs need; empty refuses every POST
  std::vector<std::string> allowed_hosts{};
  std::optional<std::filesystem::path> web_root{};  // static files for non-API GET/HEAD when set
  // Set by listen() from the bound address: not a loopback one, so every API path but public_routes
  // needs the token (check_exposed_read).
  bool beyond_loopback{false};
  std::vector<std::string> public_routes{"/api/health", "/metrics"};
  std::size_t header_limit{8 * 1024};            // request line + headers; more: 431
  std::size_t body_limit{64 * 1024};             // more: 413
  std::chrono::milliseconds read_timeout{10s};   // the whole request, from its first byte: 408, close
  std::chrono::milliseconds idle_timeout{30s};   // between requests on a kept-alive connection: close
  std::chrono::milliseconds write_timeout{10s};  // writing one response: close
  std::size_t max_connections{256};              // more open at once: accepted and closed at once
  // After an error answer (400, 408, 413, 431) the rest of what the client sends is read and dropped for
  // at most this long before closing, so that the close does not reset the connection before the client
  // has read the answer.
  std::chrono::milliseconds close_linger{1s};
};

// The response to a request: the security checks, then /api/ and /metrics through the router, other
// GET/HEAD paths as static files when a web root is set, else the router's 404/405. Never throws.
response handle_request(request& req, bool http11, const server_settings& settings, const router& routes);

class server {
 public:
  // `routes` must outlive the server and every connection it runs.
  server(asio::any_io_executor executor, server_settings settings, router& routes);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();

  // Opens, binds and listens on settings.listen (a numeric address or "localhost"). An unparsable
  // address or a failed bind is an error naming the address.
  boost::system::result<void, std::string> listen();

  // The bound address (the real port when settings.listen asked for port 0). Only after listen().
  asio::ip::tcp::endpoint local_endpoint() const;

  // Accepts until stop(); every connection runs in its own coroutine on the same executor. Returns
  // when the acceptor is closed. Connections still open then end on their own or through stop().
  awaitable<void> run();

  // Closes the acceptor and every open connection (their coroutines end promptly). Idempotent.
  void stop();

  // Moves the listener to `listen` (config reload): the new address is bound first, and only once it
  // listens is the old one closed, so a failure (the error names the address) leaves the server as it
  // was. Connections already open stay open until they end. Only after listen().
  boost::system::result<void, std::string> rebind(const std::string& listen);

  // Whether the bound address is not a loopback one (every API path but public_routes needs the token).
  bool beyond_loopback() const;

  // Replace settings on a config reload; requests read after the call use the new values.
  void set_token(std::string token);
  void set_allowed_hosts(std::vector<std::string> hosts);
  void set_public_routes(std::vector<std::string> routes);
  void set_web_root(std::optional<std::filesystem::path> root);

  // How many connections are open now.
  std::size_t connection_count() const;

  // Defined in server.cpp; shared with the connection coroutines so they may outlive a stop().
  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace redundancy::http
