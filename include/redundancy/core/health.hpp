// What a check reports: the status of a subsystem and of each of its targets, and what an action did.
#pragma once
#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy {

using sys_time = std::chrono::system_clock::time_point;

// Names shown in the API: only ever added to, never renamed.
enum class status { healthy, degraded, unhealthy, unknown, disabled, paused };

std::string_view to_string(status s);
std::optional<status> status_from_string(std::string_view text);

// True for the states that count against overall health: unknown and disabled never do.
inline bool counts_as_unhealthy(status s) { return s == status::unhealthy; }

// Which of several states a roll-up shows: unhealthy, then unknown, then degraded; the rest rank alike.
int severity_rank(status s);

struct target_health {
  std::string name{};
  status state{status::unknown};
  std::string reason{};  // empty when healthy
  boost::json::object detail{};
};

struct health {
  status state{status::unknown};
  std::string summary{};
  std::vector<target_health> targets{};
  sys_time checked_at{};
  // Whom the check talked to, when that can change under it (PM2: its daemon's pid): a problem seen through
  // another one is a new problem, not the one the last recovery failed to fix.
  std::string counterpart{};
  // The state of what is no one target's (PM2's daemon and files, a cap on targets), when the subsystem's
  // state is the worst of it and its targets': then a target a person paused counts neither way.
  std::optional<status> apart_from_targets{};
};

// One step of an action, in the order it ran ("pm2 restart api", exit 0, ...).
struct action_step {
  std::string name{};
  bool ok{false};
  std::string detail{};
};

struct action_result {
  bool ok{false};
  std::string summary{};
  std::vector<action_step> steps{};
  std::string output_tail{};  // the last few KiB of what the action's children printed
  // Set when nothing was due yet but something will be (an app waiting out its restart backoff): the
  // policy asks again from then on, where a recovery with nothing to do is not repeated.
  std::optional<std::chrono::steady_clock::time_point> retry_at{};
};

}  // namespace redundancy
