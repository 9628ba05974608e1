// The daemon's Prometheus metrics: what the checks, recoveries and emergency mode report, and the
// standard process_* metrics, serialized in the text format 0.0.4 for GET /metrics.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "redundancy/core/health.hpp"
#include "redundancy/core/process_stats.hpp"

namespace redundancy {

// One per daemon. Plain methods, called from the single loop thread (no locking of our own).
//
// Series that describe a target (redundancy_target_healthy, the pm2/github/netlify per-target
// gauges) follow the latest update_subsystem(): a target that disappears from a subsystem's health
// has its series removed, so Prometheus sees them go stale instead of keeping a last value forever.
//
// "Healthy" gauges are 1 when the status is healthy or degraded (working, maybe with warnings) and
// 0 for every other status, disabled, unknown and paused included. Alert rules that must tell those
// apart use redundancy_subsystem_status{subsystem,status}, which is 1 for the current status and 0
// for the others.
class metrics {
 public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  // Counts one finished check in redundancy_checks_total{subsystem,result} and records its duration
  // in redundancy_check_duration_seconds{subsystem}. The first check of a subsystem creates all
  // four result series at 0 so rate() sees the first failure. result must be ok, failed, error or
  // timeout (anything else is a bug: std::invalid_argument, keeping the label's cardinality
  // bounded).
  void observe_check(std::string_view subsystem, std::string_view result, std::chrono::duration<double> took);

  // Records in redundancy_check_lateness_seconds{subsystem} how long after its due time a scheduled
  // check started (negative values count as 0). A late check means the event loop was blocked.
  void observe_lateness(std::string_view subsystem, std::chrono::duration<double> late);

  // Sets redundancy_subsystem_healthy and _status for the subsystem and redundancy_target_healthy
  // for each target. Per subsystem, from each target's detail (a key that is absent or of the wrong
  // type leaves that series out):
  //   "pm2"     redundancy_pm2_app_online{app} ("status" == "online"), _restarts{app} ("restarts"),
  //             _memory_bytes{app} ("memory_bytes"), _cpu_percent{app} ("cpu_percent");
  //   "github"  redundancy_github_workflow_consecutive_failures{workflow} ("consecutive_failures");
  //   "netlify" redundancy_netlify_function_healthy{function} (from the target's status).
  // A target whose detail has a string "kind" other than "app" (pm2), "workflow" (github) or
  // "function" (netlify), e.g. the PM2 daemon or a Netlify deploy, gets only
  // redundancy_target_healthy.
  void update_subsystem(std::string_view subsystem, const health& h);

  // Counts one finished recovery action in
  // redundancy_recovery_actions_total{subsystem,action,result}. action and result are short fixed
  // words chosen by the caller ("restart", "succeeded"), never ids.
  void count_recovery(std::string_view subsystem, std::string_view action, std::string_view result);

  // Sets redundancy_emergency_active (0/1) and redundancy_emergency_attempts.
  void set_emergency(bool active, unsigned attempts);

  // Everything above plus redundancy_build_info{version} 1 and the process_* metrics, in the text
  // format 0.0.4: every family once, contiguous, with HELP and TYPE; lines end in "\n".
  std::string serialize();

  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace redundancy
