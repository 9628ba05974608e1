// Durations as people write them in config and on the command line: "500ms", "30s", "5m", "1h", "30d".
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace redundancy {

// The longest duration taken from outside (config, API, CLI): 10 years. Any clock's time point of
// the next two centuries plus this stays inside its int64 nanoseconds.
inline constexpr std::chrono::milliseconds max_duration{3650LL * 24 * 60 * 60 * 1000};

// Parses "500ms", "30s", "5m", "1h", "30d" (an integer or decimal and one unit); nullopt otherwise.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest exact form: 1500ms -> "1500ms", 90000ms -> "90s", 3600000ms -> "1h".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace redundancy
