// The Beast side of the HTTP server: accept loop, connection coroutines, limits and graceful stop.
// The only Beast-heavy file besides beast_impl.cpp; everything it decides is in handle_request().
#include "redundancy/http/server.hpp"

#include "redundancy/http/wire.hpp"

#include "redundancy/core/host_port.hpp"
#include "redundancy/core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <malloc.h>

#include <array>
#include <charconv>
#include <unordered_set>

namespace redundancy::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct server::state {
  state(asio::any_io_executor ex, server_settings s, router& r)
      : executor(ex), settings(std::move(s)), routes(r), acceptor(ex), trim_timer(ex) {}

  asio::any_io_executor executor;
  server_settings settings;
  router& routes;
  tcp::acceptor acceptor;
  std::unordered_set<tcp::socket*> sockets{};  // the open connections, closed by stop()
  std::size_t open{0};                         // counted from accept, so a burst cannot overshoot the limit
  bool stopping{false};
  asio::steady_timer trim_timer;  // release_memory_soon's
  bool trim_pending{false};
};

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// An answer this large was serialized from a tree of the same order (/api/status of hundreds of
// targets: 168 KB at the designed scale). glibc keeps the pages such a tree freed, so RSS would keep
// the high-water mark (+1.6 MiB there); a second later, once for any number of such answers, they go
// back to the system.
constexpr std::size_t large_answer = 64 * 1024;

void release_memory_soon(const std::shared_ptr<server::state>& st) {
  if (st->trim_pending) return;
  st->trim_pending = true;
  st->trim_timer.expires_after(1s);
  st->trim_timer.async_wait([st](error_code ec) {
    st->trim_pending = false;
    if (!ec) ::malloc_trim(0);
  });
}

// Registers a connection's socket for stop() and counts it down when the connection ends.
class connection_guard {
 public:
  connection_guard(server::state& st, tcp::socket& socket) : st_(st), socket_(socket) { st_.sockets.insert(&socket_); }
  connection_guard(const connection_guard&) = delete;
  connection_guard& operator=(const connection_guard&) = delete;
  ~connection_guard() {
    st_.sockets.erase(&socket_);
    --st_.open;
  }

 private:
  server::state& st_;
  tcp::socket& socket_;
};

// "host:port" or "[v6]:port" ("localhost" meaning 127.0.0.1) to an endpoint.
std::optional<tcp::endpoint> parse_listen(std::string_view text) {
  const auto split = split_host_port(text);
  if (!split) return std::nullopt;
  error_code bad;
  const auto address =
      asio::ip::make_address(split->host == "localhost" ? std::string_view{"127.0.0.1"} : split->host, bad);
  if (bad) return std::nullopt;
  return tcp::endpoint(address, split->port);
}

// Only the plain chunked coding is understood; anything else, or chunked beside a Content-Length,
// would let two parsers disagree on where the body ends (request smuggling).
error_code check_framing(const request_parser& parser) {
  const auto& header = parser.get();
  if (const auto coding = header.find(bhttp::field::transfer_encoding); coding != header.end()) {
    if (!beast::iequals(coding->value(), "chunked") || header.count(bhttp::field::transfer_encoding) != 1 ||
        header.count(bhttp::field::content_length) != 0)
      return bhttp::error::bad_transfer_encoding;
  }
  return {};
}

// Parses what the buffer already holds. A keep-alive client's next request usually arrives whole in
// the read that ended the idle wait, and then it needs no read operation and no timer (a good part of
// the cost of a small request). Returns an error only for a request already known to be bad; a partial
// one is left to read_request, which goes on from where the parser stopped.
error_code parse_buffered(beast::flat_buffer& buffer, request_parser& parser) {
  while (!parser.is_done() && buffer.size() > 0) {
    error_code ec;
    const auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) return {};
    if (ec) return ec;
    if (used == 0) return {};
  }
  return parser.is_header_done() ? check_framing(parser) : error_code{};
}

// Reads one request's header, answers `Expect: 100-continue`, then reads the body.
awaitable<error_code> read_request(beast::tcp_stream& stream, beast::flat_buffer& buffer, request_parser& parser) {
  auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
  if (ec) co_return ec;
  if (auto bad = check_framing(parser)) co_return bad;
  if (parser.is_done()) co_return ec;
  const auto expect = parser.get()[bhttp::field::expect];
  if (beast::iequals(expect, "100-continue")) {
    bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, parser.get().version()};
    auto [write_ec, written] = co_await bhttp::async_write(stream, go_on, use_tuple);
    if (write_ec) co_return write_ec;
  }
  auto [body_ec, body_n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
  co_return body_ec;
}

