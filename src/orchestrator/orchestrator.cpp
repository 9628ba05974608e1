// Orchestrator policy: what a check result means for the whole project and what happens next.
#include "redundancy/orchestrator/orchestrator.hpp"

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/duration.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/http/metrics.hpp"
#include "redundancy/orchestrator/actions.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <ctime>

namespace redundancy {
namespace {

constexpr std::string_view emergency_attempts_key = "emergency.attempts";

boost::json::value time_or_null(std::optional<sys_time> t) {
  if (!t || *t == sys_time{}) return nullptr;
  return boost::json::value(to_rfc3339(*t));
}

std::string today_utc(sys_time now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
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
    : settings_(settings), scheduler_(checks), actions_(actions), store_(history), metrics_(numbers) {}

void orchestrator::start() {
  if (started_) return;
  started_ = true;
  if (auto saved = store_.get_counter(emergency_attempts_key)) {
    try {
      emergency_.attempts = static_cast<unsigned>(std::stoul(*saved));
    } catch (const std::exception&) {
      emergency_.attempts = 0;
    }
  }
  metrics_.set_emergency(false, emergency_.attempts);
  scheduler_.on_checked([this](const subsystem_state& s) { on_checked(s); });
  actions_.on_finished = [this](const action_record& a) {
    metrics_.count_recovery(a.subsystem, a.kind, a.state == action_state::succeeded ? "ok" : "failed");
    event(a.subsystem, a.target, "action_finished", a.state == action_state::succeeded ? "info" : "warning",
          a.kind + " " + std::string(to_string(a.state)) + ": " + a.summary, {{"action_id", a.id}});
    if (a.kind == "emergency") evaluate_emergency();
  };
  asio::co_spawn(scheduler_.executor(), run_timers(), asio::detached);
}

void orchestrator::apply(const config& settings) { settings_ = settings; }

overall_status orchestrator::overall() const {
  if (emergency_.phase != emergency_phase::normal) return overall_status::emergency;
  bool degraded = false;
  for (const auto& [name, s] : scheduler_.states()) {
    if (!s.checked) return overall_status::starting;
    const auto h = effective_health(s);
    if (counts_as_unhealthy(h.state)) return overall_status::unhealthy;
    if (h.state == status::degraded || h.state == status::unknown) degraded = true;
  }
  return degraded ? overall_status::degraded : overall_status::healthy;
}

health orchestrator::effective_health(const subsystem_state& s) const {
  health h = s.last;
  const std::string name{s.target->name()};
  if (paused(name)) h.state = status::paused;
  for (auto& t : h.targets)
    if (paused(name + "/" + t.name)) t.state = status::paused;
  return h;
}

void orchestrator::on_checked(const subsystem_state& s) {
  metrics_.observe_check(s.target->name(), to_string(s.last_outcome),
                         std::chrono::duration<double>(s.last_duration));
  const auto h = effective_health(s);
  metrics_.update_subsystem(s.target->name(), h);
  record_transitions(s);
  maybe_recover(s);
  evaluate_emergency();
}

void orchestrator::record_transitions(const subsystem_state& s) {
  const std::string name{s.target->name()};
  const auto h = effective_health(s);
  const auto now = std::chrono::system_clock::now();
  auto note = [&](const std::string& key, const std::string& target, status state, const std::string& reason) {
    auto it = since_.find(key);
    if (it != since_.end() && it->second.first == state) return;
    const bool first = it == since_.end();
    since_[key] = {state, now};
    // The first sight of a healthy target is not news; anything else is.
    if (first && state == status::healthy) return;
    const std::string severity = state == status::unhealthy ? "error" : state == status::healthy ? "info" : "warning";
    event(name, target, "status_changed", severity,
          (target.empty() ? name : name + "/" + target) + " is " + std::string(to_string(state)) +
              (reason.empty() ? "" : ": " + reason),
          {{"status", to_string(state)}});
  };
  note(name, "", h.state, h.summary);
  for (const auto& t : h.targets) note(name + "/" + t.name, t.name, t.state, t.reason);
}

void orchestrator::maybe_recover(const subsystem_state& s) {
  const std::string name{s.target->name()};
  if (!settings_.orchestrator.auto_recovery) return;
  if (s.last.state != status::unhealthy || paused(name)) return;
  if (emergency_.phase == emergency_phase::recovering) return;  // the emergency is already on it
  if (actions_.active(name)) return;
  auto target = s.target;
  health last = effective_health(s);
  actions_.submit({.kind = "recover",
                   .subsystem = name,
                   .target = "",
                   .requested_by = "auto",
                   .lane = {},
                   .work = [target, last]() { return target->recover(last); }});
}

void orchestrator::evaluate_emergency() {
  unsigned unhealthy = 0;
  for (const auto& [name, s] : scheduler_.states())
    if (s.checked && !paused(name) && counts_as_unhealthy(s.last.state)) ++unhealthy;
  const auto before = emergency_.attempts;
  const auto decision = decide(emergency_, settings_.orchestrator,
                               {.unhealthy_subsystems = unhealthy,
                                .recovery_running = actions_.active("orchestrator", "emergency").has_value()},
                               std::chrono::system_clock::now());
  if (emergency_.attempts != before) store_.set_counter(emergency_attempts_key, std::to_string(emergency_.attempts));
  metrics_.set_emergency(emergency_.phase != emergency_phase::normal, emergency_.attempts);
  switch (decision) {
    case emergency_decision::none: break;
    case emergency_decision::start_recovery:
      event("orchestrator", "", "emergency_started", "critical",
            std::to_string(unhealthy) + " subsystems unhealthy: emergency recovery attempt " +
                std::to_string(emergency_.attempts) + " of " + std::to_string(max_attempts()));
      request_emergency("auto");
      break;
    case emergency_decision::give_up:
      event("orchestrator", "", "emergency_given_up", "critical",
            "emergency recovery failed " + std::to_string(emergency_.attempts) +
                " times; no more automatic attempts until a person acts (POST /api/emergency)");
      break;
    case emergency_decision::left:
      event("orchestrator", "", "emergency_ended", "info", "emergency over: fewer than " +
                                                              std::to_string(settings_.orchestrator.emergency_threshold) +
                                                              " subsystems unhealthy");
      break;
  }
}

orchestrator::submitted orchestrator::request_emergency(std::string requested_by) {
  if (auto running = actions_.active("orchestrator", "emergency")) return {*running, true};
  if (requested_by != "auto") {
    // A person asking resets a given-up emergency: they are the one it was waiting for.
    if (emergency_.phase == emergency_phase::given_up) emergency_.attempts = 0;
    emergency_.phase = emergency_phase::recovering;
  }
  std::vector<std::shared_ptr<subsystem>> order;
  for (const std::string name : {"pm2", "github", "netlify"})
    if (const auto* s = scheduler_.state(name)) order.push_back(s->target);
  auto& runner = actions_;
  const auto id = actions_.submit(
      {.kind = "emergency",
       .subsystem = "orchestrator",
       .target = "",
       .requested_by = std::move(requested_by),
       .lane = {},
       .work = [order, &runner]() -> awaitable<action_result> {
         action_result all{.ok = true, .summary = {}, .steps = {}, .output_tail = {}};
         for (const auto& target : order) {
           // Arguments built before the co_await: g++ 12 destroys temporaries inside a co_await
           // expression twice.
           std::string lane{target->name()};
           std::function<awaitable<action_result>()> work = [target]() { return target->emergency(); };
           auto step = co_await runner.exclusive(std::move(lane), std::move(work));
           all.ok = all.ok && step.ok;
           all.steps.push_back({.name = std::string(target->name()) + " emergency", .ok = step.ok, .detail = step.summary});
           for (auto& inner : step.steps) all.steps.push_back(std::move(inner));
           all.output_tail += step.output_tail;
         }
         all.summary = order.empty() ? "nothing to recover" : all.ok ? "every subsystem's emergency step succeeded"
                                                                     : "some emergency steps failed";
         co_return all;
       }});
  return {id, false};
}

std::optional<std::string> orchestrator::pause(const std::string& target, std::chrono::milliseconds how_long,
                                               std::string reason) {
  const auto slash = target.find('/');
  const auto subsystem = target.substr(0, slash);
  if (!scheduler_.state(subsystem)) return "unknown subsystem '" + subsystem + "'";
  if (how_long <= std::chrono::milliseconds::zero()) return "'for' must be a positive duration";
  pauses_[target] = {std::chrono::system_clock::now() + how_long, reason};
  event(subsystem, slash == std::string::npos ? "" : target.substr(slash + 1), "paused", "warning",
        target + " paused for " + format_duration(how_long) + (reason.empty() ? "" : ": " + reason));
  return std::nullopt;
}

std::optional<std::string> orchestrator::resume(const std::string& target) {
  if (pauses_.erase(target) == 0) return "'" + target + "' is not paused";
  const auto slash = target.find('/');
  event(target.substr(0, slash), slash == std::string::npos ? "" : target.substr(slash + 1), "resumed", "info",
        target + " resumed");
  scheduler_.check_now(target.substr(0, slash));
  return std::nullopt;
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

boost::json::object orchestrator::subsystem_json(const subsystem_state& s, bool with_targets) const {
  const std::string name{s.target->name()};
  const auto h = effective_health(s);
  boost::json::object o{{"status", s.checked ? to_string(h.state) : "starting"},
                        {"summary", h.summary},
                        {"checked_at", s.checked ? time_or_null(h.checked_at) : nullptr}};
  if (!with_targets) return o;
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
    boost::json::object row = t.detail;
    // The row's status is our verdict; a status of the domain's own (PM2's "online") stays visible
    // under its own name.
    if (auto own = row.find("status"); own != row.end()) row[name + "_status"] = own->value();
    row["name"] = t.name;
    row["status"] = to_string(t.state);
    row["reason"] = t.reason;
    row["since"] = time_or_null(since(name + "/" + t.name));
    const auto target_pause = paused(name + "/" + t.name);
    row["paused_until"] = target_pause ? time_or_null(target_pause->until) : nullptr;
    targets.push_back(std::move(row));
  }
  o["targets"] = std::move(targets);
  return o;
}

boost::json::object orchestrator::health_json() const {
  boost::json::object subsystems;
  sys_time latest{};
  for (const auto& [name, s] : scheduler_.states()) {
    subsystems[name] = subsystem_json(s, false);
    if (s.checked && s.last.checked_at > latest) latest = s.last.checked_at;
  }
  return {{"status", to_string(overall())},
          {"checked_at", time_or_null(latest)},
          {"subsystems", std::move(subsystems)},
          {"emergency",
           {{"active", emergency_.phase != emergency_phase::normal},
            {"phase", to_string(emergency_.phase)},
            {"attempts", emergency_.attempts},
            {"max_attempts", max_attempts()},
            {"given_up", emergency_.phase == emergency_phase::given_up}}}};
}

boost::json::object orchestrator::status_json() const {
  auto o = health_json();
  auto& subsystems = o["subsystems"].as_object();
  for (const auto& [name, s] : scheduler_.states()) subsystems[name] = subsystem_json(s, true);
  return o;
}

boost::json::object orchestrator::report_json() const {
  const auto now = std::chrono::system_clock::now();
  auto o = status_json();
  o["generated_at"] = to_rfc3339(now);
  o["period"] = {{"from", to_rfc3339(now - std::chrono::hours(24))}, {"to", to_rfc3339(now)}};
  boost::json::array events;
  for (const auto& e : store_.events({.since = now - std::chrono::hours(24), .limit = 200, .subsystem = {}, .after_id = {}}))
    events.push_back(to_json(e));
  o["events"] = std::move(events);
  boost::json::array actions;
  for (const auto& a : store_.actions(100)) {
    if (a.created_at < now - std::chrono::hours(24)) continue;
    actions.push_back(to_json(a));
  }
  o["actions"] = std::move(actions);
  return o;
}

awaitable<void> orchestrator::run_timers() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto next_report = std::chrono::steady_clock::now() + settings_.orchestrator.report_interval;
  for (;;) {
    timer.expires_after(settings_.orchestrator.interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    evaluate_emergency();
    if (std::chrono::steady_clock::now() >= next_report) {
      next_report = std::chrono::steady_clock::now() + settings_.orchestrator.report_interval;
      write_report();
      store_.prune(std::chrono::system_clock::now() - settings_.orchestrator.retention);
    }
  }
}

void orchestrator::write_report() {
  const auto now = std::chrono::system_clock::now();
  const auto file = settings_.log_dir / ("health-report-" + today_utc(now) + ".json");
  if (auto error = write_file_atomically(file, boost::json::serialize(report_json()) + "\n"))
    RLOG("orchestrator", warning) << "cannot write health report " << file.string() << ": " << *error;
}

void orchestrator::event(std::string subsystem, std::string target, std::string kind, std::string severity,
                         std::string message, boost::json::object data) {
  const auto level = severity == "critical" || severity == "error" ? severity::error
                     : severity == "warning"                       ? severity::warning
                                                                   : severity::info;
  RLOG_AT(subsystem, level) << message;
  store_.add_event({.id = 0,
                    .ts = std::chrono::system_clock::now(),
                    .subsystem = std::move(subsystem),
                    .target = std::move(target),
                    .kind = std::move(kind),
                    .severity = std::move(severity),
                    .message = std::move(message),
                    .data = std::move(data)});
}

}  // namespace redundancy
