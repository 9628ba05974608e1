// Orchestrator policy: what a check result means for the whole project and what happens next.
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

#include <malloc.h>

#include <algorithm>

namespace redundancy {
namespace {

// What is wrong, as text that changes when anything about the problem changes.
std::string problem_of(const health& h) {
  std::string text = std::string(to_string(h.state)) + ": " + h.summary;
  for (const auto& t : h.targets)
    if (t.state != status::healthy) text += "\n" + t.name + " " + std::string(to_string(t.state)) + ": " + t.reason;
  return text;
}

constexpr std::string_view emergency_attempts_key = "emergency.attempts";

boost::json::value time_or_null(std::optional<sys_time> t) {
  if (!t || *t == sys_time{}) return nullptr;
  return boost::json::value(to_rfc3339(*t));
}

// Events kept in memory while the store refuses writes; beyond this the oldest are dropped.
constexpr std::size_t unsaved_limit = 10000;

std::string subsystem_of(const std::string& target) { return target.substr(0, target.find('/')); }
std::string target_of(const std::string& target) {
  const auto slash = target.find('/');
  return slash == std::string::npos ? std::string{} : target.substr(slash + 1);
}

// Workflow files in the folder: the GitHub emergency runs each of them locally, one after another.
std::size_t workflow_files(const std::filesystem::path& folder) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const auto ext = entry.path().extension();
    if (ext == ".yml" || ext == ".yaml") ++n;
  }
  return n;
}

}  // namespace

