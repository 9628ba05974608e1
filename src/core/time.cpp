// RFC 3339 formatting and parsing on top of the C++20 calendar types (no time zone database
// needed).
#include "redundancy/core/time.hpp"

namespace redundancy {
namespace {

// Reads exactly `width` decimal digits at `pos` and advances past them.
std::optional<int> digits(std::string_view text, std::size_t& pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string to_rfc3339(sys_time t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  // Written digit by digit: snprintf was a seventh of the cost of answering /api/health. A sys_time
  // (64-bit nanoseconds) spans the years 1677-2262, so the year always has four digits.
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](std::size_t end, long value, int width) {
    for (int i = 0; i < width; ++i, value /= 10)
      out[end - static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  put(3, static_cast<int>(ymd.year()), 4);
  put(6, static_cast<unsigned>(ymd.month()), 2);
  put(9, static_cast<unsigned>(ymd.day()), 2);
  put(12, hms.hours().count(), 2);
  put(15, hms.minutes().count(), 2);
  put(18, hms.seconds().count(), 2);
  put(22, hms.subseconds().count(), 3);
  return out;
}

std::string to_rfc3339_seconds(sys_time t) {
  auto text = to_rfc3339(t);
  text.resize(19);  // without ".789Z" (a replace() here trips g++ 12's bogus -Wstringop-overflow)
  text.push_back('Z');
  return text;
}

std::optional<sys_time> from_rfc3339(std::string_view text) {
  using namespace std::chrono;
  std::size_t pos = 0;
  const auto y = digits(text, pos, 4);
  if (!y || !expect(text, pos, '-')) return std::nullopt;
  const auto mo = digits(text, pos, 2);
  if (!mo || !expect(text, pos, '-')) return std::nullopt;
  const auto d = digits(text, pos, 2);
  if (!d || pos >= text.size()) return std::nullopt;
  const char separator = text[pos++];
  if (separator != 'T' && separator != 't' && separator != ' ') return std::nullopt;
  const auto h = digits(text, pos, 2);
  if (!h || !expect(text, pos, ':')) return std::nullopt;
  const auto mi = digits(text, pos, 2);
  if (!mi || !expect(text, pos, ':')) return std::nullopt;
  const auto s = digits(text, pos, 2);
  if (!s) return std::nullopt;

  const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!date.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;

  nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    std::int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += nanoseconds{(text[pos] - '0') * scale};
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }

  minutes offset{0};
  if (pos >= text.size()) return std::nullopt;
  const char zone = text[pos++];
  if (zone == '+' || zone == '-') {
    const auto oh = digits(text, pos, 2);
    if (!oh || !expect(text, pos, ':')) return std::nullopt;
    const auto om = digits(text, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset = hours{*oh} + minutes{*om};
    if (zone == '-') offset = -offset;
  } else if (zone != 'Z' && zone != 'z') {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  // Local time minus its offset is UTC. Whole seconds first: they cannot overflow, so a date
  // outside what sys_time holds (nanoseconds: years 1678 to 2261) is refused rather than wrapped.
  const sys_seconds utc = sys_days{date} + hours{*h} + minutes{*mi} + seconds{*s} - offset;
  const auto lowest = ceil<seconds>(sys_time::min().time_since_epoch());
  const auto highest = floor<seconds>(sys_time::max().time_since_epoch()) - seconds{1};
  if (utc.time_since_epoch() < lowest || utc.time_since_epoch() > highest) return std::nullopt;
  return time_point_cast<sys_time::duration>(utc) + duration_cast<sys_time::duration>(fraction);
}

}  // namespace redundancy
