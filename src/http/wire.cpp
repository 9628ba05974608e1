// The HTTP server's decisions on bytes already parsed by Beast: read errors, the target, the conversion
// to and from the handlers' plain structs. Synchronous, so the fuzz target runs it without coroutines.
#include "redundancy/http/wire.hpp"

#include "redundancy/core/log.hpp"

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>

namespace redundancy::http {
namespace bhttp = boost::beast::http;
using boost::system::error_code;

void apply_limits(request_parser& parser, const server_settings& settings) {
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(settings.header_limit, UINT32_MAX)));
  parser.body_limit(settings.body_limit);
}

namespace {
std::size_t field_count(const request_message& header) {
  return static_cast<std::size_t>(std::distance(header.begin(), header.end()));
}
}  // namespace

trailer_watch::trailer_watch(request_parser& parser) : parser_(parser) { parser_.on_chunk_header(*this); }

bool trailer_watch::seen() const { return header_fields_ && field_count(parser_.get()) > *header_fields_; }

void trailer_watch::operator()(std::uint64_t size, boost::beast::string_view, error_code&) {
  // Called before each chunk's data; for the last chunk (size 0) before its trailer is parsed.
  if (size == 0) header_fields_ = field_count(parser_.get());
}

response trailers_refused() {
  RLOG("http", debug) << "chunked body with trailer fields: 400";
  return json_error(400, "bad_request", "trailers are not accepted");
}

std::optional<response> answer_read_error(error_code ec, const server_settings& settings) {
  if (ec == bhttp::error::header_limit) {
    RLOG("http", debug) << "request header over " << settings.header_limit << " bytes: 431";
    return json_error(431, "header_too_large", "request header too large");
  }
  if (ec == bhttp::error::body_limit) {
    RLOG("http", debug) << "request body over " << settings.body_limit << " bytes: 413";
    return json_error(413, "body_too_large", "request body too large");
  }
  if (ec == bhttp::error::bad_transfer_encoding) {
    RLOG("http", debug) << "Transfer-Encoding other than chunked: 400";
    return json_error(400, "bad_request", "Transfer-Encoding: only chunked is accepted");
  }
  if (ec == bhttp::error::end_of_stream) return std::nullopt;  // the client closed between requests
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
    RLOG("http", debug) << "malformed request (" << ec.message() << "): 400";
    return json_error(400, "bad_request", "malformed request");
  }
  return std::nullopt;
}

namespace {
// Text a handler may compare, log or echo in a JSON answer: valid UTF-8 without NUL.
bool clean_text(const std::string& text) { return text.find('\0') == std::string::npos && is_valid_utf8(text); }
}  // namespace

// Fills req.path and req.query from an origin-form target; false when it is not one, an escape is
// malformed, or a decoded path, name or value holds NUL or invalid UTF-8.
bool parse_target(std::string_view target, request& req) {
  if (target.empty() || target.front() != '/') return false;
  const auto question = target.find('?');
  auto path = percent_decode(target.substr(0, question));
  if (!path || !clean_text(*path)) return false;
  req.path = std::move(*path);
  if (question == std::string_view::npos) return true;
  auto query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto equals = pair.find('=');
    auto name = percent_decode(pair.substr(0, equals), true);
    auto value = percent_decode(equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1), true);
    if (!name || !value || !clean_text(*name) || !clean_text(*value)) return false;
    req.query[std::move(*name)] = std::move(*value);
  }
  return true;
}

request to_request(const request_message& message) {
  request req;
  req.method = std::string(message.method_string());
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [it, inserted] = req.headers.try_emplace(std::move(name), field.value());
    if (!inserted) (it->second += ", ").append(field.value());
  }
  req.body = message.body();
  return req;
}

response_message to_message(response res, unsigned version, bool head) {
  response_message message{static_cast<bhttp::status>(res.status), version};
  message.set(bhttp::field::server, "redundancy");
  message.set("X-Content-Type-Options", "nosniff");
  if (!res.body.empty() || res.status != 304) message.set(bhttp::field::content_type, res.content_type);
  for (auto& [name, value] : res.headers) message.set(name, value);
  if (res.status == 304 || res.status == 204 || res.status < 200) return message;  // no body, no length
  message.content_length(res.body.size());
  if (!head) message.body() = std::move(res.body);
  return message;
}

request_answer answer_request(const request_message& message, const server_settings& settings, const router& routes,
                              bool stopping) {
  request req = to_request(message);
  if (!parse_target(message.target(), req)) {
    RLOG("http", debug) << "malformed request target: 400";
    return {.message = to_message(json_error(400, "bad_request", "malformed request target"), 11, false),
            .malformed = true};
  }
  auto res = handle_request(req, message.version() >= 11, settings, routes);
  RLOG("http", debug) << req.method << ' ' << req.path << ' ' << res.status;
  auto reply = to_message(std::move(res), message.version(), message.method() == bhttp::verb::head);
  reply.keep_alive(message.keep_alive() && !stopping);
  return {.message = std::move(reply), .malformed = false};
}

}  // namespace redundancy::http
