// What the event history means for people: which events become notifications, the conditions
// already told (so an alert is not repeated, also across a restart), and the reminders while
// something stays down. A pure state machine: no I/O, the clock passed in.
#pragma once
#include "redundancy/core/time.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace redundancy {

// One thing a webhook may be told. Kinds are notification_kinds() (config.hpp) plus "test".
struct notification {
  std::string kind{};
  sys_time ts{};
  std::string subsystem{}, target{};
  std::string severity{};  // info, warning, error, critical
  std::string message{};
  std::int64_t event_id{0};   // the event it came from; 0 for reminders and tests
  std::string except_hook{};  // delivery_given_up: not sent to the webhook that gave up
};

boost::json::object to_json(const notification& n);
// nullopt when the text is not a notification (an outbox row edited by hand).
std::optional<notification> notification_from_json(std::string_view text);

// Something people were told about that is not over yet: a subsystem or target down
// ("pm2", "pm2/api") or the emergency ("emergency").
struct open_condition {
  std::string status{};  // the latest status seen: unhealthy, unknown, paused, ...
  sys_time since{};
  sys_time last_told{};   // the alert or the latest reminder
  bool given_up{false};   // its given_up (or emergency_given_up) was sent
  std::string message{};  // the alert's text, repeated in reminders
  std::string severity{};
};

//   (none)   -> open       an unhealthy status: "down" (not again while open, also after a restart)
//   open     -> open       unknown / paused / unhealthy again: no message, reminders only while unhealthy
//   open     -> (none)     healthy, degraded or disabled: "recovered"
//   open     -> given up   target_given_up / emergency_given_up: "given_up" once per condition
class alert_tracker {
 public:
  // The notifications an event makes (none for most), updating the open conditions.
  std::vector<notification> on_event(const event& e);
  // Reminders ("still_down") for conditions unhealthy for repeat_every since they were last told;
  // none when repeat_every is zero.
  std::vector<notification> reminders(sys_time now, std::chrono::milliseconds repeat_every);
  // When the next reminder falls due; nullopt when none will.
  std::optional<sys_time> next_reminder(std::chrono::milliseconds repeat_every) const;

  const std::map<std::string, open_condition>& open() const { return open_; }
  // True when the conditions changed since the last save (the caller persists them).
  bool dirty() const { return dirty_; }
  std::string save();
  // Restores saved conditions; text that does not parse gives an empty tracker.
  static alert_tracker load(std::string_view text);

 private:
  std::map<std::string, open_condition> open_;
  bool dirty_{false};
};

}  // namespace redundancy
