// JSON answers and the small text helpers shared by the router, the checks and the static files.
#include "redundancy/http/message.hpp"

#include <boost/json/serialize.hpp>

namespace redundancy::http {
namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

response json_response(unsigned status, const boost::json::value& value) {
  return response{.status = status, .content_type = "application/json", .body = boost::json::serialize(value)};
}

response json_error(unsigned status, std::string_view code, std::string_view message) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  boost::json::object body;
  body["error"] = std::move(error);
  return json_response(status, body);
}

std::string_view header_value(const request& req, std::string_view name) {
  const auto it = req.headers.find(std::string(name));
  return it == req.headers.end() ? std::string_view{} : std::string_view{it->second};
}

std::optional<std::string> percent_decode(std::string_view text, bool form) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;  // a truncated escape
      const int high = hex_digit(text[i + 1]);
      const int low = hex_digit(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && form) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace redundancy::http
