// The policy layer that makes the subsystems one system: overall health, automatic recovery, emergency
// mode, pauses, events on every change, and the health report.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/config.hpp"
#include "redundancy/core/scheduler.hpp"
#include "redundancy/core/secret_mask.hpp"
#include "redundancy/orchestrator/emergency_fsm.hpp"
#include "redundancy/orchestrator/event_sink.hpp"
#include "redundancy/orchestrator/recovery_policy.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace redundancy {

class action_runner;
class metrics;

// Overall status as /api/health shows it.
enum class overall_status { starting, healthy, degraded, unhealthy, emergency };
std::string_view to_string(overall_status s);

struct pause_entry {
  sys_time until{};
  std::string reason{};
};

class orchestrator {
 public:
  orchestrator(const config& settings, scheduler& checks, action_runner& actions, store& history, metrics& numbers);
  orchestrator(const orchestrator&) = delete;
  orchestrator& operator=(const orchestrator&) = delete;

  // Hooks into the scheduler and the action runner; restores durable state (emergency attempts,
  // pauses, ending those that expired while the daemon was down) and records daemon_started.
  void start();
  void apply(const config& settings);  // after a reload

  // Everyone outside this layer who hears of events and evaluations (nobody until set). Set before
  // start(); the sink must outlive the orchestrator's use of it.
  void set_sink(event_sink& listeners) { sink_ = &listeners; }
  // Records an event from outside the policy (a reload, a webhook given up, children a previous run
  // left running) like the policy's own.
  void record_event(std::string subsystem, std::string target, std::string kind, std::string severity,
                    std::string message, boost::json::object data = {});

  // Values no event may show (a tool's stderr quoted in a message, a URL in its data): each becomes
  // "***" in every event recorded from now on, before it is stored, served or sent to a webhook.
  void set_secrets(std::vector<std::string> secrets) { secrets_.set(std::move(secrets)); }

  // The history file could not be opened (the daemon runs on an in-memory store): a loud error state
  // in /api/health and /api/status until the daemon is restarted with a usable file.
  void set_history_problem(std::string problem);
  // Whether the history is being written; false after an open problem, while writes fail or while
  // the file is read-only.
  bool history_ok() const;

  overall_status overall() const;
  const emergency_state& emergency() const { return policy_.emergency(); }
  unsigned max_attempts() const { return settings_.orchestrator.max_recovery_attempts; }

  // Runs the emergency recovery now, whatever the threshold. Returns the new action's id, or the
  // running one's as `conflict` when one is already under way.
  struct submitted {
    std::int64_t id{0};
    bool conflict{false};
  };
  submitted request_emergency(std::string requested_by);

  // Pauses a subsystem ("pm2") or one target ("pm2/api"): no automatic recovery while it lasts, and it
  // shows as paused. Returns an error message for an unknown target.
  std::optional<std::string> pause(const std::string& target, std::chrono::milliseconds how_long, std::string reason);
  std::optional<std::string> resume(const std::string& target);
  std::optional<pause_entry> paused(const std::string& target) const;
  // The targets of `subsystem` paused now, by their names within it ("web" for pm2/web).
  target_names paused_targets(std::string_view subsystem) const;

  // Events newest first as the store has them, plus the ones it could not take (kept in memory
  // while writes fail, written once it works again).
  std::vector<event> events(const event_query& q) const;

  // Ends pauses whose time is up (event "resumed" with data.expired, a re-check). Run on every
  // check and every orchestrator interval.
  void expire_pauses();

  // When the target ("pm2" or "pm2/api") entered its current status.
  std::optional<sys_time> since(const std::string& target) const;

  // One subsystem as /api/status and /api/subsystems/{name} show it.
  boost::json::object subsystem_json(const subsystem_state& s, bool with_targets) const;
  // GET /api/health and GET /api/status bodies.
  boost::json::object health_json() const;
  boost::json::object status_json() const;
  // The health report: also written to log_dir/health-report-YYYY-MM-DD.json every report_interval.
  boost::json::object report_json() const;
  // Writes today's report file and removes those older than the retention; false (logged) on failure.
  bool write_report();

 private:
  void on_checked(const subsystem_state& s);
  // Both take the check's effective_health.
  void record_transitions(const subsystem_state& s, const health& h);
  void maybe_recover(const subsystem_state& s, health judged);
  awaitable<action_result> recover_and_tell_policy(std::shared_ptr<subsystem> target, health last, std::string name);
  void evaluate_emergency();
  // The next emergency attempt's time, stored after each attempt and read back at start.
  void keep_emergency_spacing();
  void restore_emergency_spacing();
  awaitable<void> run_timers();
  // The check's health as people see it: pauses applied, and a subsystem that has failed fewer checks
  // than it needs before a recovery shown degraded, with the count in its summary.
  health effective_health(const subsystem_state& s) const;
  // The subsystem's own state as effective_health gives it, without copying its targets (what
  // /api/health and overall() need, on every request).
  status effective_state(const subsystem_state& s) const;
  std::string effective_summary(const subsystem_state& s) const;
  // The check's health with pauses applied only: what the policy judges.
  health paused_health(const subsystem_state& s) const;
  // The check's state with the pauses applied, and the names of the paused targets for its summary.
  status paused_state(const subsystem_state& s) const;
  std::string paused_targets_note(const subsystem_state& s) const;
  void note_event(std::string subsystem, std::string target, std::string kind, std::string severity,
                  std::string message, boost::json::object data = {});
  void flush_unsaved();
  void note_history_state();
  boost::json::object history_json() const;
  std::chrono::milliseconds emergency_step_limit(std::string_view subsystem) const;

  // The store's counter that keeps the emergency attempts across restarts.
  static constexpr std::string_view emergency_attempts_key = "emergency.attempts";
  // When the next emergency attempt may start (RFC 3339): a restart of the daemon keeps the spacing.
  static constexpr std::string_view emergency_next_attempt_key = "emergency.next_attempt_at";

  config settings_;
  scheduler& scheduler_;
  action_runner& actions_;
  store& store_;
  metrics& metrics_;
  no_listeners nobody_{};
  event_sink* sink_{&nobody_};
  std::map<std::string, pause_entry> pauses_;
  std::map<std::string, std::pair<status, sys_time>> since_;  // "pm2" and "pm2/api" -> status, since
  recovery_policy policy_;                                    // every automatic repair decision
  std::optional<std::string> history_problem_;                // the file could not be opened
  secret_mask secrets_;                                       // masked in every event
  std::deque<event> unsaved_;                                 // events the store refused, oldest first
  std::int64_t unsaved_ids_{0};                               // negative ids for those
  bool history_ok_{true};                                     // as last logged
  sys_time started_at_{std::chrono::system_clock::now()};
  bool started_{false};
};

}  // namespace redundancy