std::string_view to_string(overall_status s) {
  switch (s) {
    case overall_status::starting: return "starting";
    case overall_status::healthy: return "healthy";
    case overall_status::degraded: return "degraded";
    case overall_status::unhealthy: return "unhealthy";
    case overall_status::emergency: return "emergency";
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
  if (paused(std::string(s.target->name()))) return status::paused;
  if (s.last.state == status::unhealthy && policy_.still_failing(s.target->name(), s.target->failures_before_recovery()))
    return status::degraded;
  return s.last.state;
}

health orchestrator::paused_health(const subsystem_state& s) const {
  health h = s.last;
  const std::string name{s.target->name()};
  if (paused(name)) h.state = status::paused;
  for (auto& t : h.targets)
    if (paused(name + "/" + t.name)) t.state = status::paused;
  return h;
}

std::string orchestrator::effective_summary(const subsystem_state& s) const {
  const auto needed = s.target->failures_before_recovery();
  if (needed <= 1 || s.last.state != status::unhealthy || paused(std::string(s.target->name()))) return s.last.summary;
  const auto n = policy_.failures(s.target->name());
  return s.last.summary + " (" + std::to_string(n) + (n == 1 ? " consecutive failure" : " consecutive failures") +
         "; recovery after " + std::to_string(needed) + ")";
}

health orchestrator::effective_health(const subsystem_state& s) const {
  health h = paused_health(s);
  h.state = effective_state(s);
  h.summary = effective_summary(s);
  return h;
}

void orchestrator::on_checked(const subsystem_state& s) {
  metrics_.observe_check(s.target->name(), to_string(s.last_outcome),
                         std::chrono::duration<double>(s.last_duration));
  if (s.last_lateness) metrics_.observe_lateness(s.target->name(), *s.last_lateness);
  expire_pauses();
  // Once per check: with a thousand targets, each copy of the health is a thousand detail objects.
  auto judged = paused_health(s);
  policy_.count_check(s.target->name(), judged.state);
  const auto h = effective_health(s);
  metrics_.update_subsystem(s.target->name(), h);
  record_transitions(s, h);
  // Emergency first: when this check tips the project over the threshold, the emergency recovery
  // runs instead of a per-subsystem one.
  evaluate_emergency();
  maybe_recover(s, std::move(judged));
  if (on_evaluated) on_evaluated();
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
  const bool any_unhealthy = std::any_of(last.targets.begin(), last.targets.end(),
                                         [](const target_health& t) { return t.state == status::unhealthy; });
  const auto decision = policy_.on_check({.name = name,
                                          .state = last.state,
                                          .problem = problem_of(last),
                                          .only_paused_targets_unhealthy = any_paused && !any_unhealthy,
                                          .action_running = actions_.active(name).has_value(),
                                          .check_interval = s.schedule.interval,
                                          .failures_needed = s.target->failures_before_recovery()},
                                         std::chrono::steady_clock::now());
  if (!decision.recover) {
    if (!decision.why.empty()) RLOG(name, debug) << "no recovery now: " << decision.why;
    return;
  }
  auto target = s.target;
  actions_.submit({.kind = "recover",
                   .subsystem = name,
                   .target = "",
                   .requested_by = "auto",
                   .lane = {},
                   .work = [this, target, last = std::move(last), name]() {
                     return recover_and_tell_policy(target, last, name);
                   }});
}

// A free-standing coroutine (its arguments live in its frame, not in a lambda that may go first): runs
// the recovery and tells the policy how it went before the action is finished.
awaitable<action_result> orchestrator::recover_and_tell_policy(std::shared_ptr<subsystem> target, health last,
                                                              std::string name) {
  auto result = co_await target->recover(last);
  policy_.recovery_finished(name, !result.steps.empty(), result.retry_at);
  co_return result;
}

void orchestrator::evaluate_emergency() {
  unsigned unhealthy = 0;
  for (const auto& [name, s] : scheduler_.states())
    if (s.checked && counts_as_unhealthy(effective_state(s))) ++unhealthy;
  const auto before = policy_.emergency().attempts;
  const auto decision = policy_.on_project(unhealthy, actions_.active("orchestrator", "emergency").has_value(),
                                           std::chrono::steady_clock::now());
  if (policy_.emergency().attempts != before) store_.set_counter(emergency_attempts_key, std::to_string(policy_.emergency().attempts));
  metrics_.set_emergency(policy_.emergency().phase != emergency_phase::normal, policy_.emergency().attempts);
  if (before > 0 && policy_.emergency().attempts == 0)
    note_event("orchestrator", "", "emergency_attempts_reset", "info",
               "healthy for " + format_duration(settings_.orchestrator.attempt_reset) +
                   ": emergency attempts reset (were " + std::to_string(before) + ")",
               {{"attempts_before", before}});
  switch (decision) {
    case emergency_decision::none: break;
    case emergency_decision::wait: break;
    case emergency_decision::start_recovery:
      note_event("orchestrator", "", "emergency_started", "critical",
                 std::to_string(unhealthy) + " subsystems unhealthy: emergency recovery attempt " +
                     std::to_string(policy_.emergency().attempts) + " of " + std::to_string(max_attempts()),
                 {{"attempt", policy_.emergency().attempts}, {"unhealthy_subsystems", unhealthy}});
      request_emergency("auto");
      break;
    case emergency_decision::give_up:
      note_event("orchestrator", "", "emergency_given_up", "critical",
                 "emergency recovery failed " + std::to_string(policy_.emergency().attempts) +
                     " times; no more automatic attempts until a person acts (POST /api/emergency)",
                 {{"attempts", policy_.emergency().attempts}, {"unhealthy_subsystems", unhealthy}});
      break;
    case emergency_decision::left:
      note_event("orchestrator", "", "emergency_ended", "info",
                 "emergency over: fewer than " + std::to_string(settings_.orchestrator.emergency_threshold) +
                     " subsystems unhealthy",
                 {{"attempts", policy_.emergency().attempts}});
      break;
  }
}

std::chrono::milliseconds orchestrator::emergency_step_limit(std::string_view subsystem) const {
  using namespace std::chrono_literals;
  const auto& c = settings_;
  // Each bound covers the commands the step runs one after another, each with its own timeout.
  if (subsystem == "pm2")  // probe, kill and its wait, a start per ecosystem file, resurrect, a check
    return 10s + c.pm2.timeout * static_cast<long>(c.pm2.ecosystem_files.size() + 3);
  if (subsystem == "github")  // every workflow run locally in turn
    return c.github.timeout +
           c.github.local_execution.timeout *
               static_cast<long>(std::max<std::size_t>(1, workflow_files(c.github.workflows_dir)));
  if (subsystem == "netlify")  // regeneration and its checks, then the deploy
    return c.netlify.deploy_timeout + c.netlify.timeout * 3;
  return c.orchestrator.interval * 10;
}

orchestrator::submitted orchestrator::request_emergency(std::string requested_by) {
  if (auto running = actions_.active("orchestrator", "emergency")) return {*running, true};
  if (requested_by != "auto") {
    // A person asking resets a given-up emergency: they are the one it was waiting for.
    if (policy_.emergency().phase == emergency_phase::given_up) store_.set_counter(emergency_attempts_key, "0");
    policy_.emergency_requested_by_person();
  }
  std::vector<std::shared_ptr<subsystem>> order;
  for (const std::string name : {"pm2", "github", "netlify"})
    if (const auto* s = scheduler_.state(name)) order.push_back(s->target);
  const auto id = actions_.submit(
      {.kind = "emergency",
       .subsystem = "orchestrator",
       .target = "",
       .requested_by = std::move(requested_by),
       .lane = {},
       .work = [this, order]() -> awaitable<action_result> {
         action_result all{.ok = true, .summary = {}, .steps = {}, .output_tail = {}};
         for (const auto& target : order) {
           // Arguments built before the co_await: g++ 12 destroys temporaries inside a co_await
           // expression twice.
           std::string lane{target->name()};
           const auto limit = emergency_step_limit(lane);
           std::function<awaitable<action_result>()> work = [target, limit]() -> awaitable<action_result> {
             auto executor = co_await asio::this_coro::executor;
             asio::steady_timer deadline(executor, limit);
             auto raced = co_await (target->emergency() || deadline.async_wait(asio::use_awaitable));
             if (raced.index() == 0) co_return std::get<0>(std::move(raced));
             action_result late;
             late.summary = "timed out after " + format_duration(limit);
             co_return late;
           };
           auto step = co_await actions_.exclusive(std::move(lane), std::move(work));
           all.ok = all.ok && step.ok;
           all.steps.push_back({.name = std::string(target->name()) + " emergency", .ok = step.ok, .detail = step.summary});
           for (auto& inner : step.steps) all.steps.push_back(std::move(inner));
           all.output_tail += step.output_tail;
         }
         // The verdict on this attempt comes from fresh checks, not from what was seen before it, and
         // only once what it restarted has had time to come up.
         asio::steady_timer settle(co_await asio::this_coro::executor, policy_.settle_time());
         co_await settle.async_wait(asio::as_tuple(asio::use_awaitable));
         co_await recheck_all();
         all.summary = order.empty() ? "nothing to recover" : all.ok ? "every subsystem's emergency step succeeded"
                                                                     : "some emergency steps failed";
         co_return all;
       }});
  return {id, false};
}

awaitable<void> orchestrator::recheck_all() {
  std::map<std::string, std::uint64_t, std::less<>> before;
  // A check already running started before the recovery ended: wait for the one after it.
  for (const auto& [name, s] : scheduler_.states()) before[name] = s.checks + (s.running ? 1 : 0);
  scheduler_.check_now("");
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer tick(executor);
  for (;;) {
    bool done = true;
    for (const auto& [name, count] : before)
      if (const auto* s = scheduler_.state(name); s && s->checks <= count) done = false;
    if (done) co_return;
    tick.expires_after(std::chrono::milliseconds(20));
    co_await tick.async_wait(asio::use_awaitable);
  }
}

std::optional<std::string> orchestrator::pause(const std::string& target, std::chrono::milliseconds how_long,
                                               std::string reason) {
  const auto subsystem = subsystem_of(target);
  if (!scheduler_.state(subsystem)) return "unknown subsystem '" + subsystem + "'";
  if (how_long <= std::chrono::milliseconds::zero()) return "'for' must be a positive duration";
  const auto until = add_clamped(std::chrono::system_clock::now(), how_long);
  pauses_[target] = {.until = until, .reason = reason};
  // Kept in memory when the store refuses it; the history error state says so.
  store_.set_pause(target, until, reason);
  note_event(subsystem, target_of(target), "paused", "warning",
             target + " paused for " + format_duration(how_long) + (reason.empty() ? "" : ": " + reason),
             {{"until", to_rfc3339(until)}, {"reason", reason}});
  return std::nullopt;
}

std::optional<std::string> orchestrator::resume(const std::string& target) {
  if (!paused(target)) return "'" + target + "' is not paused";
  pauses_.erase(target);
  store_.erase_pause(target);
  note_event(subsystem_of(target), target_of(target), "resumed", "info", target + " resumed",
             {{"expired", false}});
  scheduler_.check_now(subsystem_of(target));
  return std::nullopt;
}

void orchestrator::expire_pauses() {
  const auto now = std::chrono::system_clock::now();
  std::vector<std::pair<std::string, pause_entry>> ended;
  for (const auto& [target, p] : pauses_)
    if (p.until <= now) ended.emplace_back(target, p);
  for (const auto& [target, p] : ended) {
    pauses_.erase(target);
    store_.erase_pause(target);
    note_event(subsystem_of(target), target_of(target), "resumed", "info",
               target + " pause ended at " + to_rfc3339(p.until) + (p.reason.empty() ? "" : " (" + p.reason + ")"),
               {{"expired", true}, {"until", to_rfc3339(p.until)}});
    scheduler_.check_now(subsystem_of(target));
  }
}

std::optional<pause_entry> orchestrator::paused(const std::string& target) const {
  auto it = pauses_.find(target);
  if (it == pauses_.end() || it->second.until <= std::chrono::system_clock::now()) return std::nullopt;
  return it->second;
}

std::optional<sys_time> orchestrator::since(const std::string& target) const {
  auto it = since_.find(target);
  if (it == since_.end()) return std::nullopt;
  return it->second.second;
}

std::vector<event> orchestrator::events(const event_query& q) const {
  auto out = store_.events(q);
  if (unsaved_.empty()) return out;
  for (const auto& e : unsaved_) {
    if (q.since && e.ts < *q.since) continue;
    if (q.subsystem && e.subsystem != *q.subsystem) continue;
    if (q.after_id && e.id <= *q.after_id) continue;
    out.push_back(e);
  }
  std::stable_sort(out.begin(), out.end(), [](const event& a, const event& b) { return a.ts > b.ts; });
  if (out.size() > q.limit) out.resize(q.limit);
  return out;
}

boost::json::object orchestrator::subsystem_json(const subsystem_state& s, bool with_targets) const {
  const std::string name{s.target->name()};
  boost::json::object o{{"status", s.checked ? to_string(effective_state(s)) : "starting"},
                        {"summary", effective_summary(s)},
                        {"checked_at", s.checked ? time_or_null(s.last.checked_at) : nullptr}};
  if (!with_targets) return o;
  const auto h = effective_health(s);
  o["next_check_at"] = time_or_null(s.next_check_at);
  o["consecutive_failures"] = s.consecutive_failures;
  o["last_check"] = {{"result", to_string(s.last_outcome)}, {"duration_ms", s.last_duration.count()}};
  const auto pause = paused(name);
  o["paused_until"] = pause ? time_or_null(pause->until) : nullptr;
  if (pause) o["paused_reason"] = pause->reason;
  const auto action = actions_.active(name);
  o["running_action"] = action ? boost::json::value(*action) : nullptr;
  boost::json::array targets;
  for (const auto& t : h.targets) {
    auto row = target_row(t, name);
    row["since"] = time_or_null(since(name + "/" + t.name));
    const auto target_pause = paused(name + "/" + t.name);
    row["paused_until"] = target_pause ? time_or_null(target_pause->until) : nullptr;
    targets.push_back(std::move(row));
  }
  o["targets"] = std::move(targets);
  return o;
}

boost::json::object orchestrator::history_json() const {
  boost::json::value error = nullptr;
  if (history_problem_)
    error = boost::json::value(*history_problem_);
  else if (auto problem = store_.problem())
    error = boost::json::value(*problem);
  boost::json::value notice = nullptr;
  if (store_.notice()) notice = boost::json::value(*store_.notice());
  return {{"ok", history_ok()},
          {"file", store_.file().string()},
          {"in_memory", history_problem_.has_value()},
          {"read_only", !history_problem_ && store_.read_only()},
          {"error", std::move(error)},
          {"notice", std::move(notice)},
          {"unsaved_events", unsaved_.size()}};
}

boost::json::object orchestrator::health_json() const {
  boost::json::object subsystems;
  sys_time latest{};
  for (const auto& [name, s] : scheduler_.states()) {
    subsystems[name] = subsystem_json(s, false);
    if (s.checked && s.last.checked_at > latest) latest = s.last.checked_at;
  }
  const bool given_up = policy_.emergency().phase == emergency_phase::given_up;
  boost::json::object emergency{{"active", policy_.emergency().phase != emergency_phase::normal},
                                {"phase", to_string(policy_.emergency().phase)},
                                {"attempts", policy_.emergency().attempts},
                                {"max_attempts", max_attempts()},
                                {"given_up", given_up},
                                {"running_action", nullptr}};
  if (auto running = actions_.active("orchestrator", "emergency")) emergency["running_action"] = *running;
  if (given_up)
    emergency["message"] = "gave up after " + std::to_string(policy_.emergency().attempts) +
                           " emergency recoveries; waiting for a person (POST /api/emergency or `redundancy emergency`)";
  boost::json::array pauses;
  for (const auto& [target, p] : pauses_)
    if (paused(target)) pauses.push_back({{"target", target}, {"until", to_rfc3339(p.until)}, {"reason", p.reason}});
  return {{"status", to_string(overall())},
          {"checked_at", time_or_null(latest)},
          {"subsystems", std::move(subsystems)},
          {"emergency", std::move(emergency)},
          {"pauses", std::move(pauses)},
          {"history", history_json()}};
}

boost::json::object orchestrator::status_json() const {
  auto o = health_json();
  auto& subsystems = o["subsystems"].as_object();
  for (const auto& [name, s] : scheduler_.states()) subsystems[name] = subsystem_json(s, true);
  if (notify_status) o["notify"] = notify_status();
  return o;
}

boost::json::object orchestrator::report_json() const {
  using namespace std::chrono_literals;
  const auto now = std::chrono::system_clock::now();
  report_inputs in;
  in.status = status_json();
  in.last_day = events({.since = now - 24h, .limit = 1000, .subsystem = {}, .after_id = {}});
  in.history = store_.status_history(now - 7 * 24h);
  for (auto& a : store_.actions(200))
    if (a.created_at >= now - 24h) in.last_day_actions.push_back(std::move(a));
  in.daemon = read_daemon_figures(started_at_);
  in.now = now;
  return build_report(std::move(in));
}

bool orchestrator::write_report() {
  const auto now = std::chrono::system_clock::now();
  if (auto error = write_report_file(settings_.log_dir, report_json(), now, now - settings_.orchestrator.retention)) {
    RLOG("orchestrator", warning) << "cannot write the health report: " << *error;
    return false;
  }
  return true;
}

awaitable<void> orchestrator::run_timers() {
  using namespace std::chrono_literals;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // The first report and the first pruning come one interval after the start, then on their own
  // periods.
  auto next_report = std::chrono::steady_clock::now();
  auto next_prune = std::chrono::steady_clock::now();
  for (;;) {
    timer.expires_after(settings_.orchestrator.interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    flush_unsaved();
    // A failed write of anything (a counter, a pause) is retried here so the error state ends as
    // soon as the file is writable again.
    if (store_.problem() && unsaved_.empty())
      store_.set_counter("history.probed_at", to_rfc3339(std::chrono::system_clock::now()));
    note_history_state();
    expire_pauses();
    evaluate_emergency();
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_report) {
      next_report = now + settings_.orchestrator.report_interval;
      write_report();
      // The report is the daemon's largest transient tree (a day of events, up to 1,000): hand the
      // pages it freed back to the system, or the heap keeps its high-water mark (tools/soak saw RSS
      // climb in 0.7 MiB steps as the day's events grew).
      ::malloc_trim(0);
    }
    if (now >= next_prune) {
      next_prune = now + 24h;
      const auto removed = store_.prune(std::chrono::system_clock::now() - settings_.orchestrator.retention);
      RLOG("orchestrator", info) << "retention " << format_duration(settings_.orchestrator.retention) << ": pruned "
                                 << removed << " rows";
    }
  }
}

void orchestrator::flush_unsaved() {
  while (!unsaved_.empty()) {
    auto e = unsaved_.front();
    e.id = 0;
    if (!store_.add_event(std::move(e))) break;
    unsaved_.pop_front();
  }
}

void orchestrator::note_history_state() {
  const bool ok = history_ok();
  if (ok == history_ok_) return;
  history_ok_ = ok;
  if (ok) {
    RLOG("orchestrator", info) << "history " << store_.file().string() << " is writable again";
    // What could not be stored meanwhile: the pauses and the attempt count as they are now.
    for (const auto& [target, p] : pauses_) store_.set_pause(target, p.until, p.reason);
    store_.set_counter(emergency_attempts_key, std::to_string(policy_.emergency().attempts));
  } else
    RLOG("orchestrator", error) << "HISTORY UNAVAILABLE, events kept in memory only: "
                                << history_problem_.value_or(store_.problem().value_or("unknown error"));
}

void orchestrator::record_event(std::string subsystem, std::string target, std::string kind, std::string severity,
                                std::string message, boost::json::object data) {
  note_event(std::move(subsystem), std::move(target), std::move(kind), std::move(severity), std::move(message),
             std::move(data));
}

void orchestrator::note_event(std::string subsystem, std::string target, std::string kind, std::string severity,
                              std::string message, boost::json::object data) {
  message = secrets_.apply(std::move(message));
  for (auto& [key, value] : data)
    if (value.is_string()) value = secrets_.apply(std::string(value.get_string()));
  const auto level = kind == "status_observed"                     ? severity::debug
                     : severity == "critical" || severity == "error" ? severity::error
                     : severity == "warning"                         ? severity::warning
                                                                     : severity::info;
  RLOG_AT(subsystem, level) << message;
  event e{.id = 0,
          .ts = std::chrono::system_clock::now(),
          .subsystem = std::move(subsystem),
          .target = std::move(target),
          .kind = std::move(kind),
          .severity = std::move(severity),
          .message = std::move(message),
          .data = std::move(data)};
  // Older unsaved events go first, so the file keeps them in order.
  flush_unsaved();
  if (unsaved_.empty()) {
    if (auto id = store_.add_event(e)) {
      e.id = *id;
      note_history_state();
      if (on_event) on_event(e);
      return;
    }
  }
  e.id = --unsaved_ids_;
  unsaved_.push_back(e);
  if (unsaved_.size() > unsaved_limit) unsaved_.pop_front();
  note_history_state();
  if (on_event) on_event(e);
}

}  // namespace redundancy
