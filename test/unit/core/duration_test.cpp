// Tests of parse_duration and format_duration.
#define BOOST_TEST_MODULE duration
#include "redundancy/core/duration.hpp"

#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
using redundancy::format_duration;
using redundancy::parse_duration;

namespace {
// The parsed count of milliseconds, -1 when rejected: printable by Boost.Test, unlike an optional.
long long parsed(std::string_view text) {
  const auto d = parse_duration(text);
  return d ? static_cast<long long>(d->count()) : -1;
}
long long ms(std::chrono::milliseconds d) { return static_cast<long long>(d.count()); }
}  // namespace

BOOST_AUTO_TEST_CASE(parses_every_unit) {
  BOOST_TEST(parsed("500ms") == ms(500ms));
  BOOST_TEST(parsed("30s") == ms(30s));
  BOOST_TEST(parsed("5m") == ms(5min));
  BOOST_TEST(parsed("1h") == ms(1h));
  BOOST_TEST(parsed("30d") == ms(30 * 24h));
  BOOST_TEST(parsed("0s") == ms(0ms));
  BOOST_TEST(parsed("007s") == ms(7s));
}

BOOST_AUTO_TEST_CASE(parses_decimals_exactly) {
  BOOST_TEST(parsed("1.5s") == ms(1500ms));
  BOOST_TEST(parsed("0.25m") == ms(15s));
  BOOST_TEST(parsed("1.5h") == ms(90min));
  BOOST_TEST(parsed("2.000s") == ms(2s));
  BOOST_TEST(parsed("0.001s") == ms(1ms));
  // Not a whole number of milliseconds: rejected rather than silently rounded.
  BOOST_TEST(!parse_duration("1.5ms"));
  BOOST_TEST(!parse_duration("0.0001s"));
}

BOOST_AUTO_TEST_CASE(rejects_malformed_text) {
  for (const char* bad : {"",    "s",   "30",    "-5s",    "+5s",  "5 s",  " 5s",   "5s ",  "5sec", "5S", "5x",
                          "1.s", ".5s", "1..5s", "1.5.2s", "fast", "5m5s", "0x10s", "1e3s", "NaNs", "∞s"})
    BOOST_TEST(!parse_duration(bad), "accepted \"" << bad << "\"");
}

BOOST_AUTO_TEST_CASE(rejects_overflow) {
  BOOST_TEST(!parse_duration("99999999999999999999ms"));
  BOOST_TEST(!parse_duration("9223372036854775807d"));
  BOOST_TEST(parsed("9223372036854775807ms") == ms(std::chrono::milliseconds::max()));
}

BOOST_AUTO_TEST_CASE(formats_the_largest_exact_unit) {
  BOOST_TEST(format_duration(1500ms) == "1500ms");
  BOOST_TEST(format_duration(90s) == "90s");
  BOOST_TEST(format_duration(1h) == "1h");
  BOOST_TEST(format_duration(5min) == "5m");
  BOOST_TEST(format_duration(30 * 24h) == "30d");
  BOOST_TEST(format_duration(25h) == "25h");
  BOOST_TEST(format_duration(0ms) == "0s");
  BOOST_TEST(format_duration(-2s) == "-2s");
  BOOST_TEST(format_duration(std::chrono::milliseconds::min()) == "-9223372036854775808ms");
}

BOOST_AUTO_TEST_CASE(format_and_parse_round_trip) {
  for (auto d : {1ms, 999ms, 1001ms, 60000ms, 61000ms, 3600000ms, 86400000ms, 86401000ms})
    BOOST_TEST(parsed(format_duration(d)) == ms(d), format_duration(d));
}

BOOST_AUTO_TEST_CASE(the_ceiling_of_durations_from_outside_is_ten_years) {
  BOOST_TEST(format_duration(redundancy::max_duration) == "3650d");
  // Added to any time of the next two centuries, it still fits the clocks' nanoseconds.
  BOOST_TEST(std::chrono::duration_cast<std::chrono::nanoseconds>(redundancy::max_duration).count() <
             std::chrono::nanoseconds::max().count() / 4);
}
