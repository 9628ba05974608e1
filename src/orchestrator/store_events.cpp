// The store's events table: adding an event and the API's newest-first query.
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/serialize.hpp>

#include "store_detail.hpp"

namespace redundancy {

using namespace store_detail;

namespace store_detail {

// The column order of the SELECTs below and of status_history.
event event_row(const sqlite::statement& st) {
  return event{.id = st.integer(0),
               .ts = time_column(st, 1),
               .subsystem = st.text(2),
               .target = st.text(3),
               .kind = st.text(4),
               .severity = st.text(5),
               .message = st.text(6),
               .data = object_column(st, 7)};
}

}  // namespace store_detail

boost::json::object to_json(const event& e) {
  return boost::json::object{{"id", e.id},           {"ts", to_rfc3339(e.ts)}, {"subsystem", e.subsystem},
                             {"target", e.target},   {"kind", e.kind},         {"severity", e.severity},
                             {"message", e.message}, {"data", e.data}};
}

std::optional<std::int64_t> store::add_event(event e) {
  if (e.ts == sys_time{}) e.ts = now();
  std::int64_t id = 0;
  const bool ok = write("add_event", [&] {
    auto st = db_->prepare(
        "INSERT INTO events (ts, subsystem, target, kind, severity, message, data) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st.bind(1, to_rfc3339(e.ts))
        .bind(2, e.subsystem)
        .bind(3, e.target)
        .bind(4, e.kind)
        .bind(5, e.severity)
        .bind(6, e.message)
        .bind(7, boost::json::serialize(e.data));
    st.run();
    id = db_->last_insert_rowid();
  });
  if (!ok) return std::nullopt;
  return id;
}

std::vector<event> store::events(const event_query& q) const {
  std::vector<event> out;
  const bool ok = read("events", [&] {
    auto st = db_->prepare(
        "SELECT id, ts, subsystem, target, kind, severity, message, data FROM events "
        "WHERE (?1 IS NULL OR ts >= ?1) AND (?2 IS NULL OR subsystem = ?2) "
        "AND (?3 IS NULL OR id > ?3) ORDER BY ts DESC, id DESC LIMIT ?4");
    st.bind(1, optional_time_text(q.since)).bind(2, q.subsystem);
    if (q.after_id)
      st.bind(3, *q.after_id);
    else
      st.bind_null(3);
    st.bind(4, as_limit(q.limit));
    while (st.step()) out.push_back(event_row(st));
  });
  if (!ok) out.clear();
  return out;
}

}  // namespace redundancy
