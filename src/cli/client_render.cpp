// The client commands' rendering: the daemon's JSON answers as tables and text for people.
#include "client_render.hpp"

#include <boost/json/serialize.hpp>
#include <utility>
#include <vector>

#include "redundancy/cli/table.hpp"

namespace redundancy::cli::client_detail {

namespace json = boost::json;

const json::value* find(const json::value& v, std::string_view key) {
  if (!v.is_object()) return nullptr;
  return v.as_object().if_contains(key);
}

// A JSON value as a table cell: strings as they are, null or missing as "-".
std::string cell(const json::value* v) {
  if (!v || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

std::string cell(const json::value& v, std::string_view key) { return cell(find(v, key)); }

// Indented JSON for people; Boost.JSON only prints compact text.
void pretty_print(std::ostream& os, const json::value& v, int indent) {
  const std::string pad(indent + 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    os << "{\n";
    bool first = true;
    for (const auto& [key, value] : v.as_object()) {
      os << (first ? "" : ",\n") << pad << json::serialize(json::value(key)) << ": ";
      first = false;
      pretty_print(os, value, indent + 2);
    }
    os << "\n" << std::string(indent, ' ') << "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    os << "[\n";
    bool first = true;
    for (const auto& item : v.as_array()) {
      os << (first ? "" : ",\n") << pad;
      first = false;
      pretty_print(os, item, indent + 2);
    }
    os << "\n" << std::string(indent, ' ') << "]";
  } else {
    os << json::serialize(v);
  }
}

namespace {

// The subsystems of a health or status answer as (name, object) pairs, in the daemon's order.
std::vector<std::pair<std::string, const json::value*>> subsystems_of(const json::value& v) {
  std::vector<std::pair<std::string, const json::value*>> out;
  const auto* subs = find(v, "subsystems");
  if (subs && subs->is_object())
    for (const auto& [name, value] : subs->as_object()) out.emplace_back(std::string(name), &value);
  else if (subs && subs->is_array())
    for (const auto& value : subs->as_array()) out.emplace_back(cell(value, "name"), &value);
  return out;
}

void print_targets(std::ostream& os, const std::string& subsystem, const json::value& v, bool colour) {
  const auto* targets = find(v, "targets");
  if (!targets || !targets->is_array() || targets->as_array().empty()) return;
  table t{.header = {"TARGET", "STATUS", "SINCE", "REASON"}, .rows = {}};
  for (const auto& target : targets->as_array())
    t.rows.push_back({subsystem + "/" + cell(target, "name"), cell(target, "status"), cell(target, "since"),
                      cell(target, "reason")});
  os << "\n";
  print_table(os, t, colour);
}

void print_emergency(std::ostream& os, const json::value& v, bool colour) {
  const auto* e = find(v, "emergency");
  if (!e) return;
  const auto* active = find(*e, "active");
  const bool on = active && active->is_bool() && active->as_bool();
  os << "emergency: " << coloured(on ? "active" : "inactive", colour) << " (attempts " << cell(*e, "attempts") << "/"
     << cell(*e, "max_attempts") << ")\n";
  if (const auto* message = find(*e, "message"); message && message->is_string())
    os << "  " << coloured("given up", colour) << ": " << cell(*e, "message") << "\n";
}

// The history's error state (a file that cannot be opened or written), shown only when there is one.
void print_history(std::ostream& os, const json::value& v, bool colour) {
  const auto* h = find(v, "history");
  if (!h) return;
  const auto* ok = find(*h, "ok");
  if (!ok || !ok->is_bool() || ok->as_bool()) return;
  os << "history: " << coloured("error", colour) << ": " << cell(*h, "error") << " (" << cell(*h, "unsaved_events")
     << " events kept in memory)\n";
}

}  // namespace

// GET /api/health and GET /api/status as tables: the overall line, one row per subsystem, then
// (status only) each subsystem's targets and the daemon's own line.
void print_overview(std::ostream& os, const json::value& v, bool detailed, bool colour) {
  os << "overall: " << coloured(cell(v, "status"), colour) << "  (checked " << cell(v, "checked_at") << ")\n";
  table t;
  t.header = detailed ? std::vector<std::string>{"SUBSYSTEM",  "STATUS",       "FAILURES", "CHECKED",
                                                 "NEXT CHECK", "PAUSED UNTIL", "SUMMARY"}
                      : std::vector<std::string>{"SUBSYSTEM", "STATUS", "CHECKED", "SUMMARY"};
  const auto subsystems = subsystems_of(v);
  for (const auto& [name, s] : subsystems) {
    if (detailed)
      t.rows.push_back({name, cell(*s, "status"), cell(*s, "consecutive_failures"), cell(*s, "checked_at"),
                        cell(*s, "next_check_at"), cell(*s, "paused_until"), cell(*s, "summary")});
    else
      t.rows.push_back({name, cell(*s, "status"), cell(*s, "checked_at"), cell(*s, "summary")});
  }
  os << "\n";
  print_table(os, t, colour);
  if (detailed)
    for (const auto& [name, s] : subsystems) print_targets(os, name, *s, colour);
  os << "\n";
  print_emergency(os, v, colour);
  print_history(os, v, colour);
  if (const auto* d = find(v, "daemon"))
    os << "daemon: version " << cell(*d, "version") << ", pid " << cell(*d, "pid") << ", started "
       << cell(*d, "started_at") << ", rss " << cell(*d, "rss_bytes") << " bytes\n";
}

void print_subsystem(std::ostream& os, const std::string& name, const json::value& v, bool colour) {
  os << name << ": " << coloured(cell(v, "status"), colour) << "  " << cell(v, "summary") << "\n";
  os << "checked " << cell(v, "checked_at") << ", next check " << cell(v, "next_check_at") << ", consecutive failures "
     << cell(v, "consecutive_failures");
  if (const auto* p = find(v, "paused_until"); p && !p->is_null()) os << ", paused until " << cell(p);
  os << "\n";
  print_targets(os, name, v, colour);
}

void print_events(std::ostream& os, const json::value& v, bool colour) {
  table t{.header = {"TIME", "SEVERITY", "SUBSYSTEM", "TARGET", "KIND", "MESSAGE"}, .rows = {}};
  if (const auto* events = find(v, "events"); events && events->is_array())
    for (const auto& e : events->as_array())
      t.rows.push_back({cell(e, "ts"), cell(e, "severity"), cell(e, "subsystem"), cell(e, "target"), cell(e, "kind"),
                        cell(e, "message")});
  if (t.rows.empty()) {
    os << "no events\n";
    return;
  }
  print_table(os, t, colour);
}

// An action from GET /api/actions/{id}: its state, then each step and, when it failed, its output.
void print_action(std::ostream& os, const json::value& a, bool colour) {
  os << "action " << cell(a, "id") << " " << coloured(cell(a, "state"), colour) << " (" << cell(a, "kind") << " "
     << cell(a, "subsystem");
  if (const auto* t = find(a, "target"); t && t->is_string() && !t->as_string().empty()) os << "/" << cell(t);
  os << ")\n";
  if (const auto* steps = find(a, "steps"); steps && steps->is_array())
    for (const auto& step : steps->as_array()) {
      if (!step.is_object()) {
        os << "  " << cell(&step) << "\n";
        continue;
      }
      const auto* ok = find(step, "ok");
      const auto mark = ok && ok->is_bool() ? (ok->as_bool() ? "ok" : "failed") : cell(step, "state");
      os << "  " << coloured(mark, colour) << "  " << cell(step, "name");
      if (const auto* d = find(step, "detail"); d && !d->is_null()) os << ": " << cell(d);
      os << "\n";
    }
  const auto state = cell(a, "state");
  if (state != "succeeded")
    if (const auto* tail = find(a, "output_tail"); tail && tail->is_string() && !tail->as_string().empty())
      os << "output:\n" << tail->as_string() << "\n";
}

}  // namespace redundancy::cli::client_detail
