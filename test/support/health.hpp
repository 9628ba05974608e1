// Looking into what a subsystem's check or recovery returned: one target by name, and the whole in
// text for the test's log (BOOST_TEST_MESSAGE) so that a failing assertion can be read.
#pragma once
#include "redundancy/core/health.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

namespace redundancy::test {

// The target named `name`, or nullptr: for tests where its absence is a state to wait out.
inline const target_health* find_target(const health& h, std::string_view name) {
  for (const auto& t : h.targets)
    if (t.name == name) return &t;
  return nullptr;
}

// The target named `name`; its absence fails the test (an exception out of the test case).
inline const target_health& target(const health& h, std::string_view name) {
  if (const auto* t = find_target(h, name)) return *t;
  throw std::runtime_error("no target " + std::string(name));
}

inline std::string describe(const health& h) {
  std::string s = std::string(to_string(h.state)) + ": " + h.summary;
  for (const auto& t : h.targets) s += "\n  " + t.name + " " + std::string(to_string(t.state)) + " " + t.reason;
  return s;
}

inline std::string describe(const action_result& r) {
  std::string s = (r.ok ? "ok: " : "failed: ") + r.summary;
  for (const auto& st : r.steps) s += "\n  " + st.name + (st.ok ? " ok " : " FAILED ") + st.detail;
  return s;
}

}  // namespace redundancy::test
