// Parsing five-field cron expressions and walking the minutes they fire at.
#include "redundancy/github/cron.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <optional>

namespace redundancy::github {
namespace {

struct field_spec {
  const char* name;
  int low;
  int high;
  std::array<const char*, 12> names;  // names for low, low+1, ... (months, days of week)
};

const std::array<field_spec, 5> fields{{
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day of month", 1, 31, {}},
    {"month", 1, 12, {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
    // 7 is accepted as Sunday too (folded to 0 after parsing).
    {"day of week", 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}};

std::optional<int> parse_value(std::string_view text, const field_spec& f) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc{} && end == text.data() + text.size()) return v;
  if (text.size() != 3) return std::nullopt;
  std::string upper;
  for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < f.names.size() && f.names[i]; ++i)
    if (upper == f.names[i]) return f.low + static_cast<int>(i);
  return std::nullopt;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// Sets the bits of one field; returns why it is wrong.
std::optional<std::string> parse_field(std::string_view text, const field_spec& f, std::vector<bool>& bits) {
  bits.assign(static_cast<std::size_t>(f.high + 1), false);
  for (auto item : split(text, ',')) {
    if (item.empty()) return std::string("empty list item");
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      auto step_text = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc{} || end != step_text.data() + step_text.size() || step <= 0)
        return "bad step '" + std::string(step_text) + "'";
      item = item.substr(0, slash);
    }
    int low = f.low;
    int high = f.high == 7 ? 6 : f.high;  // '*' in day of week means 0-6
    if (item != "*") {
      auto dash = item.find('-');
      auto first = parse_value(item.substr(0, dash), f);
      if (!first) return "bad value '" + std::string(item.substr(0, dash)) + "'";
      low = *first;
      high = *first;
      if (dash != std::string_view::npos) {
        auto last = parse_value(item.substr(dash + 1), f);
        if (!last) return "bad value '" + std::string(item.substr(dash + 1)) + "'";
        high = *last;
      } else if (step != 1) {
        high = f.high;  // "5/15" means from 5 to the end in steps of 15
      }
      for (int v : {low, high})
        if (v < f.low || v > f.high)
          return std::to_string(v) + " is out of range " + std::to_string(f.low) + "-" + std::to_string(f.high);
      if (low > high) return "range " + std::string(item) + " runs backwards";
    }
    for (int v = low; v <= high; v += step) bits[static_cast<std::size_t>(v)] = true;
  }
  return std::nullopt;
}

}  // namespace

boost::system::result<cron_schedule, std::string> parse_cron(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) parts.push_back(text.substr(start, i - start));
  }
  if (parts.size() != 5)
    return "expected 5 fields (minute hour day-of-month month day-of-week), got " + std::to_string(parts.size());
  cron_schedule s;
  std::vector<bool> bits;
  for (std::size_t f = 0; f < 5; ++f) {
    if (auto err = parse_field(parts[f], fields[f], bits))
      return "field " + std::to_string(f + 1) + " (" + fields[f].name + "): " + *err;
    for (std::size_t v = 0; v < bits.size(); ++v) {
      if (!bits[v]) continue;
      switch (f) {
        case 0:
          s.minutes.set(v);
          break;
        case 1:
          s.hours.set(v);
          break;
        case 2:
          s.days_of_month.set(v);
          break;
        case 3:
          s.months.set(v);
          break;
        default:
          s.days_of_week.set(v % 7);
          break;
      }
    }
  }
  s.dom_restricted = parts[2] != "*";
  s.dow_restricted = parts[4] != "*";
  return s;
}

namespace {

bool day_matches(const cron_schedule& s, std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  if (!s.months.test(static_cast<unsigned>(ymd.month()))) return false;
  const bool dom = s.days_of_month.test(static_cast<unsigned>(ymd.day()));
  const bool dow = s.days_of_week.test(std::chrono::weekday{day}.c_encoding());
  if (s.dom_restricted && s.dow_restricted) return dom || dow;
  return dom && dow;
}

}  // namespace

bool cron_schedule::matches(sys_minutes t) const {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::hh_mm_ss hms{t - day};
  return day_matches(*this, day) && hours.test(static_cast<std::size_t>(hms.hours().count())) &&
         minutes.test(static_cast<std::size_t>(hms.minutes().count()));
}

std::vector<sys_minutes> cron_schedule::ticks_between(sys_minutes from, sys_minutes to, std::size_t limit) const {
  // The members `minutes` and `hours` hide the std::chrono names here, hence the qualified ones.
  namespace chr = std::chrono;
  std::vector<sys_minutes> ticks;
  auto t = from + chr::minutes{1};
  while (t <= to && ticks.size() < limit) {
    const auto day = chr::floor<chr::days>(t);
    if (!day_matches(*this, day)) {  // skip the rest of a day that never fires
      t = day + chr::days{1};
      continue;
    }
    const auto hour = chr::floor<chr::hours>(t);
    if (!hours.test(static_cast<std::size_t>(chr::hh_mm_ss{hour - day}.hours().count()))) {
      t = hour + chr::hours{1};
      continue;
    }
    if (minutes.test(static_cast<std::size_t>(chr::hh_mm_ss{t - hour}.minutes().count()))) ticks.push_back(t);
    t += chr::minutes{1};
  }
  return ticks;
}

}  // namespace redundancy::github
