// The HTTP/1.1 client: URL parsing, one request per connection over plain TCP or TLS, a single deadline
// for the whole exchange, the body read with a cap, and every failure turned into words.
#include "redundancy/net/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <variant>

namespace redundancy::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_header_bytes = 64 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

boost::system::result<parsed_url, std::string> bad_url(std::string why) {
  return {boost::system::in_place_error, std::move(why)};
}

http_reply failure(std::string error) {
  http_reply r;
  r.error = std::move(error);
  return r;
}

// What the exchange was doing when it failed decides how the error reads.
enum class stage { connect, handshake, write, read };

std::string describe_error(const error_code& ec, stage at, const http_request_spec& spec, const parsed_url& url,
                           steady::time_point deadline) {
  if (ec == beast::error::timeout || steady::now() >= deadline)
    return "timed out after " + describe_duration(spec.timeout);
  if (ec == bhttp::error::body_limit) return "body over " + describe_size(spec.max_body);
  if (ec == bhttp::error::header_limit) return "headers over " + describe_size(max_header_bytes);
  const std::string where = url.host_header();
  switch (at) {
    case stage::connect:
      if (ec == asio::error::connection_refused) return "connection refused";
      if (ec == asio::error::host_unreachable) return "host unreachable: " + where;
      if (ec == asio::error::network_unreachable) return "network unreachable: " + where;
      return "cannot connect to " + where + ": " + ec.message();
    case stage::handshake:
      return "TLS handshake with " + where + " failed: " + ec.message();
    case stage::write:
      return "sending the request to " + where + " failed: " + ec.message();
    case stage::read:
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset)
        return "connection closed by " + where + " before a reply";
      if (ec == bhttp::error::partial_message) return "connection closed by " + where + " in the middle of the reply";
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_status).category())
        return "malformed reply from " + where + ": " + ec.message();
      return "reading the reply from " + where + " failed: " + ec.message();
  }
  return ec.message();
}

bhttp::request<bhttp::string_body> build_request(const http_request_spec& spec, const parsed_url& url) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(spec.method);
  req.target(url.target);
  req.version(11);
  req.set(bhttp::field::host, url.host_header());
  req.set(bhttp::field::user_agent, std::string("redundancy/") + REDUNDANCY_VERSION);
  // One request per connection: saying so lets servers that read until close answer at once.
  req.set(bhttp::field::connection, "close");
  for (const auto& [name, value] : spec.headers) req.set(name, value);
  req.body() = spec.body;
  if (!spec.body.empty() || spec.method == "POST" || spec.method == "PUT" || spec.method == "PATCH")
    req.prepare_payload();
  return req;
}

// Writes the request and reads the reply on an already connected (and, for TLS, handshaken) stream.
template <typename Stream>
awaitable<http_reply> exchange(Stream& stream, beast::tcp_stream& socket, const http_request_spec& spec,
                               const parsed_url& url, steady::time_point deadline) {
  auto req = build_request(spec, url);
  socket.expires_at(deadline);
  auto [write_ec, written] = co_await bhttp::async_write(stream, req, use_tuple);
  if (write_ec) co_return failure(describe_error(write_ec, stage::write, spec, url, deadline));

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(spec.max_body);
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  if (spec.method == "HEAD") parser.skip(true);
  socket.expires_at(deadline);
  auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
  if (read_ec) co_return failure(describe_error(read_ec, stage::read, spec, url, deadline));

  auto& res = parser.get();
  http_reply reply;
  reply.status = res.result_int();
  for (const auto& field : res) {
    auto name = lower(field.name_string());
    auto [it, inserted] = reply.headers.try_emplace(name, field.value());
    if (!inserted) it->second.append(", ").append(field.value());
  }
  reply.body = std::move(res.body());
  co_return reply;
}

