// The orchestrator's repair decisions: per subsystem when a recovery runs, and the emergency's pace.
#include "redundancy/orchestrator/recovery_policy.hpp"

#include "redundancy/core/duration.hpp"

#include <algorithm>

namespace redundancy {

std::string_view to_string(repair_phase p) {
  switch (p) {
    case repair_phase::ok:
      return "ok";
    case repair_phase::failing:
      return "failing";
    case repair_phase::recovering:
      return "recovering";
    case repair_phase::spacing:
      return "spacing";
    case repair_phase::backoff:
      return "backoff";
    case repair_phase::nothing_to_try:
      return "nothing_to_try";
    case repair_phase::held:
      return "held";
  }
  return "ok";
}

void recovery_policy::apply(orchestrator_config settings) {
  settings_ = std::move(settings);
  for (auto& [name, memory] : subsystems_) memory.nothing_to_do_for.clear();
}

void recovery_policy::count_check(std::string_view subsystem, status judged) {
  auto it = subsystems_.find(subsystem);
  if (it == subsystems_.end()) it = subsystems_.emplace(std::string(subsystem), subsystem_memory{}).first;
  auto& memory = it->second;
  if (judged == status::unhealthy) {
    ++memory.failures;
    return;
  }
  // Well again (or paused): the same problem later is a new one, worth a try, and at once: the spacing
  // is for a problem the last recovery did not fix, and this check says it did (a PM2 daemon killed
  // right after a repair that worked is such a new problem).
  memory.failures = 0;
  memory.nothing_to_do_for.clear();
  memory.last_recovery_at.reset();
  memory.targets_tried.clear();
}

repair_decision recovery_policy::on_check(const subsystem_observation& seen, time_point now) {
  auto& memory = subsystems_[seen.name];
  if (seen.state != status::unhealthy) return {.recover = false, .phase = repair_phase::ok, .why = {}};
  auto held = [](std::string why) {
    return repair_decision{.recover = false, .phase = repair_phase::held, .why = std::move(why)};
  };
  if (memory.failures < seen.failures_needed)
    return {.recover = false,
            .phase = repair_phase::failing,
            .why = std::to_string(memory.failures) + " of " + std::to_string(seen.failures_needed) +
                   " consecutive failures before recovery"};
  if (!settings_.auto_recovery) return held("orchestrator.auto_recovery is off");
  // Recovering: the emergency is on it. Given up: automatic repair stopped, a person decides.
  if (emergency_.phase != emergency_phase::normal)
    return held("the emergency is " + std::string(to_string(emergency_.phase)));
  if (seen.action_running) return held("an action is running");
  if (seen.only_paused_targets_unhealthy) return held("every unhealthy target is paused");
  if (!memory.nothing_to_do_for.empty() && memory.nothing_to_do_for == seen.problem)
    return {.recover = false, .phase = repair_phase::nothing_to_try, .why = "the last recovery found nothing to try"};
  if (memory.retry_at) {
    if (now < *memory.retry_at)
      return {
          .recover = false,
          .phase = repair_phase::backoff,
          .why = "next attempt in " + format_duration(std::chrono::ceil<std::chrono::seconds>(*memory.retry_at - now))};
    memory.retry_at.reset();
  }
  // The re-check after a recovery comes at once; another attempt waits for the subsystem's own rhythm, so
  // a problem no recovery fixes costs one attempt per check interval, not a loop. A new problem does not
  // wait: a target no recovery was given yet (each ends the spacing once until the subsystem is well), or
  // a check through another counterpart (the PM2 daemon a repair spawned while the old one went down).
  const bool new_target = std::any_of(seen.unhealthy_targets.begin(), seen.unhealthy_targets.end(),
                                      [&](const std::string& t) { return !memory.targets_tried.contains(t); });
  const bool new_counterpart = seen.counterpart != memory.counterpart_tried;
  if (memory.last_recovery_at && now - *memory.last_recovery_at < seen.check_interval / 2 && !new_target &&
      !new_counterpart)
    return {.recover = false, .phase = repair_phase::spacing, .why = "recovered less than half an interval ago"};
  memory.last_recovery_at = now;
  memory.recovering_for = seen.problem;
  memory.targets_tried.insert(seen.unhealthy_targets.begin(), seen.unhealthy_targets.end());
  memory.counterpart_tried = seen.counterpart;
  return {.recover = true, .phase = repair_phase::recovering, .why = {}};
}

void recovery_policy::recovery_finished(std::string_view subsystem, bool took_steps,
                                        std::optional<time_point> retry_at) {
  auto& memory = subsystems_[std::string(subsystem)];
  memory.retry_at = took_steps ? std::nullopt : retry_at;
  // Asking again after the re-check would repeat a stepless recovery as fast as checks run (an action
  // and two events each time): wait until the problem changes, unless it said when something is due.
  if (!took_steps && !retry_at)
    memory.nothing_to_do_for = memory.recovering_for;
  else
    memory.nothing_to_do_for.clear();
}

unsigned recovery_policy::failures(std::string_view subsystem) const {
  auto it = subsystems_.find(subsystem);
  return it == subsystems_.end() ? 0 : it->second.failures;
}

bool recovery_policy::still_failing(std::string_view subsystem, unsigned failures_needed) const {
  const auto n = failures(subsystem);
  return n > 0 && n < failures_needed;
}

bool recovery_policy::target_gave_up_news(const std::string& target, bool given_up) {
  if (!given_up) {
    given_up_targets_.erase(target);
    return false;
  }
  return given_up_targets_.insert(target).second;
}

emergency_decision recovery_policy::on_project(unsigned unhealthy_subsystems, bool emergency_running, time_point now) {
  return decide(emergency_, settings_,
                {.unhealthy_subsystems = unhealthy_subsystems, .recovery_running = emergency_running}, now);
}

void recovery_policy::emergency_finished(time_point now) { emergency_attempt_ended(emergency_, settings_, now); }

void recovery_policy::emergency_requested_by_person() {
  if (emergency_.phase == emergency_phase::given_up) emergency_.attempts = 0;
  emergency_.phase = emergency_phase::recovering;
  emergency_.next_attempt_at.reset();
}

std::chrono::milliseconds recovery_policy::settle_time() const {
  using namespace std::chrono_literals;
  return std::min<std::chrono::milliseconds>(settings_.interval, 10s);
}

std::chrono::milliseconds recovery_policy::spacing_before(unsigned attempt) const {
  return emergency_spacing(settings_, attempt);
}

}  // namespace redundancy
