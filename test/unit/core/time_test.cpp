// RFC 3339 formatting and parsing: round trips, offsets, fractions, and what is rejected.
#define BOOST_TEST_MODULE time
#include "redundancy/core/time.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

using namespace redundancy;
using std::chrono::day;
using std::chrono::floor;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::month;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::system_clock;
using std::chrono::year;
using namespace std::chrono_literals;

namespace {
redundancy::sys_time at(int y, unsigned mo, unsigned d, hours h, minutes mi, seconds s, milliseconds ms = 0ms) {
  return sys_days{year{y} / month{mo} / day{d}} + h + mi + s + ms;
}
}  // namespace

BOOST_AUTO_TEST_CASE(formats_utc_with_milliseconds) {
  BOOST_TEST(to_rfc3339(sys_time{}) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(to_rfc3339(at(2024, 2, 29, 23h, 59min, 58s, 7ms)) == "2024-02-29T23:59:58.007Z");
  // Sub-millisecond parts are cut, toward the past, also before the epoch.
  BOOST_TEST(to_rfc3339(at(2024, 5, 1, 12h, 0min, 0s) + 999us) == "2024-05-01T12:00:00.000Z");
  BOOST_TEST(to_rfc3339(sys_time{} - 1ms) == "1969-12-31T23:59:59.999Z");
  // The whole range of the clock: every field keeps its width.
  BOOST_TEST(to_rfc3339(sys_time::max()) == "2262-04-11T23:47:16.854Z");
  BOOST_TEST(to_rfc3339(sys_time::min()) == "1677-09-21T00:12:43.145Z");
}

BOOST_AUTO_TEST_CASE(round_trips_at_millisecond_precision) {
  for (auto t : {sys_time{}, at(2000, 1, 1, 0h, 0min, 0s), at(2038, 1, 19, 3h, 14min, 8s, 123ms),
                 at(2261, 12, 31, 23h, 59min, 59s, 999ms)}) {
    const auto text = to_rfc3339(t);
    const auto back = from_rfc3339(text);
    BOOST_TEST_REQUIRE(back.has_value(), text);
    BOOST_TEST((*back == t), text);
  }
  const auto now = system_clock::now();
  BOOST_TEST((from_rfc3339(to_rfc3339(now)) == floor<milliseconds>(now)));
}

BOOST_AUTO_TEST_CASE(text_order_is_time_order) {
  const auto a = to_rfc3339(at(2024, 9, 30, 23h, 59min, 59s, 999ms));
  const auto b = to_rfc3339(at(2024, 10, 1, 0h, 0min, 0s));
  BOOST_TEST(a < b);
}

BOOST_AUTO_TEST_CASE(parses_offsets_fractions_and_variants) {
  const auto expected = at(2024, 5, 1, 12h, 34min, 56s);
  BOOST_TEST((from_rfc3339("2024-05-01T12:34:56Z") == expected));
  BOOST_TEST((from_rfc3339("2024-05-01t12:34:56z") == expected));
  BOOST_TEST((from_rfc3339("2024-05-01 12:34:56Z") == expected));
  BOOST_TEST((from_rfc3339("2024-05-01T14:34:56+02:00") == expected));
  BOOST_TEST((from_rfc3339("2024-05-01T07:04:56-05:30") == expected));
  BOOST_TEST((from_rfc3339("2024-05-01T12:34:56.5Z") == expected + 500ms));
  BOOST_TEST((from_rfc3339("2024-05-01T12:34:56.000001Z") == expected + 1us));
  BOOST_TEST((from_rfc3339("2024-05-01T12:34:56.1234567891Z") == expected + 123456789ns));
  // A leap second is the first second of the next minute.
  BOOST_TEST((from_rfc3339("2016-12-31T23:59:60Z") == at(2017, 1, 1, 0h, 0min, 0s)));
  // An offset that crosses midnight and a year.
  BOOST_TEST((from_rfc3339("2023-12-31T23:30:00-01:00") == at(2024, 1, 1, 0h, 30min, 0s)));
}

BOOST_AUTO_TEST_CASE(rejects_what_is_not_rfc3339) {
  for (const char* text :
       {"", "2024-05-01", "2024-05-01T12:34:56", "2024-05-01T12:34Z", "2024-5-01T12:34:56Z", "2024-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z", "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z", "2024-05-01T12:00:61Z", "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00+0200",
        "2024-05-01T12:00:00+24:00", "2024-05-01T12:00:00Zjunk", "2024-05-01X12:00:00Z", "2024-05-01T12:00:00 Z",
        "abcd-05-01T12:00:00Z", "1714566896",
        // Outside what a nanosecond system_clock holds: refused, not wrapped around.
        "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"}) {
    BOOST_TEST(!from_rfc3339(text).has_value(), text);
  }
}
