// Time points plus durations, clamped to the clock's range instead of overflowing.
#include "redundancy/core/deadline.hpp"

#include <limits>

namespace redundancy {
namespace {

template <class TimePoint>
TimePoint clamped_sum(TimePoint t, std::chrono::milliseconds d) {
  using rep = typename TimePoint::rep;
  using ticks = typename TimePoint::duration;
  using limits = std::numeric_limits<rep>;
  constexpr rep per_ms = std::chrono::duration_cast<ticks>(std::chrono::milliseconds{1}).count();
  const auto highest = TimePoint{ticks{limits::max()}};
  const auto lowest = TimePoint{ticks{limits::min()}};
  // Milliseconds beyond what the ticks can hold saturate before they are converted.
  const auto ms = d.count();
  if (ms > limits::max() / per_ms) return highest;
  if (ms < limits::min() / per_ms) return lowest;
  rep sum = 0;
  if (__builtin_add_overflow(t.time_since_epoch().count(), ms * per_ms, &sum)) return ms > 0 ? highest : lowest;
  return TimePoint{ticks{sum}};
}

}  // namespace

std::chrono::system_clock::time_point add_clamped(std::chrono::system_clock::time_point t,
                                                  std::chrono::milliseconds d) {
  return clamped_sum(t, d);
}

std::chrono::steady_clock::time_point add_clamped(std::chrono::steady_clock::time_point t,
                                                  std::chrono::milliseconds d) {
  return clamped_sum(t, d);
}

}  // namespace redundancy
