// The service status line from the health body.
#include "redundancy/systemd/status_line.hpp"

namespace redundancy::systemd {
namespace {

std::string string_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

}  // namespace

std::string status_line(const boost::json::object& health) {
  std::string line = string_at(health, "status");
  if (line.empty()) line = "unknown";
  if (const auto* e = health.if_contains("emergency"); e && e->is_object()) {
    const auto& emergency = e->get_object();
    const auto* active = emergency.if_contains("active");
    const auto* attempts = emergency.if_contains("attempts");
    const auto* max = emergency.if_contains("max_attempts");
    if (active && active->is_bool() && active->get_bool() && attempts && max && attempts->is_number() &&
        max->is_number())
      line += " (" + string_at(emergency, "phase") + ", attempt " +
              std::to_string(attempts->to_number<std::uint64_t>()) + " of " +
              std::to_string(max->to_number<std::uint64_t>()) + ")";
  }
  // Before the subsystems, whose summaries may be long enough to be cut off.
  if (const auto* h = health.if_contains("history"); h && h->is_object()) {
    const auto* ok = h->get_object().if_contains("ok");
    if (ok && ok->is_bool() && !ok->get_bool()) line += " (history unavailable)";
  }
  std::string parts;
  if (const auto* s = health.if_contains("subsystems"); s && s->is_object())
    for (const auto& [name, value] : s->get_object()) {
      if (!value.is_object()) continue;
      const auto& subsystem = value.get_object();
      std::string part = std::string(name) + " " + string_at(subsystem, "status");
      if (const auto summary = string_at(subsystem, "summary"); !summary.empty()) part += " (" + summary + ")";
      parts += (parts.empty() ? "" : "; ") + part;
    }
  if (!parts.empty()) line += ": " + parts;
  return line;
}

}  // namespace redundancy::systemd