// Writes an error answer, then reads and drops what the client still sends for a short while and
// closes: closing with unread data would reset the connection and the client might lose the answer.
awaitable<void> answer_and_close(beast::tcp_stream& stream, const server_settings& settings, response_message message) {
  message.keep_alive(false);
  stream.expires_after(settings.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, message, use_tuple);
  if (ec) co_return;
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(settings.close_linger);
  std::array<char, 8192> scratch{};
  for (std::size_t dropped = 0; dropped < 4 * 1024 * 1024;) {
    auto [read_ec, read_n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
    if (read_ec) break;
    dropped += read_n;
  }
  stream.socket().close(ignored);
}

// One connection: requests in turn (keep-alive), each read within read_timeout, with at most
// idle_timeout between them. Ends on close, error, a limit, or stop().
awaitable<void> run_connection(std::shared_ptr<server::state> st, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  connection_guard guard(*st, stream.socket());
  beast::flat_buffer buffer;
  const auto& settings = st->settings;

  for (bool first = true; !st->stopping; first = false) {
    if (!first && buffer.size() == 0) {
      // Idle between requests: wait for the next request's first bytes, or close.
      stream.expires_after(settings.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (ec) {
        if (ec == beast::error::timeout) {
          RLOG("http", debug) << "closing a connection idle for too long";
        }
        co_return;
      }
      buffer.commit(n);
    }

    stream.expires_never();
    request_parser parser;
    apply_limits(parser, settings);
    trailer_watch trailers(parser);
    auto ec = parse_buffered(buffer, parser);
    if (!ec && !parser.is_done()) {
      asio::steady_timer deadline(st->executor);
      deadline.expires_after(settings.read_timeout);
      auto outcome = co_await (read_request(stream, buffer, parser) || deadline.async_wait(use_tuple));
      if (outcome.index() == 1) {
        RLOG("http", debug) << "request not read within the read timeout: 408";
        auto late = json_error(408, "request_timeout", "request not received in time");
        co_await answer_and_close(stream, settings, to_message(std::move(late), 11, false));
        co_return;
      }
      ec = std::get<0>(outcome);
    }
    if (ec && st->stopping) co_return;
    if (ec) {
      // 431, 413 and 400 are answered; anything else (the client went away between requests) just ends.
      if (auto refusal = answer_read_error(ec, settings))
        co_await answer_and_close(stream, settings, to_message(std::move(*refusal), 11, false));
      co_return;
    }

    if (trailers.seen()) {
      co_await answer_and_close(stream, settings, to_message(trailers_refused(), 11, false));
      co_return;
    }
    auto [reply, malformed] = answer_request(parser.get(), settings, st->routes, st->stopping);
    if (malformed) {
      co_await answer_and_close(stream, settings, std::move(reply));
      co_return;
    }
    stream.expires_after(settings.write_timeout);
    auto [write_ec, written] = co_await bhttp::async_write(stream, reply, use_tuple);
    if (written > large_answer) release_memory_soon(st);
    if (write_ec || !reply.keep_alive()) {
      error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}
}  // namespace

server::server(asio::any_io_executor executor, server_settings settings, router& routes)
    : state_(std::make_shared<state>(std::move(executor), std::move(settings), routes)) {}

server::~server() { stop(); }

namespace {
// A listening acceptor on `listen`, or why not (naming the address).
boost::system::result<void, std::string> open_listener(tcp::acceptor& acceptor, const std::string& listen) {
  const auto endpoint = parse_listen(listen);
  if (!endpoint) return "cannot parse listen address '" + listen + "' (want host:port)";
  error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    return "cannot listen on " + listen + ": " + ec.message();
  }
  return {};
}
}  // namespace

boost::system::result<void, std::string> server::listen() {
  if (auto opened = open_listener(state_->acceptor, state_->settings.listen); !opened) return opened;
  state_->settings.beyond_loopback = !local_endpoint().address().is_loopback();
  RLOG("http", info) << "listening on " << local_endpoint();
  return {};
}

boost::system::result<void, std::string> server::rebind(const std::string& listen) {
  tcp::acceptor next(state_->executor);
  if (auto opened = open_listener(next, listen); !opened) return opened;
  // Closing the old acceptor ends its pending accept with operation_aborted; run() then goes on with
  // this one, as the acceptor is open again.
  error_code ignored;
  state_->acceptor.close(ignored);
  state_->acceptor = std::move(next);
  state_->settings.listen = listen;
  state_->settings.beyond_loopback = !local_endpoint().address().is_loopback();
  RLOG("http", info) << "listening on " << local_endpoint() << " instead";
  return {};
}

bool server::beyond_loopback() const { return state_->settings.beyond_loopback; }

tcp::endpoint server::local_endpoint() const { return state_->acceptor.local_endpoint(); }

awaitable<void> server::run() {
  const auto st = state_;
  while (!st->stopping && st->acceptor.is_open()) {
    auto [ec, socket] = co_await st->acceptor.async_accept(use_tuple);
    if (st->stopping) break;
    // rebind() closed the acceptor this accept was waiting on and opened another in its place.
    if (ec == asio::error::operation_aborted) {
      if (st->acceptor.is_open()) continue;
      break;
    }
    if (ec) {
      // Out of descriptors and the like: the daemon lives; pause so the loop does not spin.
      RLOG("http", warning) << "accept failed: " << ec.message();
      asio::steady_timer pause(st->executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    if (st->open >= st->settings.max_connections) {
      RLOG("http", debug) << "connection limit " << st->settings.max_connections << " reached: closing a new one";
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++st->open;
    asio::co_spawn(st->executor, run_connection(st, std::move(socket)), [](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        RLOG("http", error) << "connection failed: " << e.what();
      }
    });
  }
}

void server::stop() {
  if (!state_) return;
  state_->stopping = true;
  error_code ignored;
  state_->acceptor.close(ignored);
  state_->trim_timer.cancel();
  for (auto* socket : state_->sockets) socket->close(ignored);
}

void server::set_token(std::string token) { state_->settings.token = std::move(token); }

void server::set_allowed_hosts(std::vector<std::string> hosts) { state_->settings.allowed_hosts = std::move(hosts); }

void server::set_public_routes(std::vector<std::string> routes) { state_->settings.public_routes = std::move(routes); }

void server::set_web_root(std::optional<std::filesystem::path> root) { state_->settings.web_root = std::move(root); }

std::size_t server::connection_count() const { return state_->open; }

}  // namespace redundancy::http
