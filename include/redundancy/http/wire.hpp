// The synchronous half of the HTTP server: from a read error or a parsed Beast request to the Beast
// response, with no I/O and no coroutine, so that the fuzz target drives exactly what the server runs
// through an in-memory stream. Included only by server.cpp, wire.cpp and the fuzz target (Beast types).
#pragma once
#include "redundancy/http/server.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <optional>
#include <string_view>

namespace redundancy::http {

using request_message = boost::beast::http::request<boost::beast::http::string_body>;
using response_message = boost::beast::http::response<boost::beast::http::string_body>;
using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Sets the settings' header and body limits on a fresh parser.
void apply_limits(request_parser& parser, const server_settings& settings);

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
