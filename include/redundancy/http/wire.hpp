// The synchronous half of the HTTP server: from a read error or a parsed Beast request to the Beast
// response, with no I/O and no coroutine, so that the fuzz target drives exactly what the server runs
// through an in-memory stream. Included only by server.cpp, wire.cpp and the fuzz target (Beast types).
#pragma once
#include "redundancy/http/server.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace redundancy::http {

using request_message = boost::beast::http::request<boost::beast::http::string_body>;
using response_message = boost::beast::http::response<boost::beast::http::string_body>;
using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Sets the settings' header and body limits on a fresh parser.
void apply_limits(request_parser& parser, const server_settings& settings);

// Beast merges the fields of a chunked body's trailer into the message's header, where a token, Host or
// Origin sent after the body would pass the checks as header fields. Made beside a fresh parser (and
// kept alive as long as it), it notes how many fields the header had when the last chunk began; any
// field after that came from the trailer. The server answers such a request 400 (trailers_refused).
class trailer_watch {
 public:
  explicit trailer_watch(request_parser& parser);
  trailer_watch(const trailer_watch&) = delete;
  trailer_watch& operator=(const trailer_watch&) = delete;

  // Whether the request read so far carried trailer fields.
  bool seen() const;

  // The parser's chunk-header callback.
  void operator()(std::uint64_t size, boost::beast::string_view extensions, boost::system::error_code& ec);

 private:
  request_parser& parser_;
  std::optional<std::size_t> header_fields_{};  // counted at the last chunk
};

// The answer to a request whose chunked body carried trailer fields: 400, "trailers are not accepted".
response trailers_refused();

// What a failed read deserves: 431 over the header limit, 413 over the body limit, 400 for a request
// Beast found malformed; nullopt when the connection just ends (the client went away, a timeout the
// caller handles, a socket error).
std::optional<response> answer_read_error(boost::system::error_code ec, const server_settings& settings);

// Fills req.path and req.query from an origin-form target; false when it is not one, an escape is
// malformed or the path holds a NUL.
bool parse_target(std::string_view target, request& req);

// The handlers' view of a Beast request: method, lower-case headers (repeats joined with ", "), body.
request to_request(const request_message& message);

// The Beast response for `res`: Server, nosniff, Content-Type and Content-Length (kept for HEAD, whose
// body is dropped; none for 1xx, 204 and 304).
response_message to_message(response res, unsigned version, bool head);

// The answer to one complete request.
struct request_answer {
  response_message message{};
  // A malformed target: the caller answers, then drains and closes (like a read error's answer).
  bool malformed{false};
};

// Target decoding, handle_request() and the conversion back, with keep-alive as the client asked unless
// the server is stopping. Never throws for any input.
request_answer answer_request(const request_message& message, const server_settings& settings, const router& routes,
                              bool stopping);

}  // namespace redundancy::http
