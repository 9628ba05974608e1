// Durations as people write them: "500ms", "30s", "5m", "1h", "30d", decimals like "1.5s".
#include "redundancy/core/duration.hpp"

#include <array>
#include <cstdint>
#include <utility>

namespace redundancy {
namespace {

using std::chrono::milliseconds;

// Units from the largest down, so that format_duration finds the largest exact one first.
constexpr std::array<std::pair<std::string_view, std::int64_t>, 5> units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

std::optional<std::int64_t> unit_millis(std::string_view unit) {
  for (const auto& [name, ms] : units)
    if (name == unit) return ms;
  return std::nullopt;
}

// 128 bits so that whole * unit cannot overflow before the range check (__extension__: -Wpedantic).
__extension__ typedef unsigned __int128 u128;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<milliseconds> parse_duration(std::string_view text) {
  std::size_t i = 0;
  // The whole part: at least one digit. Accumulated as __int128 so that overflow is checked once.
  u128 whole = 0;
  const std::size_t whole_start = i;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    whole = whole * 10 + static_cast<unsigned>(text[i] - '0');
    if (whole > static_cast<u128>(INT64_MAX)) return std::nullopt;
  }
  if (i == whole_start) return std::nullopt;

  // The fraction, if any: a dot and at least one digit. Trailing zeros carry no value.
  std::string_view fraction;
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    for (; i < text.size() && is_digit(text[i]); ++i) {
    }
    if (i == start) return std::nullopt;
    fraction = text.substr(start, i - start);
    while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  }

  const auto unit = unit_millis(text.substr(i));
  if (!unit) return std::nullopt;

  // 18 significant fraction digits are far below a millisecond for every unit; more cannot be
  // exact.
  if (fraction.size() > 18) return std::nullopt;
  u128 numerator = 0;
  u128 denominator = 1;
  for (char c : fraction) {
    numerator = numerator * 10 + static_cast<unsigned>(c - '0');
    denominator *= 10;
  }
  // A fraction that is not a whole number of milliseconds ("1.5ms") is rejected rather than
  // rounded.
  const u128 fraction_ms = numerator * static_cast<u128>(*unit);
  if (fraction_ms % denominator != 0) return std::nullopt;

  const u128 total = whole * static_cast<u128>(*unit) + fraction_ms / denominator;
  if (total > static_cast<u128>(INT64_MAX)) return std::nullopt;
  return milliseconds{static_cast<std::int64_t>(total)};
}

std::string format_duration(milliseconds d) {
  const std::int64_t count = d.count();
  if (count == 0) return "0s";
  // The magnitude as unsigned so that the most negative value has one too.
  const std::uint64_t magnitude =
      count < 0 ? ~static_cast<std::uint64_t>(count) + 1 : static_cast<std::uint64_t>(count);
  const std::string sign = count < 0 ? "-" : "";
  for (const auto& [name, ms] : units) {
    const auto unit = static_cast<std::uint64_t>(ms);
    if (magnitude % unit == 0) return sign + std::to_string(magnitude / unit) + std::string(name);
  }
  return sign + std::to_string(magnitude) + "ms";  // not reached: the ms unit divides everything
}

}  // namespace redundancy
