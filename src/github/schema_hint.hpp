// Internal to the schema check: what a problem message suggests, the allowed name nearest to a
// misspelt one and a list short enough to read (GitHub has over 30 events, pull_request 20 types).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::github::schema_detail {

// The candidate `given` is most likely a misspelling of (one or two edits away, case aside); empty
// when none is that close.
std::string nearest(std::string_view given, const std::vector<std::string>& candidates);

// "a, b, c", or the first `shown` and "and N more".
std::string some_of(const std::vector<std::string>& names, std::size_t shown = 12);

}  // namespace redundancy::github::schema_detail
