// Splitting "host:port" and "[v6]:port".
#include "redundancy/core/host_port.hpp"

#include <algorithm>
#include <charconv>

namespace redundancy {

std::optional<host_port> split_host_port(std::string_view text) {
  host_port out;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    out.host = text.substr(1, close - 1);
    out.bracketed = true;
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  unsigned number = 0;
  std::from_chars(port.data(), port.data() + port.size(), number);
  if (number > 65535) return std::nullopt;
  out.port = static_cast<std::uint16_t>(number);
  return out;
}

}  // namespace redundancy
