// The emergency state machine: thresholds, bounded attempts, give-up and reset.
#include "redundancy/orchestrator/emergency_fsm.hpp"

namespace redundancy {

std::string_view to_string(emergency_phase p) {
  switch (p) {
    case emergency_phase::normal: return "normal";
    case emergency_phase::recovering: return "recovering";
    case emergency_phase::given_up: return "given_up";
  }
  return "normal";
}

emergency_decision decide(emergency_state& state, const orchestrator_config& settings,
                          const emergency_observation& seen, std::chrono::system_clock::time_point now) {
  const bool over_threshold = seen.unhealthy_subsystems >= settings.emergency_threshold;

  if (!over_threshold) {
    // Health resets the attempt budget only once it has lasted: a flapping project must not get
    // unbounded emergency recoveries.
    if (!state.healthy_since) state.healthy_since = now;
    if (state.attempts > 0 && now - *state.healthy_since >= settings.attempt_reset) state.attempts = 0;
    if (state.phase != emergency_phase::normal && !seen.recovery_running) {
      state.phase = emergency_phase::normal;
      return emergency_decision::left;
    }
    return emergency_decision::none;
  }

  state.healthy_since.reset();
  if (seen.recovery_running || state.phase == emergency_phase::given_up) return emergency_decision::none;
  if (!settings.auto_recovery) return emergency_decision::none;
  if (state.attempts >= settings.max_recovery_attempts) {
    state.phase = emergency_phase::given_up;
    return emergency_decision::give_up;
  }
  ++state.attempts;
  state.phase = emergency_phase::recovering;
  return emergency_decision::start_recovery;
}

}  // namespace redundancy
