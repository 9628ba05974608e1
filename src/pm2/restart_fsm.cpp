// The per-app decisions: observation -> state, state + time -> action, bounded attempts with backoff.
#include "redundancy/pm2/restart_fsm.hpp"

#include <algorithm>
#include <cmath>

namespace redundancy::pm2 {
namespace {

std::string seconds_text(std::chrono::milliseconds d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s >= 120) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace

std::string_view to_string(app_state s) {
  switch (s) {
    case app_state::healthy:
      return "healthy";
    case app_state::starting:
      return "starting";
    case app_state::down:
      return "down";
    case app_state::overloaded:
      return "overloaded";
    case app_state::cpu_warning:
      return "cpu_warning";
    case app_state::given_up:
      return "given_up";
    case app_state::stopped_by_hand:
      return "stopped_by_hand";
  }
  return "down";
}

std::string_view to_string(action_kind k) {
  switch (k) {
    case action_kind::none:
      return "none";
    case action_kind::restart:
      return "restart";
    case action_kind::start_from_ecosystem:
      return "start_from_ecosystem";
    case action_kind::warn:
      return "warn";
    case action_kind::give_up:
      return "give_up";
  }
  return "none";
}

restart_fsm::restart_fsm(restart_settings settings, std::function<double()> random)
    : settings_(settings), random_(std::move(random)) {}

void restart_fsm::forget_old_attempts(fsm_clock::time_point now) {
  while (!attempts_.empty() && now - attempts_.front() >= settings_.attempt_window) attempts_.pop_front();
  // given_up -> (window passed) -> whatever the next observation says, with a fresh budget.
  if (given_up_at_ && now - *given_up_at_ >= settings_.attempt_window) {
    given_up_at_.reset();
    attempts_.clear();
    next_attempt_at_ = {};
  }
}

app_state restart_fsm::observe(const observation& seen, fsm_clock::time_point now) {
  forget_old_attempts(now);
  last_ = seen;
  const bool online = seen.listed && seen.status == app_status::online;
  // A threshold counts only when it holds on consecutive checks: one spike is not a failure.
  memory_streak_ = online && seen.memory_over ? memory_streak_ + 1 : 0;
  cpu_streak_ = online && seen.cpu_over ? cpu_streak_ + 1 : 0;
  if (cpu_streak_ == 0) cpu_warned_ = false;
  const bool stopped = seen.listed && (seen.status == app_status::stopped || seen.status == app_status::stopping);
  if (!stopped)
    stopped_since_.reset();
  else if (!stopped_since_)
    stopped_since_ = now;

  const unsigned n = settings_.streak_needed;
  if (online) {
    if (memory_streak_ >= n) {
      state_ = app_state::overloaded;
      reason_ = "memory over the threshold for " + std::to_string(memory_streak_) + " checks";
    } else if (cpu_streak_ >= n) {
      state_ = settings_.cpu_restart ? app_state::overloaded : app_state::cpu_warning;
      reason_ = "CPU over the threshold for " + std::to_string(cpu_streak_) + " checks";
    } else {
      // Online counts as healthy even after giving up; the flag stays so a flapping app is not restarted again.
      state_ = app_state::healthy;
      reason_.clear();
    }
    if (state_ == app_state::overloaded && given_up_at_) reason_ += " (given up: no automatic restart)";
    return state_;
  }

  if (!seen.listed) {
    state_ = app_state::down;
    reason_ = "not in PM2's process list";
  } else if (seen.status == app_status::errored) {
    state_ = app_state::down;
    reason_ = "errored: PM2 stopped restarting it";
  } else if (stopped && seen.stopped_by_hand) {
    state_ = app_state::stopped_by_hand;
    reason_ = "stopped (by hand): left stopped until it is started again";
    return state_;
  } else if (stopped) {
    auto stopped_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - *stopped_since_);
    // stopped -> down only after one interval, so a deploy's stop/start is not fought.
    if (stopped_for >= settings_.stopped_grace) {
      state_ = app_state::down;
      reason_ = std::string(to_string(seen.status)) + " for " + seconds_text(stopped_for);
    } else {
      state_ = app_state::starting;
      reason_ = std::string(to_string(seen.status)) + ", within one check interval";
    }
  } else {
    // launching, waiting restart, one-launch-status or a status newer than us: PM2 is working on it.
    state_ = app_state::starting;
    reason_ = std::string(to_string(seen.status)) + ": PM2 is restarting it";
  }
  if (state_ == app_state::down && given_up_at_) {
    state_ = app_state::given_up;
    reason_ = "given up after " + std::to_string(attempts_.size()) + " attempts (" + reason_ +
              "); waiting for a manual restart";
  }
  return state_;
}

std::chrono::milliseconds restart_fsm::delay_after(unsigned attempts) {
  double base = static_cast<double>(settings_.base_delay.count());
  double capped =
      std::min(base * std::pow(2.0, attempts > 0 ? attempts - 1 : 0), static_cast<double>(settings_.max_delay.count()));
  double jitter = std::clamp(random_(), 0.0, 1.0) * settings_.jitter_fraction;
  return std::chrono::milliseconds{static_cast<std::int64_t>(capped * (1.0 + jitter))};
}

fsm_action restart_fsm::book_attempt(action_kind kind, std::string reason, fsm_clock::time_point now) {
  attempts_.push_back(now);
  next_attempt_at_ = now + delay_after(static_cast<unsigned>(attempts_.size()));
  memory_streak_ = 0;
  cpu_streak_ = 0;
  return {kind, std::move(reason)};
}

fsm_action restart_fsm::next_action(fsm_clock::time_point now) {
  forget_old_attempts(now);
  switch (state_) {
    case app_state::healthy:
    case app_state::starting:
    case app_state::given_up:
    case app_state::stopped_by_hand:
      return {};
    case app_state::cpu_warning:
      if (cpu_warned_) return {};
      cpu_warned_ = true;
      return {action_kind::warn, reason_};
    case app_state::overloaded:
    case app_state::down:
      break;
  }
  if (given_up_at_) return {};
  if (now < next_attempt_at_) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_at_ - now);
    return {action_kind::none, "next attempt in " + seconds_text(wait + std::chrono::milliseconds{999})};
  }
  if (attempts_.size() >= settings_.max_attempts) {
    // down -> given_up: the budget of the window is spent and the last attempt had its delay.
    given_up_at_ = now;
    state_ = app_state::given_up;
    reason_ = "given up after " + std::to_string(attempts_.size()) + " attempts (" + reason_ +
              "); waiting for a manual restart";
    return {action_kind::give_up, reason_};
  }
  if (state_ == app_state::down && !last_.listed) return book_attempt(action_kind::start_from_ecosystem, reason_, now);
  return book_attempt(action_kind::restart, reason_, now);
}

unsigned restart_fsm::attempts_left(fsm_clock::time_point now) {
  forget_old_attempts(now);
  if (given_up_at_) return 0;
  auto used = static_cast<unsigned>(attempts_.size());
  return used >= settings_.max_attempts ? 0 : settings_.max_attempts - used;
}

void restart_fsm::manual_restart() {
  attempts_.clear();
  given_up_at_.reset();
  next_attempt_at_ = {};
  memory_streak_ = 0;
  cpu_streak_ = 0;
  cpu_warned_ = false;
  if (state_ == app_state::given_up) state_ = app_state::down;
}

}  // namespace redundancy::pm2
