// Small text helpers that several parts of the daemon need alike.
#pragma once
#include <string_view>

namespace redundancy {

// `text` without the ASCII white space (space, tab, CR, LF, vertical tab, form feed) at either end.
std::string_view trim(std::string_view text);

}  // namespace redundancy
