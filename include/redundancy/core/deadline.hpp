// Time points plus durations that cannot overflow: where a duration from a config or a request meets
// a clock.
#pragma once
#include <chrono>

namespace redundancy {

// t + d, held at the clock's largest (or smallest) time point where the sum would overflow its
// nanoseconds: a deadline never wraps into the past (a timer firing at once, a pause ending in 1716).
std::chrono::system_clock::time_point add_clamped(std::chrono::system_clock::time_point t, std::chrono::milliseconds d);
std::chrono::steady_clock::time_point add_clamped(std::chrono::steady_clock::time_point t, std::chrono::milliseconds d);

}  // namespace redundancy
