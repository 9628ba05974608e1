// Orchestrator: what each check result means (effective health, events, the policy's decisions) and the
// recoveries it starts.
#include "redundancy/orchestrator/orchestrator.hpp"

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/deadline.hpp"
#include "redundancy/core/duration.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/target_row.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/metrics/metrics.hpp"
#include "redundancy/orchestrator/actions.hpp"
#include "redundancy/orchestrator/report.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <set>

namespace redundancy {
namespace {

// What is wrong, as text that changes when anything about the problem changes.
std::string problem_of(const health& h) {
  std::string text = std::string(to_string(h.state)) + ": " + h.summary + "\nthrough " + h.counterpart;
  for (const auto& t : h.targets)
    if (t.state != status::healthy) text += "\n" + t.name + " " + std::string(to_string(t.state)) + ": " + t.reason;
  return text;
}

}  // namespace

std::string_view to_string(overall_status s) {
  switch (s) {
    case overall_status::starting:
      return "starting";
    case overall_status::healthy:
      return "healthy";
    case overall_status::degraded:
      return "degraded";
    case overall_status::unhealthy:
      return "unhealthy";
    case overall_status::emergency:
      return "emergency";
  }
  return "starting";
}

orchestrator::orchestrator(const config& settings, scheduler& checks, action_runner& actions, store& history,
                           metrics& numbers)
    : settings_(settings),
      scheduler_(checks),
      actions_(actions),
      store_(history),
      metrics_(numbers),
      policy_(settings.orchestrator) {}

void orchestrator::start() {
  if (started_) return;
  started_ = true;
  if (auto saved = store_.get_counter(emergency_attempts_key)) {
    try {
      policy_.emergency().attempts = static_cast<unsigned>(std::stoul(*saved));
    } catch (const std::exception&) {
      policy_.emergency().attempts = 0;
    }
  }
  restore_emergency_spacing();
  for (const auto& p : store_.pauses()) pauses_[p.target] = {.until = p.until, .reason = p.reason};
  metrics_.set_emergency(false, policy_.emergency().attempts);
  // Availability counts the time between two lives of the daemon as unknown, from this event on.
  note_event("orchestrator", "", "daemon_started", "info",
             "redundancy started; emergency attempts so far: " + std::to_string(policy_.emergency().attempts) + " of " +
                 std::to_string(max_attempts()),
             {{"emergency_attempts", policy_.emergency().attempts}, {"pauses", pauses_.size()}});
  if (store_.notice())
    note_event("orchestrator", "", "history_replaced", "critical", "HISTORY REPLACED: " + *store_.notice(),
               {{"file", store_.file().string()}});
  expire_pauses();
  scheduler_.on_checked([this](const subsystem_state& s) { on_checked(s); });
  // Recorded before the work runs, like the action itself: a crash in the middle leaves the start.
  actions_.on_started = [this](const action_record& a) {
    note_event(a.subsystem, a.target, "action_started", "info",
               a.kind + " started (requested by " + a.requested_by + ")",
               {{"action_id", a.id}, {"kind", a.kind}, {"requested_by", a.requested_by}});
  };
  actions_.on_finished = [this](const action_record& a) {
    metrics_.count_recovery(a.subsystem, a.kind, a.state == action_state::succeeded ? "ok" : "failed");
    note_event(a.subsystem, a.target, "action_finished", a.state == action_state::succeeded ? "info" : "warning",
               a.kind + " " + std::string(to_string(a.state)) + ": " + a.summary, {{"action_id", a.id}});
    if (a.kind == "emergency") {
      policy_.emergency_finished(std::chrono::steady_clock::now());
      keep_emergency_spacing();
      evaluate_emergency();
    }
  };
  asio::co_spawn(scheduler_.executor(), run_timers(), asio::detached);
}

void orchestrator::apply(const config& settings) {
  settings_ = settings;
  // A new config may give a recovery that had nothing to try something to try (a restart command).
  policy_.apply(settings.orchestrator);
}

void orchestrator::set_history_problem(std::string problem) {
  history_problem_ = std::move(problem);
  note_history_state();
}

bool orchestrator::history_ok() const { return !history_problem_ && !store_.problem(); }

overall_status orchestrator::overall() const {
  if (policy_.emergency().phase != emergency_phase::normal) return overall_status::emergency;
  bool degraded = false;
  for (const auto& [name, s] : scheduler_.states()) {
    if (!s.checked) return overall_status::starting;
    const auto state = effective_state(s);
    if (counts_as_unhealthy(state)) return overall_status::unhealthy;
    if (state == status::degraded || state == status::unknown) degraded = true;
  }
  // A history that cannot be written is the daemon's own problem: it still watches and repairs.
  if (!history_ok()) degraded = true;
  return degraded ? overall_status::degraded : overall_status::healthy;
}

status orchestrator::effective_state(const subsystem_state& s) const {
  const status state = paused_state(s);
  if (state == status::unhealthy && policy_.still_failing(s.target->name(), s.target->failures_before_recovery()))
    return status::degraded;
  return state;
}

status orchestrator::paused_state(const subsystem_state& s) const {
  const std::string name{s.target->name()};
  if (paused(name)) return status::paused;
  // One pass over the pauses (usually none), then lookups: this runs on every /api/health request.
  const auto held = paused_targets(name);
  if (held.empty() || !s.last.apart_from_targets) return s.last.state;
  // A paused target counts neither way: the state is the worst of the rest.
  bool any_paused = false;
  status worst = *s.last.apart_from_targets;
  for (const auto& t : s.last.targets) {
    if (held.contains(t.name))
      any_paused = true;
    else if (t.state != status::disabled && severity_rank(t.state) > severity_rank(worst))
      worst = t.state;
  }
  return any_paused ? worst : s.last.state;
}

std::string orchestrator::paused_targets_note(const subsystem_state& s) const {
  const std::string name{s.target->name()};
  if (paused(name)) return {};
  const auto held = paused_targets(name);
  std::string names;
  if (!held.empty())
    for (const auto& t : s.last.targets)
      if (held.contains(t.name)) names += (names.empty() ? "" : ", ") + t.name;
  return names.empty() ? "" : " (paused: " + names + ")";
}

health orchestrator::paused_health(const subsystem_state& s) const {
  health h = s.last;
  const auto held = paused_targets(s.target->name());
  if (!held.empty())
    for (auto& t : h.targets)
      if (held.contains(t.name)) t.state = status::paused;
  h.state = paused_state(s);
  return h;
}

std::string orchestrator::effective_summary(const subsystem_state& s) const {
  const auto needed = s.target->failures_before_recovery();
  const auto summary = s.last.summary + paused_targets_note(s);
  if (needed <= 1 || paused_state(s) != status::unhealthy) return summary;
  const auto n = policy_.failures(s.target->name());
  return summary + " (" + std::to_string(n) + (n == 1 ? " consecutive failure" : " consecutive failures") +
         "; recovery after " + std::to_string(needed) + ")";
}

health orchestrator::effective_health(const subsystem_state& s) const {
  health h = paused_health(s);
  h.state = effective_state(s);
  h.summary = effective_summary(s);
  return h;
}

void orchestrator::on_checked(const subsystem_state& s) {
  metrics_.observe_check(s.target->name(), to_string(s.last_outcome), std::chrono::duration<double>(s.last_duration));
  if (s.last_lateness) metrics_.observe_lateness(s.target->name(), *s.last_lateness);
  expire_pauses();
  // One copy per check: with a thousand targets, each copy of the health is a thousand detail objects.
  // It is shown as effective_health() says, and handed to the repair as judged (pauses applied).
  auto h = paused_health(s);
  const status judged = h.state;
  policy_.count_check(s.target->name(), judged);
  h.state = effective_state(s);
  h.summary = effective_summary(s);
  metrics_.update_subsystem(s.target->name(), h);
  record_transitions(s, h);
  // Emergency first: when this check tips the project over the threshold, the emergency recovery
  // runs instead of a per-subsystem one.
  evaluate_emergency();
  h.state = judged;
  h.summary = s.last.summary;
  maybe_recover(s, std::move(h));
  sink_->evaluated(*this);
}

void orchestrator::record_transitions(const subsystem_state& s, const health& h) {
  const std::string name{s.target->name()};
  const auto now = std::chrono::system_clock::now();
  auto note = [&](const std::string& key, const std::string& target, status state, const std::string& reason) {
    auto it = since_.find(key);
    if (it != since_.end() && it->second.first == state) return;
    const bool first = it == since_.end();
    since_[key] = {state, now};
    // The first sight of a healthy target is not news, but availability needs to know it.
    const bool news = !(first && state == status::healthy);
    const std::string severity = state == status::unhealthy ? "error" : state == status::healthy ? "info" : "warning";
    note_event(name, target, news ? "status_changed" : "status_observed", severity,
               (target.empty() ? name : name + "/" + target) + " is " + std::string(to_string(state)) +
                   (reason.empty() ? "" : ": " + reason),
               {{"status", to_string(state)}});
  };
  note(name, "", h.state, h.summary);
  for (const auto& t : h.targets) note(name + "/" + t.name, t.name, t.state, t.reason);
  // A target whose own recovery stopped trying (PM2's restart budget spent) is news once, so that a
  // person hears it is waiting for them; it is news again only after it stopped being given up.
  for (const auto& t : h.targets) {
    const auto* flag = t.detail.if_contains("given_up");
    const bool given_up = flag && flag->is_bool() && flag->get_bool();
    const auto key = name + "/" + t.name;
    if (policy_.target_gave_up_news(key, given_up)) {
      note_event(name, t.name, "target_given_up", "error",
                 key + ": automatic recovery gave up" + (t.reason.empty() ? "" : ": " + t.reason), {});
    }
  }
}

void orchestrator::maybe_recover(const subsystem_state& s, health last) {
  const std::string name{s.target->name()};
  const bool any_paused = std::any_of(last.targets.begin(), last.targets.end(),
                                      [](const target_health& t) { return t.state == status::paused; });
  std::set<std::string> unhealthy_targets;
  for (const auto& t : last.targets)
    if (t.state == status::unhealthy) unhealthy_targets.insert(t.name);
  const bool any_unhealthy = !unhealthy_targets.empty();
  const auto decision =
      policy_.on_check({.name = name,
                        .state = last.state,
                        .problem = problem_of(last),
                        .unhealthy_targets = std::move(unhealthy_targets),
                        .counterpart = last.counterpart,
                        // Known apart from its targets: the state says it already.
                        .only_paused_targets_unhealthy = any_paused && !any_unhealthy && !last.apart_from_targets,
                        .action_running = actions_.active(name).has_value(),
                        .check_interval = s.schedule.interval,
                        .failures_needed = s.target->failures_before_recovery()},
                       std::chrono::steady_clock::now());
  if (!decision.recover) {
    if (!decision.why.empty()) RLOG(name, debug) << "no recovery now: " << decision.why;
    return;
  }
  auto target = s.target;
  actions_.submit(
      {.kind = "recover",
       .subsystem = name,
       .target = "",
       .requested_by = "auto",
       .lane = {},
       .work = [this, target, last = std::move(last), name]() { return recover_and_tell_policy(target, last, name); }});
}

// A free-standing coroutine (its arguments live in its frame, not in a lambda that may go first): runs
// the recovery and tells the policy how it went before the action is finished.
awaitable<action_result> orchestrator::recover_and_tell_policy(std::shared_ptr<subsystem> target, health last,
                                                               std::string name) {
  auto result = co_await target->recover(last);
  policy_.recovery_finished(name, !result.steps.empty(), result.retry_at);
  co_return result;
}

}  // namespace redundancy
