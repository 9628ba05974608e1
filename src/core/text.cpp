// Small text helpers that several parts of the daemon need alike.
#include "redundancy/core/text.hpp"

namespace redundancy {

std::string_view trim(std::string_view text) {
  constexpr std::string_view blank = " \t\r\n\v\f";
  const auto first = text.find_first_not_of(blank);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blank) - first + 1);
}

}  // namespace redundancy
