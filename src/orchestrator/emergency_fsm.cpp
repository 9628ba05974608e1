// The emergency state machine: thresholds, bounded attempts, give-up and reset.
#include "redundancy/orchestrator/emergency_fsm.hpp"

#include <algorithm>

namespace redundancy {

std::string_view to_string(emergency_phase p) {
  switch (p) {
    case emergency_phase::normal:
      return "normal";
    case emergency_phase::recovering:
      return "recovering";
    case emergency_phase::given_up:
      return "given_up";
  }
  return "normal";
}

std::chrono::milliseconds emergency_spacing(const orchestrator_config& settings, unsigned attempt) {
  const auto cap = std::max(settings.interval, settings.attempt_reset / 2);
  auto gap = settings.interval;
  for (unsigned n = 2; n < attempt && gap < cap; ++n) gap *= 2;
  return std::min(gap, cap);
}

void emergency_attempt_ended(emergency_state& state, const orchestrator_config& settings,
                             emergency_clock::time_point now) {
  state.next_attempt_at = now + emergency_spacing(settings, state.attempts + 1);
}

emergency_decision decide(emergency_state& state, const orchestrator_config& settings,
                          const emergency_observation& seen, emergency_clock::time_point now) {
  const bool over_threshold = seen.unhealthy_subsystems >= settings.emergency_threshold;

  if (!over_threshold) {
    // Health resets the attempt budget only once it has lasted: a flapping project must not get
    // unbounded emergency recoveries.
    if (!state.healthy_since) state.healthy_since = now;
    if (state.attempts > 0 && now - *state.healthy_since >= settings.attempt_reset) state.attempts = 0;
    if (state.phase != emergency_phase::normal && !seen.recovery_running) {
      state.phase = emergency_phase::normal;
      state.next_attempt_at.reset();
      return emergency_decision::left;
    }
    return emergency_decision::none;
  }

  state.healthy_since.reset();
  if (seen.recovery_running || state.phase == emergency_phase::given_up) return emergency_decision::none;
  if (!settings.auto_recovery) return emergency_decision::none;
  if (state.attempts >= settings.max_recovery_attempts) {
    state.phase = emergency_phase::given_up;
    state.next_attempt_at.reset();
    return emergency_decision::give_up;
  }
  // Three attempts half a second apart protect nothing: each waits for the last to have had its effect.
  if (state.next_attempt_at && now < *state.next_attempt_at) return emergency_decision::wait;
  state.next_attempt_at.reset();
  ++state.attempts;
  state.phase = emergency_phase::recovering;
  return emergency_decision::start_recovery;
}

}  // namespace redundancy
