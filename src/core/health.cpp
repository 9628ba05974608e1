// Status names as the API, metrics and logs show them.
#include "redundancy/core/health.hpp"

#include <array>
#include <utility>

namespace redundancy {
namespace {
constexpr std::array<std::pair<status, std::string_view>, 6> status_names{{
    {status::healthy, "healthy"},
    {status::degraded, "degraded"},
    {status::unhealthy, "unhealthy"},
    {status::unknown, "unknown"},
    {status::disabled, "disabled"},
    {status::paused, "paused"},
}};
}  // namespace

std::string_view to_string(status s) {
  for (const auto& [value, name] : status_names)
    if (value == s) return name;
  return "unknown";
}

int severity_rank(status s) {
  switch (s) {
    case status::unhealthy:
      return 4;
    case status::unknown:
      return 3;
    case status::degraded:
      return 2;
    default:
      return 1;
  }
}

std::optional<status> status_from_string(std::string_view text) {
  for (const auto& [value, name] : status_names)
    if (name == text) return value;
  return std::nullopt;
}

}  // namespace redundancy
