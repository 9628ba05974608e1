// Wall-clock times as the API, the store and the reports write them: RFC 3339 in UTC.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace redundancy {

using sys_time = std::chrono::system_clock::time_point;

// "2024-05-01T12:34:56.789Z": always UTC, always exactly milliseconds (truncated toward the past),
// so the text sorts in time order (the store compares these strings in SQL).
std::string to_rfc3339(sys_time t);
// "2024-05-01T12:34:56Z": the same to the whole second (truncated toward the past).
std::string to_rfc3339_seconds(sys_time t);

// Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", an optional fraction of any length (kept to
// the nanosecond), then "Z" or a "+HH:MM"/"-HH:MM" offset. 'T' may also be 't' or a space, 'Z' also
// 'z'; a leap second (:60) counts as the first second of the next minute. nullopt for anything
// else, including impossible dates (February 30), trailing text, and times sys_time cannot hold
// (before 1678 or after 2261 with libstdc++'s nanosecond clock).
std::optional<sys_time> from_rfc3339(std::string_view text);

}  // namespace redundancy
