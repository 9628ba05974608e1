// Orchestrator: what /api/health, /api/status and the health report show.
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

namespace redundancy {
namespace {

boost::json::value time_or_null(std::optional<sys_time> t) {
  if (!t || *t == sys_time{}) return nullptr;
  return boost::json::value(to_rfc3339(*t));
}

}  // namespace

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
                                {"running_action", nullptr},
                                {"next_attempt_at", nullptr}};
  if (auto running = actions_.active("orchestrator", "emergency")) emergency["running_action"] = *running;
  // The spacing after an attempt, in wall-clock time: "why has nothing happened yet?" answered.
  const auto steady_now = std::chrono::steady_clock::now();
  if (const auto& next = policy_.emergency().next_attempt_at;
      next && *next > steady_now && policy_.emergency().phase != emergency_phase::given_up)
    emergency["next_attempt_at"] =
        to_rfc3339(std::chrono::system_clock::now() +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(*next - steady_now));
  if (given_up)
    emergency["message"] =
        "gave up after " + std::to_string(policy_.emergency().attempts) +
        " emergency recoveries; waiting for a person (POST /api/emergency or `redundancy emergency`)";
  boost::json::array pauses;
  for (const auto& [target, p] : pauses_)
    if (paused(target)) pauses.push_back({{"target", target}, {"until", to_rfc3339(p.until)}, {"reason", p.reason}});
  return {{"status", to_string(overall())},      {"checked_at", time_or_null(latest)},
          {"subsystems", std::move(subsystems)}, {"emergency", std::move(emergency)},
          {"pauses", std::move(pauses)},         {"history", history_json()}};
}

boost::json::object orchestrator::status_json() const {
  auto o = health_json();
  auto& subsystems = o["subsystems"].as_object();
  for (const auto& [name, s] : scheduler_.states()) subsystems[name] = subsystem_json(s, true);
  for (auto& [key, value] : sink_->status()) o[key] = std::move(value);
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

}  // namespace redundancy
