// The health report: availability computed from the event history, the daemon's own figures, and
// the daily report file in log_dir.
#pragma once
#include "redundancy/core/time.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace redundancy {

// Time in a window whose state was known, and the part of it that was available.
struct availability_figure {
  std::chrono::milliseconds available{};
  std::chrono::milliseconds known{};
  // available / known; nullopt when nothing was known in the window.
  std::optional<double> ratio() const;
};

// Keyed "pm2" (a subsystem) and "pm2/api" (one of its targets).
using availability_map = std::map<std::string, availability_figure, std::less<>>;

// Pure: availability over [from, to) from status events (store::status_history(): kinds
// status_changed and status_observed carrying data.status, and daemon_started), in any order.
// healthy and degraded count as available, unhealthy as not; unknown, disabled, paused and the time
// before a key's first status event or after a daemon_started with no new status of the key yet
// (the daemon was not watching) are not known and count neither way.
availability_map compute_availability(const std::vector<event>& history, sys_time from, sys_time to);

// The daemon's own figures for the report.
struct daemon_figures {
  long pid{0};
  sys_time started_at{};
  std::optional<double> rss_bytes{};
  std::optional<double> cpu_seconds{};
};
daemon_figures read_daemon_figures(sys_time started_at);

// Pure: the report body. `status` is GET /api/status's body (subsystems with their targets, the
// emergency); each subsystem and target gets "availability": {"24h": ratio or null, "7d": ...}.
// `last_day`: the last 24 h of events (newest first); `history`: store::status_history() from 7 d
// before `now`. A subsystem with more than 1,000 targets lists 1,000, those not healthy first, with
// "targets_total" and a "targets_truncated" note.
struct report_inputs {
  boost::json::object status{};
  std::vector<event> last_day{};
  std::vector<event> history{};
  std::vector<action_record> last_day_actions{};
  daemon_figures daemon{};
  sys_time now{};
};
boost::json::object build_report(report_inputs in);

// "health-report-YYYY-MM-DD.json" for the UTC day of `t`.
std::string report_file_name(sys_time t);

// Writes the report atomically to log_dir/health-report-<today>.json (replacing the day's earlier
// one) and removes report files whose day ended before `keep_after`. An error message on failure.
std::optional<std::string> write_report_file(const std::filesystem::path& log_dir, const boost::json::object& report,
                                             sys_time now, sys_time keep_after);

}  // namespace redundancy
