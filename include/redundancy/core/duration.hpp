// Durations as people write them in config and on the command line: "500ms", "30s", "5m", "1h", "30d".
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace redundancy {

// Parses "500ms", "30s", "5m", "1h", "30d" (an integer or decimal and one unit); nullopt otherwise.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest exact form: 1500ms -> "1500ms", 90000ms -> "90s", 3600000ms -> "1h".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace redundancy
