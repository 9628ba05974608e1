// The alert tracker: events to notifications, open conditions, reminders.
#include "redundancy/orchestrator/alerts.hpp"

#include "redundancy/core/duration.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace redundancy {
namespace {

namespace json = boost::json;

std::string key_of(const event& e) { return e.target.empty() ? e.subsystem : e.subsystem + "/" + e.target; }

notification from_event(const event& e, std::string kind) {
  return {.kind = std::move(kind),
          .ts = e.ts,
          .subsystem = e.subsystem,
          .target = e.target,
          .severity = e.severity,
          .message = e.message,
          .event_id = e.id,
          .except_hook = {}};
}

std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

sys_time time_of(const json::object& o, std::string_view key) {
  return from_rfc3339(text_of(o, key)).value_or(sys_time{});
}

// Whole seconds: "3h", "1h30m" reads better than milliseconds in a reminder.
std::string how_long(std::chrono::milliseconds d) {
  return format_duration(std::chrono::duration_cast<std::chrono::seconds>(d));
}

}  // namespace

json::object to_json(const notification& n) {
  json::object o{{"kind", n.kind},         {"ts", to_rfc3339(n.ts)}, {"subsystem", n.subsystem}, {"target", n.target},
                 {"severity", n.severity}, {"message", n.message},   {"event_id", n.event_id}};
  if (!n.except_hook.empty()) o["except_hook"] = n.except_hook;
  return o;
}

std::optional<notification> notification_from_json(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  notification n{.kind = text_of(o, "kind"),
                 .ts = time_of(o, "ts"),
                 .subsystem = text_of(o, "subsystem"),
                 .target = text_of(o, "target"),
                 .severity = text_of(o, "severity"),
                 .message = text_of(o, "message"),
                 .event_id = 0,
                 .except_hook = text_of(o, "except_hook")};
  if (const auto* id = o.if_contains("event_id"); id && id->is_int64()) n.event_id = id->get_int64();
  if (n.kind.empty()) return std::nullopt;
  return n;
}

std::vector<notification> alert_tracker::on_event(const event& e) {
  std::vector<notification> out;
  if (e.kind == "status_changed" || e.kind == "status_observed") {
    const auto* s = e.data.if_contains("status");
    if (!s || !s->is_string()) return out;
    const std::string status(s->get_string());
    const auto key = key_of(e);
    auto it = open_.find(key);
    if (status == "unhealthy") {
      if (it == open_.end()) {
        open_[key] = {.status = status,
                      .since = e.ts,
                      .last_told = e.ts,
                      .given_up = false,
                      .message = e.message,
                      .severity = e.severity};
        out.push_back(from_event(e, "down"));
      } else {
        it->second.status = status;  // back from unknown or paused, or seen again after a restart
      }
      dirty_ = true;
    } else if (status == "healthy" || status == "degraded" || status == "disabled") {
      if (it != open_.end()) {
        auto n = from_event(e, "recovered");
        n.message += " (down for " +
                     how_long(std::chrono::duration_cast<std::chrono::milliseconds>(e.ts - it->second.since)) + ")";
        out.push_back(std::move(n));
        open_.erase(it);
        dirty_ = true;
      }
    } else if (it != open_.end() && it->second.status != status) {
      it->second.status = status;  // unknown or paused: still open, but no reminders
      dirty_ = true;
    }
  } else if (e.kind == "target_given_up" || e.kind == "emergency_given_up") {
    const auto key = e.kind == "emergency_given_up" ? std::string("emergency") : key_of(e);
    auto& c = open_[key];
    if (c.given_up) return out;
    if (c.since == sys_time{})
      c = {.status = "unhealthy",
           .since = e.ts,
           .last_told = e.ts,
           .given_up = false,
           .message = e.message,
           .severity = e.severity};
    c.given_up = true;
    dirty_ = true;
    out.push_back(from_event(e, e.kind == "emergency_given_up" ? "emergency_given_up" : "given_up"));
  } else if (e.kind == "emergency_started") {
    // Every attempt is news ("attempt 2 of 3"); the emergency is open until it ends.
    auto& c = open_["emergency"];
    if (c.since == sys_time{})
      c = {.status = "emergency",
           .since = e.ts,
           .last_told = e.ts,
           .given_up = false,
           .message = e.message,
           .severity = e.severity};
    dirty_ = true;
    out.push_back(from_event(e, "emergency_entered"));
  } else if (e.kind == "emergency_ended") {
    open_.erase("emergency");
    dirty_ = true;
    out.push_back(from_event(e, "emergency_left"));
  } else if (e.kind == "notify_given_up") {
    auto n = from_event(e, "delivery_given_up");
    n.except_hook = e.target;
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<notification> alert_tracker::reminders(sys_time now, std::chrono::milliseconds repeat_every) {
  std::vector<notification> out;
  if (repeat_every <= std::chrono::milliseconds::zero()) return out;
  for (auto& [key, c] : open_) {
    if (c.status != "unhealthy" || now - c.last_told < repeat_every) continue;
    c.last_told = now;
    dirty_ = true;
    const auto slash = key.find('/');
    out.push_back({.kind = "still_down",
                   .ts = now,
                   .subsystem = key.substr(0, slash),
                   .target = slash == std::string::npos ? std::string{} : key.substr(slash + 1),
                   .severity = c.severity.empty() ? std::string("error") : c.severity,
                   .message = "still down after " +
                              how_long(std::chrono::duration_cast<std::chrono::milliseconds>(now - c.since)) + ": " +
                              c.message,
                   .event_id = 0,
                   .except_hook = {}});
  }
  return out;
}

std::optional<sys_time> alert_tracker::next_reminder(std::chrono::milliseconds repeat_every) const {
  if (repeat_every <= std::chrono::milliseconds::zero()) return std::nullopt;
  std::optional<sys_time> next;
  for (const auto& [key, c] : open_)
    if (c.status == "unhealthy" && (!next || c.last_told + repeat_every < *next)) next = c.last_told + repeat_every;
  return next;
}

std::string alert_tracker::save() {
  dirty_ = false;
  json::object o;
  for (const auto& [key, c] : open_)
    o[key] = {{"status", c.status},     {"since", to_rfc3339(c.since)}, {"last_told", to_rfc3339(c.last_told)},
              {"given_up", c.given_up}, {"message", c.message},         {"severity", c.severity}};
  return json::serialize(o);
}

alert_tracker alert_tracker::load(std::string_view text) {
  alert_tracker t;
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return t;
  for (const auto& [key, value] : v.get_object()) {
    if (!value.is_object()) continue;
    const auto& o = value.get_object();
    const auto* given_up = o.if_contains("given_up");
    t.open_[std::string(key)] = {.status = text_of(o, "status"),
                                 .since = time_of(o, "since"),
                                 .last_told = time_of(o, "last_told"),
                                 .given_up = given_up && given_up->is_bool() && given_up->get_bool(),
                                 .message = text_of(o, "message"),
                                 .severity = text_of(o, "severity")};
  }
  return t;
}

}  // namespace redundancy
