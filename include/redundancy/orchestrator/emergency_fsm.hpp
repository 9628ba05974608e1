// When to enter, repeat, give up and leave emergency mode: a pure state machine, no I/O.
#pragma once
#include "redundancy/core/config.hpp"

#include <chrono>
#include <optional>

namespace redundancy {

// Named states, shown in the API; only ever added to.
//   normal    -> recovering  (threshold reached, auto_recovery on, attempts left)
//   recovering-> normal      (fewer than threshold unhealthy after the recovery's re-check)
//   recovering-> recovering  (still over threshold and attempts left: another attempt, once the spacing
//                             after the previous one has passed)
//   recovering-> given_up    (still over threshold, attempts exhausted: wait for a person)
//   given_up  -> normal      (below threshold again)
// The attempt count resets after attempt_reset of uninterrupted health.
enum class emergency_phase { normal, recovering, given_up };
std::string_view to_string(emergency_phase p);

using emergency_clock = std::chrono::steady_clock;

struct emergency_state {
  emergency_phase phase{emergency_phase::normal};
  unsigned attempts{0};
  std::optional<emergency_clock::time_point> healthy_since{};
  // No attempt before this: the previous one ended recently and what it restarted needs time.
  std::optional<emergency_clock::time_point> next_attempt_at{};
};

struct emergency_observation {
  unsigned unhealthy_subsystems{0};
  bool recovery_running{false};  // an emergency action is queued or running
};

enum class emergency_decision {
  none,
  start_recovery,  // run the emergency steps now (attempts has been incremented)
  wait,            // over the threshold, attempts left, but the spacing after the last one has not passed
  give_up,         // attempts exhausted: say so loudly, once
  left,            // emergency over: say so once
};

emergency_decision decide(emergency_state& state, const orchestrator_config& settings,
                          const emergency_observation& seen, emergency_clock::time_point now);

// The gap before attempt number `attempt` (2, 3, ...) after the previous one ended: orchestrator.interval,
// doubling with each attempt, at most half of attempt_reset.
std::chrono::milliseconds emergency_spacing(const orchestrator_config& settings, unsigned attempt);

// An attempt ended (its steps and the re-check that judged them): sets when the next may start.
void emergency_attempt_ended(emergency_state& state, const orchestrator_config& settings,
                             emergency_clock::time_point now);

}  // namespace redundancy
