// The cron evaluator: parsing every field form, rejecting bad ones, and the ticks it fires at.
#define BOOST_TEST_MODULE github_cron
#include "redundancy/github/cron.hpp"

#include <boost/test/unit_test.hpp>

using namespace redundancy::github;
using namespace std::chrono;

namespace {

sys_minutes at(int y, unsigned m, unsigned d, int hh, int mm) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm};
}

cron_schedule must(std::string_view text) {
  auto c = parse_cron(text);
  BOOST_REQUIRE_MESSAGE(c.has_value(), std::string(text) + ": " + (c ? "" : c.error()));
  return *c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_fifteen_minutes) {
  const auto c = must("*/15 * * * *");
  const auto ticks = c.ticks_between(at(2026, 1, 1, 10, 0), at(2026, 1, 1, 11, 0));
  BOOST_REQUIRE(ticks.size() == 4u);  // (from, to]: 10:15, 10:30, 10:45, 11:00
  BOOST_TEST((ticks[0] == at(2026, 1, 1, 10, 15)));
  BOOST_TEST((ticks[3] == at(2026, 1, 1, 11, 0)));
}

BOOST_AUTO_TEST_CASE(names_ranges_and_lists) {
  const auto c = must("30 6,18 * JAN-MAR mon-fri");
  BOOST_TEST(c.matches(at(2026, 1, 5, 6, 30)));  // a Monday
  BOOST_TEST(c.matches(at(2026, 1, 5, 18, 30)));
  BOOST_TEST(!c.matches(at(2026, 1, 4, 6, 30)));  // a Sunday
  BOOST_TEST(!c.matches(at(2026, 4, 6, 6, 30)));  // April
  BOOST_TEST(!c.matches(at(2026, 1, 5, 7, 30)));
}

BOOST_AUTO_TEST_CASE(seven_is_sunday_and_day_fields_combine_with_or) {
  BOOST_TEST(must("0 0 * * 7").matches(at(2026, 1, 4, 0, 0)));
  const auto c = must("0 0 13 * 5");             // the 13th or any Friday
  BOOST_TEST(c.matches(at(2026, 1, 13, 0, 0)));  // a Tuesday
  BOOST_TEST(c.matches(at(2026, 1, 9, 0, 0)));   // a Friday
  BOOST_TEST(!c.matches(at(2026, 1, 12, 0, 0)));
}

BOOST_AUTO_TEST_CASE(steps_from_a_start) {
  const auto c = must("5/20 1-5/2 * * *");
  BOOST_TEST(c.matches(at(2026, 2, 1, 3, 45)));
  BOOST_TEST(!c.matches(at(2026, 2, 1, 2, 45)));
  BOOST_TEST(!c.matches(at(2026, 2, 1, 3, 0)));
}

BOOST_AUTO_TEST_CASE(daily_ticks_over_days_and_the_limit) {
  const auto c = must("0 3 * * *");
  BOOST_TEST(c.ticks_between(at(2026, 1, 1, 0, 0), at(2026, 1, 11, 0, 0)).size() == 10u);
  BOOST_TEST(c.ticks_between(at(2026, 1, 1, 0, 0), at(2026, 1, 11, 0, 0), 3).size() == 3u);
  BOOST_TEST(must("* * * * *").ticks_between(at(2026, 1, 1, 0, 0), at(2026, 1, 2, 0, 0)).size() == 1440u);
  // February 30th never comes.
  BOOST_TEST(must("0 0 30 2 *").ticks_between(at(2026, 1, 1, 0, 0), at(2027, 1, 1, 0, 0)).empty());
}

BOOST_AUTO_TEST_CASE(bad_expressions_name_the_field) {
  auto check = [](std::string_view text, std::string_view expected) {
    auto c = parse_cron(text);
    BOOST_REQUIRE_MESSAGE(!c.has_value(), text);
    BOOST_TEST(c.error().find(expected) != std::string::npos, c.error());
  };
  check("* * * *", "expected 5 fields");
  check("60 * * * *", "field 1 (minute): 60 is out of range 0-59");
  check("* 24 * * *", "field 2 (hour)");
  check("* * 0 * *", "field 3 (day of month): 0 is out of range");
  check("* * * FOO *", "field 4 (month): bad value 'FOO'");
  check("* * * * 8", "field 5 (day of week)");
  check("*/0 * * * *", "bad step");
  check("5-1 * * * *", "runs backwards");
  check("1,,2 * * * *", "empty list item");
}
