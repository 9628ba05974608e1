// The HTTP request and response as handlers see them: plain structs with no Beast, so that handler files
// compile fast. The server (server.cpp) converts to and from Beast's types.
#pragma once
#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redundancy::http {

// One parsed request. The server fills it only after the Host, Origin and size checks have passed.
struct request {
  std::string method{};                          // "GET", "POST", ... as sent
  std::string path{};                            // percent-decoded once, without the query
  std::map<std::string, std::string> query{};    // decoded names and values; a repeated name keeps the last
  std::map<std::string, std::string> headers{};  // lower-case names; repeated headers joined with ", "
  std::string body{};
  bool authorized{false};  // the request carried `Authorization: Bearer <the token>`
};

// What a handler answers. Content-Length, Server and Connection are added by the server.
struct response {
  unsigned status{200};
  std::string content_type{"application/json"};
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};  // extra headers, e.g. Allow, ETag
};

// A JSON answer: `value` serialized as the body, Content-Type application/json.
response json_response(unsigned status, const boost::json::value& value);

// The one error shape of the API: {"error":{"code":code,"message":message}}.
response json_error(unsigned status, std::string_view code, std::string_view message);

// The value of header `name` (lower case), or "" when absent.
std::string_view header_value(const request& req, std::string_view name);

// Decodes %XX escapes once ('+' is kept as is in paths). Fails (nullopt) on a malformed escape.
// With `form` set, '+' becomes a space (query strings).
std::optional<std::string> percent_decode(std::string_view text, bool form = false);

// Whether `text` is well-formed UTF-8: no stray continuation bytes, truncated sequences, overlong
// forms, surrogates (U+D800-DFFF) or code points above U+10FFFF.
bool is_valid_utf8(std::string_view text);

}  // namespace redundancy::http
