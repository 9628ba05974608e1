// The recovery: the daemon brought back (its restart command, `pm2 resurrect` or the ecosystem files),
// then each down app as its restart_fsm decides, `pm2 save` after, and the oversized logs rotated.
#include "redundancy/pm2/pm2_subsystem.hpp"

#include "redundancy/core/log.hpp"

#include <algorithm>

namespace redundancy::pm2 {

awaitable<void> pm2_subsystem::recover_daemon(action_result& result) {
  if (pm2_.daemon_restart_command && !pm2_.daemon_restart_command->empty()) {
    auto argv = *pm2_.daemon_restart_command;
    std::string name;
    for (const auto& a : argv) name += (name.empty() ? "" : " ") + a;
    co_await run_step(result, std::move(name), std::move(argv), false);
  } else if (dump_has_apps()) {
    std::vector<std::string> args{"resurrect"};
    co_await run_step(result, "pm2 resurrect", std::move(args), true);
  } else {
    for (const auto& f : files_)
      if (f.error.empty()) co_await start_from_file(result, f.path, std::nullopt);
  }
}

awaitable<void> pm2_subsystem::recover_apps(action_result& result, const target_names& paused) {
  auto now = fsm_clock::now();
  std::vector<std::string> names;
  for (const auto& [name, app] : expected_)
    if (!paused.contains(name)) names.push_back(name);
  // Apps PM2's dump remembers: a daemon that came back empty (a `pm2` command spawns a new one when the
  // old one was killed under it) gets them back from `pm2 resurrect`, even without an ecosystem file.
  const std::set<std::string> dumped = dumped_names();
  bool resurrected = false;
  for (const auto& name : names) {
    auto it = expected_.find(name);
    if (it == expected_.end()) continue;
    auto action = it->second.fsm.next_action(now);
    auto file = it->second.file;
    switch (action.kind) {
      case action_kind::none: {
        // Down but waiting out the backoff after a restart: something is due, at a known time.
        const auto& fsm = it->second.fsm;
        const bool waiting = fsm.state() == app_state::down || fsm.state() == app_state::overloaded;
        if (waiting && !fsm.given_up() && fsm.next_attempt_at() > now)
          result.retry_at = result.retry_at ? std::min(*result.retry_at, fsm.next_attempt_at()) : fsm.next_attempt_at();
        break;
      }
      case action_kind::warn:
        RLOG("pm2", warning) << name << ": " << action.reason;
        result.steps.push_back({.name = "warn " + name, .ok = true, .detail = action.reason});
        break;
      case action_kind::give_up:
        RLOG("pm2", error) << name << ": " << action.reason;
        result.steps.push_back({.name = "give up " + name, .ok = false, .detail = action.reason});
        break;
      case action_kind::restart:
        co_await restart_or_start(result, name, true);
        break;
      case action_kind::start_from_ecosystem:
        if (file) {
          co_await start_from_file(result, *file, name);
        } else if (dumped.contains(name)) {
          if (!resurrected) {
            resurrected = true;
            std::vector<std::string> args{"resurrect"};
            co_await run_step(result, "pm2 resurrect", std::move(args), true);
          }
        } else
          result.steps.push_back({.name = "start " + name,
                                  .ok = false,
                                  .detail = name + " is not known to PM2 and no ecosystem file defines it"});
        break;
    }
  }
}

awaitable<void> pm2_subsystem::save_started_apps(action_result& result) {
  // Saving writes PM2's whole list over the dump: an app the dump has and PM2 does not list now would be
  // lost to the next reboot. Then the dump is left to a person, whom the check warns.
  co_await check();
  if (state_ != pm2_state::ok) co_return;
  std::set<std::string> listed;
  for (const auto& e : list_) listed.insert(e.name);
  std::string dropped;
  for (const auto& name : dumped_names())
    if (!listed.contains(name)) dropped += (dropped.empty() ? "" : ", ") + name;
  if (!dropped.empty()) {
    RLOG("pm2", warning) << "not saving PM2's list: dump.pm2 has " << dropped << ", which PM2 does not list now";
    co_return;
  }
  std::vector<std::string> args{"save"};
  co_await run_step(result, "pm2 save", std::move(args), true);
}

awaitable<bool> pm2_subsystem::repair(action_result& result, const target_names& paused) {
  switch (state_) {
    case pm2_state::unchecked:
    case pm2_state::not_installed:
    case pm2_state::bad_output:
      if (result.steps.empty()) result.summary = "nothing to do while " + last_.summary;
      co_return false;
    case pm2_state::not_answering:
      if (!pm2_.daemon_restart_command) {
        if (result.steps.empty())
          result.summary = "PM2 daemon not answering and no pm2.daemon_restart_command: use the emergency restart";
        co_return false;
      }
      co_await recover_daemon(result);
      co_await check();
      break;
    case pm2_state::daemon_down:
      co_await recover_daemon(result);
      // Then the expected apps: whatever the daemon did not bring back is started below, once the daemon
      // the steps spawned answers.
      co_await settle_daemon();
      co_await check();
      break;
    case pm2_state::ok:
      break;
  }
  if (state_ == pm2_state::ok) co_await recover_apps(result, paused);
  co_return true;
}

awaitable<action_result> pm2_subsystem::recover(const health& last) {
  // Read `last` before the first suspension: the caller's copy need not outlive this coroutine.
  target_names paused;
  for (const auto& t : last.targets)
    if (t.state == status::paused) paused.insert(t.name);
  const auto last_checked_at = last.checked_at;
  action_result result;
  // Nothing is repaired while PM2's daemon is going down or coming up: then one check says what is left.
  // A daemon that was unusable at the last check may answer by now (it was coming up): look again rather
  // than act on old news.
  const bool waited = co_await settle_daemon();
  if (waited || state_ != pm2_state::ok || last_checked_at > last_.checked_at) co_await check();
  started_from_file_ = false;
  for (int round = 0; round < 2; ++round) {
    daemon_died_ = false;
    if (!co_await repair(result, paused) && result.steps.empty()) co_return result;
    // The daemon died under a step: once more against what follows it (a new daemon, or none).
    if (!daemon_died_) break;
    co_await settle_daemon();
    co_await check();
  }
  if (started_from_file_ && pm2_.save_after_recovery) co_await save_started_apps(result);
  if (!oversized_logs_.empty()) {
    auto rotated = co_await rotate_logs();
    result.steps.insert(result.steps.end(), rotated.steps.begin(), rotated.steps.end());
  }
  result.ok = std::all_of(result.steps.begin(), result.steps.end(), [](const auto& s) { return s.ok; });
  if (result.steps.empty() && state_ == pm2_state::ok && result.retry_at) {
    const auto wait = std::chrono::ceil<std::chrono::seconds>(*result.retry_at - fsm_clock::now());
    result.summary = "nothing due yet: the next restart in " + std::to_string(std::max<long>(wait.count(), 0)) + " s";
    result.ok = true;
  } else if (result.steps.empty()) {
    result.summary = state_ == pm2_state::ok ? "nothing to do now" : "PM2 still unusable: " + last_.summary;
    result.ok = state_ == pm2_state::ok;
  } else {
    unsigned failed = 0;
    for (const auto& s : result.steps) failed += s.ok ? 0 : 1;
    result.summary = std::to_string(result.steps.size()) + " steps, " + std::to_string(failed) + " failed";
  }
  co_return result;
}

}  // namespace redundancy::pm2