awaitable<http_reply> fetch(const http_request_spec& spec) {
  auto url = parse_url(spec.url);
  if (!url) co_return failure("bad URL '" + spec.url + "': " + url.error());
  const auto deadline = steady::now() + spec.timeout;
  auto ex = co_await asio::this_coro::executor;

  // The resolver is not a Beast stream and has no expiry of its own: race it against the deadline.
  tcp::resolver resolver(ex);
  asio::steady_timer timer(ex);
  timer.expires_at(deadline);
  const auto port = std::to_string(url->port);
  auto raced = co_await (resolver.async_resolve(url->host, port, use_tuple) || timer.async_wait(use_tuple));
  if (raced.index() == 1) co_return failure("timed out after " + describe_duration(spec.timeout));
  auto [resolve_ec, endpoints] = std::get<0>(std::move(raced));
  if (resolve_ec) co_return failure("cannot resolve '" + url->host + "': " + resolve_ec.message());

  if (!url->tls()) {
    beast::tcp_stream stream(ex);
    stream.expires_at(deadline);
    auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, use_tuple);
    if (connect_ec) co_return failure(describe_error(connect_ec, stage::connect, spec, *url, deadline));
    auto reply = co_await exchange(stream, stream, spec, *url, deadline);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return reply;
  }

  asio::ssl::context tls(asio::ssl::context::tls_client);
  error_code ca_ec;
  if (spec.ca_file)
    tls.load_verify_file(spec.ca_file->string(), ca_ec);
  else
    tls.set_default_verify_paths(ca_ec);
  if (ca_ec) co_return failure("cannot load trusted certificates: " + ca_ec.message());
  tls.set_verify_mode(asio::ssl::verify_peer);

  beast::ssl_stream<beast::tcp_stream> stream(ex, tls);
  // SNI carries names only: a literal address is not sent (RFC 6066 §3).
  if (!is_ip_literal(url->host) && !SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str()))
    co_return failure("cannot set the TLS server name '" + url->host + "'");
  stream.set_verify_callback(asio::ssl::host_name_verification(url->host));

  auto& socket = beast::get_lowest_layer(stream);
  socket.expires_at(deadline);
  auto [connect_ec, endpoint] = co_await socket.async_connect(endpoints, use_tuple);
  if (connect_ec) co_return failure(describe_error(connect_ec, stage::connect, spec, *url, deadline));
  socket.expires_at(deadline);
  auto [handshake_ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (handshake_ec) co_return failure(describe_error(handshake_ec, stage::handshake, spec, *url, deadline));
  // No TLS close_notify: the reply is complete by its framing, and a peer that never answers the
  // shutdown would only hold us until the deadline.
  co_return co_await exchange(stream, socket, spec, *url, deadline);
}

}  // namespace

std::string parsed_url::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + host + "]" : host;
  const bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

boost::system::result<parsed_url, std::string> parse_url(std::string_view text) {
  parsed_url url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad_url("expected http://host/... or https://host/...");
  url.scheme = lower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") return bad_url("unsupported scheme '" + url.scheme + "'");
  auto rest = text.substr(scheme_end + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);

  const auto authority_end = rest.find_first_of("/?");
  const auto authority = rest.substr(0, authority_end);
  if (authority_end != std::string_view::npos) {
    url.target = std::string(rest.substr(authority_end));
    if (url.target.front() == '?') url.target.insert(0, "/");
  }
  if (authority.find('@') != std::string_view::npos) return bad_url("user info in URLs is not supported");
  for (char c : url.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad_url("the path holds a space or control character");

  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url("unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url("unexpected '" + std::string(after) + "' after the host");
      port = after.substr(1);
    }
    error_code ec;
    asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return bad_url("bad IPv6 address '" + std::string(host) + "'");
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad_url("no host");
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == ':' || c == '%'))
      return bad_url("bad character '" + std::string(1, c) + "' in the host");
  url.host = lower(host);

  url.port = url.tls() ? 443 : 80;
  if (!port.empty() || authority.ends_with(':')) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      return bad_url("bad port '" + std::string(port) + "'");
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

awaitable<http_reply> http_fetch(http_request_spec spec) {
  // Bugs below (bad_alloc, a Beast precondition) still throw; everything the network does is a value.
  co_return co_await fetch(spec);
}

std::string describe_duration(std::chrono::milliseconds d) {
  using namespace std::chrono;
  const auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "min";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string describe_size(std::size_t bytes) {
  constexpr std::size_t kib = 1024;
  constexpr std::size_t mib = 1024 * kib;
  if (bytes != 0 && bytes % mib == 0) return std::to_string(bytes / mib) + " MiB";
  if (bytes != 0 && bytes % kib == 0) return std::to_string(bytes / kib) + " KiB";
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

}  // namespace redundancy::http

// The only TLS user in the program, so Asio's SSL part is compiled here (BOOST_ASIO_SEPARATE_COMPILATION
// leaves it out of the Asio translation unit).
#include <boost/asio/ssl/impl/src.hpp>
