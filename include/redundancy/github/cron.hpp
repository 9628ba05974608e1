// A five-field cron expression as GitHub's `on.schedule` uses it (UTC), and the ticks it fires at.
#pragma once
#include <bitset>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::github {

using sys_minutes = std::chrono::sys_time<std::chrono::minutes>;

struct cron_schedule {
  std::bitset<60> minutes{};
  std::bitset<24> hours{};
  std::bitset<32> days_of_month{};  // 1..31
  std::bitset<13> months{};         // 1..12
  std::bitset<7> days_of_week{};    // 0 = Sunday
  bool dom_restricted{false};       // both restricted: either one matching is enough (POSIX cron)
  bool dow_restricted{false};

  // True when the schedule fires at this minute (UTC).
  bool matches(sys_minutes t) const;
  // The ticks in (from, to], oldest first, at most `limit` of them.
  std::vector<sys_minutes> ticks_between(sys_minutes from, sys_minutes to, std::size_t limit = 10000) const;
};

// Parses "*/15 6-18 * * MON-FRI": numbers, names (JAN, SUN), *, lists, ranges and /steps; 7 is
// Sunday. The error names the field: "field 2 (hour): 24 is out of range 0-23".
boost::system::result<cron_schedule, std::string> parse_cron(std::string_view text);

}  // namespace redundancy::github
