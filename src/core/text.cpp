// Small text helpers that several parts of the daemon need alike.
#include "redundancy/core/text.hpp"

namespace redundancy {

std::string_view trim(std::string_view text) {
  constexpr std::string_view blank = " \t\r\n\v\f";
  const auto first = text.find_first_not_of(blank);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blank) - first + 1);
}

namespace {

bool reads_as_error(std::string_view line) {
  if (line.starts_with("[PM2][ERROR]") || line.starts_with("error:") || line.starts_with("npm ERR!")) return true;
  // "Error: boom", "TypeError: x is not a function", "SyntaxError: Unexpected token": a name, then "Error:".
  const auto at = line.find("Error:");
  if (at == std::string_view::npos) return false;
  for (const char c : line.substr(0, at))
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  return true;
}

bool is_noise(std::string_view line) { return line.starts_with("at ") || line.starts_with("Node.js v"); }

}  // namespace

std::string failure_line(std::string_view output) {
  constexpr std::size_t most = 300;
  std::string_view fallback;
  while (!output.empty()) {
    const auto nl = output.find('\n');
    const auto line = trim(output.substr(0, nl));
    output = nl == std::string_view::npos ? std::string_view{} : output.substr(nl + 1);
    if (line.empty()) continue;
    if (reads_as_error(line)) return std::string(line.substr(0, most));
    if (!is_noise(line)) fallback = line;
  }
  return std::string(fallback.substr(0, most));
}

}  // namespace redundancy
