// Time points plus durations: exact inside the clocks' range, clamped at its ends instead of wrapping.
#define BOOST_TEST_MODULE deadline
#include "redundancy/core/deadline.hpp"

#include <boost/test/unit_test.hpp>

#include "redundancy/core/time.hpp"

using namespace redundancy;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {
const sys_time now = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 13h;
}  // namespace

BOOST_AUTO_TEST_CASE(a_sum_inside_the_range_is_exact) {
  BOOST_TEST(to_rfc3339(add_clamped(now, 90s)) == "2026-12-07T13:01:30.000Z");
  BOOST_TEST(to_rfc3339(add_clamped(now, -milliseconds(24h))) == "2026-12-06T13:00:00.000Z");
  BOOST_TEST(to_rfc3339(add_clamped(now, milliseconds(3650 * 24h))) == "2036-12-04T13:00:00.000Z");
  const auto steady_now = std::chrono::steady_clock::now();
  BOOST_TEST((add_clamped(steady_now, 1s) - steady_now == std::chrono::seconds(1)));
}

BOOST_AUTO_TEST_CASE(a_sum_past_the_range_holds_at_its_end) {
  // 100000d of nanoseconds after 2026 is past 2262: the plain sum wrapped to 1716.
  BOOST_TEST((add_clamped(now, milliseconds(100000 * 24h)) == sys_time::max()));
  BOOST_TEST((add_clamped(now, milliseconds::max()) == sys_time::max()));
  BOOST_TEST((add_clamped(now, milliseconds::min()) == sys_time::min()));
  // 200000d is beyond nanoseconds' range on its own: a steady timer set with it fired at once.
  const auto steady_now = std::chrono::steady_clock::now();
  BOOST_TEST((add_clamped(steady_now, milliseconds(200000 * 24h)) == std::chrono::steady_clock::time_point::max()));
  BOOST_TEST((add_clamped(steady_now, -milliseconds(200000 * 24h)) == std::chrono::steady_clock::time_point::min()));
}
