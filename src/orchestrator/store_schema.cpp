// The store's schema: the migrations that create and upgrade it, applied at open.
#include <array>
#include <string>

#include "store_detail.hpp"

namespace redundancy::store_detail {
namespace {

// migrations[v] takes a database from user_version v to v + 1, in one transaction. Only ever
// append. Times are RFC 3339 UTC text with milliseconds (fixed width, so they compare in time
// order), JSON columns are text.
constexpr std::array<std::string_view, 2> migrations{{
    R"sql(
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts TEXT NOT NULL,
  subsystem TEXT NOT NULL,
  target TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX events_by_ts ON events (ts);
CREATE INDEX events_by_subsystem ON events (subsystem, ts);
CREATE TABLE actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  subsystem TEXT NOT NULL,
  target TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  output_tail TEXT NOT NULL,
  steps TEXT NOT NULL,
  summary TEXT NOT NULL
);
CREATE INDEX actions_by_state ON actions (state);
CREATE INDEX actions_by_subsystem ON actions (subsystem, id);
CREATE TABLE counters (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  target TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  next_attempt_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_by_due ON outbox (next_attempt_at);
)sql",
    R"sql(
CREATE TABLE pauses (
  target TEXT PRIMARY KEY,
  until TEXT NOT NULL,
  reason TEXT NOT NULL
);
)sql",
}};
constexpr int current_version = static_cast<int>(migrations.size());

}  // namespace

std::string pragma(sqlite::connection& db, const char* sql) {
  auto st = db.prepare(sql);
  return st.step() ? st.text(0) : std::string{};
}

int schema_version() { return current_version; }

std::optional<std::string> migrate(sqlite::connection& db) {
  const auto version = std::stoll(pragma(db, "PRAGMA user_version"));
  if (version > current_version)
    return "schema version " + std::to_string(version) + " is newer than this redundancy knows (" +
           std::to_string(current_version) + ")";
  for (auto v = version; v < current_version; ++v) {
    sqlite::transaction tx(db);
    db.exec(std::string(migrations[static_cast<std::size_t>(v)]));
    db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    tx.commit();
  }
  return std::nullopt;
}

}  // namespace redundancy::store_detail
