// The decisions about one expected PM2 app, with no I/O: what each check's observation means, and what
// recovery should do now (restart, start from the ecosystem file, warn, give up, or wait).
#pragma once
#include "redundancy/pm2/jlist.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>

namespace redundancy::pm2 {

using fsm_clock = std::chrono::steady_clock;

struct restart_settings {
  unsigned max_attempts{5};                    // per attempt_window
  std::chrono::milliseconds base_delay{5000};  // between attempts, doubled each time
  std::chrono::milliseconds max_delay{5 * 60 * 1000};
  std::chrono::milliseconds attempt_window{60 * 60 * 1000};  // also how long given_up lasts
  std::chrono::milliseconds stopped_grace{30000};            // one check interval: stopped longer is down
  unsigned streak_needed{3};                                 // consecutive checks over a threshold
  bool cpu_restart{false};                                   // pm2.cpu_action == "restart"
  double jitter_fraction{0.1};                               // delay grows by up to this share, at random
};

// What one check saw of the app.
struct observation {
  bool listed{false};  // PM2 knows the app
  app_status status{app_status::other};
  bool memory_over{false};  // this check only
  bool cpu_over{false};
  bool stopped_by_hand{false};  // a person stopped it (`pm2 stop`) and it has not run since
};

// Names shown in the API: only ever added to, never renamed.
enum class app_state {
  healthy,      // online, no threshold held for streak_needed checks
  starting,     // launching / waiting restart / stopped within the grace: PM2 is on it, give it a check
  down,         // errored, absent, stopped beyond the grace: recovery restarts it
  overloaded,   // memory (or, with cpu_restart, CPU) over the threshold for streak_needed checks
  cpu_warning,  // CPU over the threshold for streak_needed checks, warn only
  given_up,     // attempts exhausted within the window: nothing automatic until a manual restart or the window passes
  stopped_by_hand,  // stopped by a person: left stopped, never restarted, until it runs again
};

std::string_view to_string(app_state s);

enum class action_kind { none, restart, start_from_ecosystem, warn, give_up };

std::string_view to_string(action_kind k);

struct fsm_action {
  action_kind kind{action_kind::none};
  std::string reason{};
};

class restart_fsm {
 public:
  // `random` returns a number in [0, 1); injected so tests are deterministic.
  restart_fsm(restart_settings settings, std::function<double()> random);

  // Records one check. Updates the streaks and how long the app has been stopped; returns the state.
  app_state observe(const observation& seen, fsm_clock::time_point now);

  // What recovery should do now. A restart or start is booked as an attempt (and sets the next allowed
  // time); give_up is returned once, when attempts run out; warn once per CPU streak.
  fsm_action next_action(fsm_clock::time_point now);

  // A person asked for a restart: forget given_up, the attempts and the backoff.
  void manual_restart();

  app_state state() const { return state_; }
  // Why the app is not healthy, "" when it is.
  const std::string& reason() const { return reason_; }
  unsigned attempts_left(fsm_clock::time_point now);
  bool given_up() const { return given_up_at_.has_value(); }
  unsigned memory_streak() const { return memory_streak_; }
  unsigned cpu_streak() const { return cpu_streak_; }
  // The earliest time of the next attempt (meaningful while down).
  fsm_clock::time_point next_attempt_at() const { return next_attempt_at_; }

 private:
  void forget_old_attempts(fsm_clock::time_point now);
  std::chrono::milliseconds delay_after(unsigned attempts);
  fsm_action book_attempt(action_kind kind, std::string reason, fsm_clock::time_point now);

  restart_settings settings_;
  std::function<double()> random_;
  app_state state_{app_state::healthy};
  std::string reason_{};
  observation last_{};
  std::deque<fsm_clock::time_point> attempts_{};
  fsm_clock::time_point next_attempt_at_{};
  std::optional<fsm_clock::time_point> given_up_at_{};
  std::optional<fsm_clock::time_point> stopped_since_{};
  unsigned memory_streak_{0};
  unsigned cpu_streak_{0};
  bool cpu_warned_{false};
};

}  // namespace redundancy::pm2
