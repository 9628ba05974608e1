// The actions a person asks for: the emergency restart (`pm2 kill`, then everything started again) and
// the restart of one app.
#include "redundancy/pm2/pm2_subsystem.hpp"

#include "pm2_subsystem_internal.hpp"

#include <algorithm>

namespace redundancy::pm2 {

awaitable<action_result> pm2_subsystem::emergency(target_names left_alone) {
  for (const auto& name : manual_stops_.names())
    if (stopped_by_hand(name)) left_alone.insert(name);
  if (!left_alone.empty()) co_return co_await restart_all_but(std::move(left_alone));
  action_result result;
  started_from_file_ = false;
  files_ = co_await ecosystems_.refresh(ecosystem_paths());
  auto probe = co_await probe_daemon();
  if (probe.running) {
    std::vector<std::string> args{"kill"};
    co_await run_step(result, "pm2 kill", std::move(args), true);
    // pm2 kill returns before the daemon is gone; give it a moment so the next start gets a fresh one.
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 50 && detail::pid_alive(probe.pid); ++i) {
      asio::steady_timer t(ex, std::chrono::milliseconds(100));
      co_await t.async_wait(asio::use_awaitable);
    }
  }
  for (const auto& f : files_)
    if (f.error.empty() && f.mtime) co_await start_from_file(result, f.path, std::nullopt);
  // Apps outside the ecosystem files come back from the dump (resurrect skips names already running).
  if (dump_has_apps()) {
    std::vector<std::string> args{"resurrect"};
    co_await run_step(result, "pm2 resurrect", std::move(args), true);
  }
  // Like a repair, it leaves no "dump.pm2 lacks ..." warning about its own work.
  if (started_from_file_ && pm2_.save_after_recovery) co_await save_started_apps(result);
  auto h = co_await check();
  result.ok = std::all_of(result.steps.begin(), result.steps.end(), [](const auto& s) { return s.ok; }) &&
              h.state != status::unhealthy && !result.steps.empty();
  result.summary = "emergency restart: " + h.summary;
  co_return result;
}

boost::system::result<subsystem::manual_work, std::string> pm2_subsystem::manual(std::string_view verb,
                                                                                 const boost::json::object& args,
                                                                                 const target_names& paused) {
  if (verb != "restart") return subsystem::manual(verb, args, paused);
  const auto it = args.find("app");
  if (it == args.end() || it->value().is_null()) return manual_work([this, paused]() { return emergency(paused); });
  if (!it->value().is_string() || it->value().as_string().empty())
    return std::string("app: expected the name of a PM2 app");
  std::string app(it->value().as_string());
  return manual_work([this, app]() { return restart_app(app); });
}

awaitable<action_result> pm2_subsystem::restart_app(std::string name) {
  action_result result;
  started_from_file_ = false;
  if (state_ == pm2_state::unchecked) co_await check();
  bool listed = std::any_of(list_.begin(), list_.end(), [&](const auto& e) { return e.name == name; });
  if (!listed && !expected_.count(name)) {
    result.summary = "unknown app " + name + ": neither expected nor known to PM2";
    co_return result;
  }
  if (auto it = expected_.find(name); it != expected_.end()) it->second.fsm.manual_restart();
  co_await settle_daemon();
  auto probe = co_await probe_daemon();
  if (!probe.running) {
    result.summary = "PM2 daemon is not running: use the emergency restart";
    co_return result;
  }
  co_await restart_or_start(result, name, listed);
  const bool restarted = !result.steps.empty() && result.steps.back().ok;
  const auto steps_before_save = result.steps.size();
  if (restarted && started_from_file_ && pm2_.save_after_recovery)
    co_await save_started_apps(result);
  else
    co_await check();
  result.ok = restarted && std::all_of(result.steps.begin() + steps_before_save, result.steps.end(),
                                       [](const auto& s) { return s.ok; });
  result.summary = (restarted ? "restarted " : "could not restart ") + name;
  co_return result;
}

// With apps a person paused or stopped, no `pm2 kill`, which would stop them too: every other expected app
// is restarted (or started from its ecosystem file) one by one, and those are left as they are.
awaitable<action_result> pm2_subsystem::restart_all_but(target_names left_alone) {
  action_result result;
  started_from_file_ = false;
  co_await settle_daemon();
  co_await check();
  std::vector<std::string> names;
  for (const auto& [name, app] : expected_) names.push_back(name);
  for (const auto& name : names) {
    if (left_alone.contains(name)) {
      result.steps.push_back(
          {.name = "leave " + name,
           .ok = true,
           .detail = stopped_by_hand(name) ? "stopped by hand: left stopped" : "paused: left alone"});
      continue;
    }
    if (auto it = expected_.find(name); it != expected_.end()) it->second.fsm.manual_restart();
    const bool listed = std::any_of(list_.begin(), list_.end(), [&](const auto& e) { return e.name == name; });
    co_await restart_or_start(result, name, listed);
  }
  if (started_from_file_ && pm2_.save_after_recovery) co_await save_started_apps(result);
  auto h = co_await check();
  result.ok = std::all_of(result.steps.begin(), result.steps.end(), [](const auto& s) { return s.ok; });
  result.summary = "emergency restart, paused or stopped apps left alone: " + h.summary;
  co_return result;
}

awaitable<void> pm2_subsystem::restart_or_start(action_result& result, const std::string& name, bool listed) {
  const auto file = file_of(name);
  if (listed) {
    std::vector<std::string> args{"restart", name};
    const bool ok = co_await run_step(result, "pm2 restart " + name, std::move(args), true);
    // PM2 forgot it between the check and now: start it from its file instead.
    if (!ok && file) co_await start_from_file(result, *file, name);
  } else if (file) {
    co_await start_from_file(result, *file, name);
  } else {
    result.steps.push_back({.name = "start " + name,
                            .ok = false,
                            .detail = name + " is not known to PM2 and no ecosystem file defines it"});
  }
}

}  // namespace redundancy::pm2
