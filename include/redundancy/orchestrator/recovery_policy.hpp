// Every automatic repair decision of the orchestrator in one place, without I/O: it is told what each
// check saw and how each recovery ended, with the time as an argument, and answers what to run now or
// why nothing runs. The emergency's own state machine (emergency_fsm) is its project-level half.
#pragma once
#include "redundancy/core/config.hpp"
#include "redundancy/core/health.hpp"
#include "redundancy/orchestrator/emergency_fsm.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace redundancy {

// What one check of a subsystem means for its repair, pauses already applied.
struct subsystem_observation {
  std::string name{};
  status state{status::unknown};
  std::string problem{};                      // text that changes whenever anything about the problem does
  std::set<std::string> unhealthy_targets{};  // by name
  std::string counterpart{};                  // whom the check talked to (health::counterpart)
  bool only_paused_targets_unhealthy{false};  // nothing left that a recovery may touch
  bool action_running{false};                 // an action of this subsystem is queued or running
  std::chrono::milliseconds check_interval{};
  unsigned failures_needed{1};  // consecutive unhealthy checks before the first recovery
};

// Where one subsystem's automatic repair stands (names shown in logs; only ever added to).
enum class repair_phase {
  ok,              // not unhealthy
  failing,         // unhealthy for fewer checks than failures_needed: shown degraded, not repaired yet
  recovering,      // a recovery was started or is running
  spacing,         // the last recovery was less than half a check interval ago, and the problem is the same
  backoff,         // the last recovery found nothing due before retry_at
  nothing_to_try,  // the last recovery took no step for this very problem: wait until it changes
  held,            // paused, auto_recovery off, an emergency on it, or an action running
};
std::string_view to_string(repair_phase p);

struct repair_decision {
  bool recover{false};
  repair_phase phase{repair_phase::ok};
  std::string why{};  // for the log, when it waits
};

class recovery_policy {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit recovery_policy(orchestrator_config settings) : settings_(std::move(settings)) {}

  // A reload: new limits, and a problem that had nothing to try may have something now.
  void apply(orchestrator_config settings);

  // One subsystem was checked (pauses applied): counts its consecutive unhealthy checks. Called before
  // anything shows the check, which reads the count through still_failing().
  void count_check(std::string_view subsystem, status judged);
  // ... and then: recover it now, or why not.
  repair_decision on_check(const subsystem_observation& seen, time_point now);

  // The automatic recovery started by on_check ended. took_steps false: it had nothing to try (whether it
  // called that success or not), so the same problem is not tried again; retry_at: nothing was due yet,
  // something will be then.
  void recovery_finished(std::string_view subsystem, bool took_steps, std::optional<time_point> retry_at);

  // Consecutive unhealthy checks so far, and whether the subsystem is shown degraded while it waits for
  // failures_needed of them.
  unsigned failures(std::string_view subsystem) const;
  bool still_failing(std::string_view subsystem, unsigned failures_needed) const;

  // A target's check says its own recovery gave up (PM2's restart budget): true once per giving up, so
  // that a person hears it once.
  bool target_gave_up_news(const std::string& target, bool given_up);

  // The project-level half: whether to run, repeat, give up or leave the emergency.
  emergency_decision on_project(unsigned unhealthy_subsystems, bool emergency_running, time_point now);
  // The attempt's steps and the re-check that judged it ended: the next attempt waits its spacing.
  void emergency_finished(time_point now);
  // A person asked for the emergency: a given-up one starts afresh.
  void emergency_requested_by_person();
  // How long the emergency waits after its steps before the re-check that judges them: what it
  // restarted needs time to come up.
  std::chrono::milliseconds settle_time() const;
  // The gap before attempt number `attempt` (2, 3, ...) after the previous one ended.
  std::chrono::milliseconds spacing_before(unsigned attempt) const;

  emergency_state& emergency() { return emergency_; }
  const emergency_state& emergency() const { return emergency_; }

 private:
  struct subsystem_memory {
    unsigned failures{0};
    std::string recovering_for{};  // the problem the running or last recovery was given
    std::string nothing_to_do_for{};
    std::optional<time_point> last_recovery_at{};
    std::optional<time_point> retry_at{};
    // Since the subsystem was last well: every target a recovery was given, and whom the last one's check
    // talked to. A target outside the set, or another counterpart, is a new problem that ends the spacing.
    std::set<std::string> targets_tried{};
    std::string counterpart_tried{};
  };

  orchestrator_config settings_;
  std::map<std::string, subsystem_memory, std::less<>> subsystems_{};
  std::set<std::string> given_up_targets_{};
  emergency_state emergency_{};
};

}  // namespace redundancy
