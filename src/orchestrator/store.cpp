// The SQLite store: schema and migrations, and each public operation as one short statement or
// transaction.
//
// The sqlite wrapper throws, and every public function here catches at its boundary: one failure
// can come from any of several calls in a transaction (BEGIN, a bind, a step, COMMIT), and a single
// catch per operation keeps rollback, logging and write_error() in one place. Nothing escapes to
// callers.
#include "redundancy/orchestrator/store.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>
#include <system_error>
#include <utility>

#include "redundancy/core/log.hpp"
#include "sqlite.hpp"

#include <sqlite3.h>

namespace redundancy {
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
constexpr int schema_version = static_cast<int>(migrations.size());

// Long enough to ride out a checkpoint or a `sqlite3` shell reading the file, short enough that a
// stuck lock costs the loop at most a second per write.
constexpr int busy_timeout_ms = 1000;

sys_time now() { return std::chrono::system_clock::now(); }

std::int64_t as_limit(std::size_t limit) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

// A stored time that does not parse (edited by hand) reads as the epoch rather than failing the
// row.
sys_time time_column(const sqlite::statement& st, int column) {
  return from_rfc3339(st.text(column)).value_or(sys_time{});
}

std::optional<sys_time> optional_time_column(const sqlite::statement& st, int column) {
  auto text = st.optional_text(column);
  if (!text) return std::nullopt;
  return from_rfc3339(*text).value_or(sys_time{});
}

std::optional<std::string> optional_time_text(const std::optional<sys_time>& t) {
  if (!t) return std::nullopt;
  return to_rfc3339(*t);
}

// JSON columns that do not parse as the expected kind read as empty.
boost::json::object object_column(const sqlite::statement& st, int column) {
  boost::system::error_code ec;
  auto value = boost::json::parse(st.text(column), ec);
  if (ec || !value.is_object()) return {};
  return std::move(value.as_object());
}

boost::json::array array_column(const sqlite::statement& st, int column) {
  boost::system::error_code ec;
  auto value = boost::json::parse(st.text(column), ec);
  if (ec || !value.is_array()) return {};
  return std::move(value.as_array());
}

// The column order that event_row reads.
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

// The column order that action_row reads. The SQL texts are whole literals: g++ 12 reports a bogus
// -Warray-bounds on std::string concatenation here.
#define REDUNDANCY_ACTION_COLUMNS                                                                  \
  "SELECT id, kind, subsystem, target, requested_by, state, created_at, started_at, finished_at, " \
  "output_tail, steps, summary FROM actions "

action_record action_row(const sqlite::statement& st) {
  // An unknown state name (written by a newer version) is shown as interrupted: it is not running.
  return action_record{
      .id = st.integer(0),
      .kind = st.text(1),
      .subsystem = st.text(2),
      .target = st.text(3),
      .requested_by = st.text(4),
      .state = action_state_from_string(st.text(5)).value_or(action_state::interrupted),
      .created_at = time_column(st, 6),
      .started_at = optional_time_column(st, 7),
      .finished_at = optional_time_column(st, 8),
      .output_tail = st.text(9),
      .steps = array_column(st, 10),
      .summary = st.text(11)};
}

boost::json::value time_or_null(const std::optional<sys_time>& t) {
  if (!t) return nullptr;
  return boost::json::string(to_rfc3339(*t));
}

constexpr std::array<std::pair<action_state, std::string_view>, 5> action_state_names{{
    {action_state::queued, "queued"},
    {action_state::running, "running"},
    {action_state::succeeded, "succeeded"},
    {action_state::failed, "failed"},
    {action_state::interrupted, "interrupted"},
}};

// The first column of a PRAGMA's first row. The statement is finished before returning: one left
// open would make a later COMMIT fail ("SQL statements in progress").
std::string pragma(sqlite::connection& db, const char* sql) {
  auto st = db.prepare(sql);
  return st.step() ? st.text(0) : std::string{};
}

// Creates or upgrades the schema; an error message (without the file name) when it cannot.
std::optional<std::string> migrate(sqlite::connection& db) {
  const auto version = std::stoll(pragma(db, "PRAGMA user_version"));
  if (version > schema_version)
    return "schema version " + std::to_string(version) + " is newer than this redundancy knows (" +
           std::to_string(schema_version) + ")";
  for (auto v = version; v < schema_version; ++v) {
    sqlite::transaction tx(db);
    db.exec(std::string(migrations[static_cast<std::size_t>(v)]));
    db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    tx.commit();
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(action_state s) {
  for (const auto& [value, name] : action_state_names)
    if (value == s) return name;
  return "interrupted";
}

std::optional<action_state> action_state_from_string(std::string_view text) {
  for (const auto& [value, name] : action_state_names)
    if (name == text) return value;
  return std::nullopt;
}

boost::json::object to_json(const event& e) {
  return boost::json::object{
      {"id", e.id},     {"ts", to_rfc3339(e.ts)}, {"subsystem", e.subsystem}, {"target", e.target},
      {"kind", e.kind}, {"severity", e.severity}, {"message", e.message},     {"data", e.data}};
}

boost::json::object to_json(const action_record& a) {
  return boost::json::object{{"id", a.id},
                             {"kind", a.kind},
                             {"subsystem", a.subsystem},
                             {"target", a.target},
                             {"requested_by", a.requested_by},
                             {"state", to_string(a.state)},
                             {"created_at", to_rfc3339(a.created_at)},
                             {"started_at", time_or_null(a.started_at)},
                             {"finished_at", time_or_null(a.finished_at)},
                             {"output_tail", a.output_tail},
                             {"steps", a.steps},
                             {"summary", a.summary}};
}

namespace {

struct open_failure {
  std::string message;
  bool corrupt{false};  // SQLite says the file is damaged or is not a database
};

bool is_corruption(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

// Opens the connection and prepares it; `check`: also quick_check and migrate (at start; a reopen
// of a file this life already checked skips both).
boost::system::result<std::unique_ptr<sqlite::connection>, open_failure> connect(const std::filesystem::path& db_file,
                                                                                bool check) {
  const auto name = db_file.string();
  try {
    auto db = std::make_unique<sqlite::connection>(sqlite::connection::open(db_file));
    db->exec("PRAGMA busy_timeout = " + std::to_string(busy_timeout_ms));
    // The first statement that reads the file: a file that is not a database fails here. A read-only
    // connection cannot change the journal mode; the file keeps the one it has.
    if (!db->read_only())
      if (const auto mode = pragma(*db, "PRAGMA journal_mode = WAL"); mode != "wal")
        RLOG("orchestrator", warning) << name << ": SQLite kept journal mode " << mode
                                      << " instead of WAL (the filesystem may not support it)";
    // NORMAL in WAL mode: a power cut may lose the last commits but never corrupts the file.
    db->exec("PRAGMA synchronous = NORMAL");
    if (!check) return db;
    if (const auto verdict = pragma(*db, "PRAGMA quick_check(1)"); verdict != "ok")
      return open_failure{name + ": the database is corrupt: " + verdict, true};
    if (db->read_only()) {
      // Nothing can be migrated; a current schema is still readable.
      if (std::stoll(pragma(*db, "PRAGMA user_version")) != schema_version)
        return open_failure{name + ": opened read-only and its schema is not current", false};
      return db;
    }
    if (auto problem = migrate(*db)) return open_failure{name + ": " + *problem, false};
    return db;
  } catch (const sqlite::error& e) {
    return open_failure{name + ": cannot open the database: " + e.what(), is_corruption(e.code())};
  }
}

}  // namespace

boost::system::result<store, std::string> store::open(const std::filesystem::path& db_file) {
  if (db_file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(db_file.parent_path(), ec);
    if (ec)
      return db_file.string() + ": cannot create its folder " + db_file.parent_path().string() + ": " +
             ec.message();
  }
  auto db = connect(db_file, true);
  if (!db) return db.error().message;
  return store(db_file, std::move(*db));
}

boost::system::result<store, std::string> store::open_replacing_corrupt(const std::filesystem::path& db_file) {
  if (db_file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(db_file.parent_path(), ec);
    if (ec)
      return db_file.string() + ": cannot create its folder " + db_file.parent_path().string() + ": " +
             ec.message();
  }
  auto db = connect(db_file, true);
  if (db) return store(db_file, std::move(*db));
  if (!db.error().corrupt) return db.error().message;
  // Keep the damaged file for whoever wants to rescue it, and start a fresh history beside it.
  auto stamp = to_rfc3339(now());
  for (auto& c : stamp)
    if (c == ':') c = '-';  // a file name that every tool copies without quoting
  const auto aside = db_file.string() + ".corrupt-" + stamp;
  std::error_code ec;
  std::filesystem::rename(db_file, aside, ec);
  if (ec) return db.error().message + "; cannot move it aside to " + aside + ": " + ec.message();
  for (const char* suffix : {"-wal", "-shm"}) {
    std::error_code ignored;
    std::filesystem::rename(db_file.string() + suffix, aside + suffix, ignored);
  }
  auto fresh = connect(db_file, true);
  if (!fresh) return db.error().message + "; moved aside to " + aside + " but a fresh one failed: " + fresh.error().message;
  store s(db_file, std::move(*fresh));
  s.notice_ = db.error().message + "; moved aside to " + aside + " and a fresh history started";
  RLOG("orchestrator", error) << "HISTORY REPLACED: " << *s.notice_;
  return s;
}

store::store(std::filesystem::path file, std::unique_ptr<sqlite::connection> db)
    : file_(std::move(file)), db_(std::move(db)) {}

store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;
store::~store() = default;

template <class F>
bool store::write(std::string_view what, F&& body) {
  if (reopen_wanted_ && std::chrono::steady_clock::now() >= next_reopen_) {
    next_reopen_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    if (reopen()) reopen_wanted_ = false;
  }
  try {
    sqlite::transaction tx(*db_);
    body();
    tx.commit();
    write_error_.reset();
    reopen_wanted_ = false;
    return true;
  } catch (const sqlite::error& e) {
    write_error_ = file_.string() + ": " + std::string(what) + ": " + e.what();
    RLOG("orchestrator", error) << *write_error_;
    // A connection opened read-only stays so until reopened; so may one whose files went away.
    const int primary = e.code() & 0xff;
    if (primary == SQLITE_READONLY || primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN) reopen_wanted_ = true;
    return false;
  }
}

bool store::reopen() {
  if (file_ == ":memory:" || query_only_for_testing_) return false;
  auto db = connect(file_, false);
  if (!db) {
    RLOG("orchestrator", warning) << "reopening the history failed: " << db.error().message;
    return false;
  }
  if ((*db)->read_only()) return false;
  db_ = std::move(*db);
  RLOG("orchestrator", info) << "history " << file_.string() << " reopened read-write";
  return true;
}

bool store::read_only() const { return db_->read_only(); }

std::optional<std::string> store::problem() const {
  if (write_error_) return write_error_;
  if (read_only()) return file_.string() + ": opened read-only (the file or its folder is not writable)";
  return std::nullopt;
}

template <class F>
bool store::read(std::string_view what, F&& body) const {
  try {
    body();
    return true;
  } catch (const sqlite::error& e) {
    RLOG("orchestrator", error) << file_.string() << ": " << what << ": " << e.what();
    return false;
  }
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

std::optional<std::int64_t> store::add_action(action_record a) {
  if (a.created_at == sys_time{}) a.created_at = now();
  std::int64_t id = 0;
  const bool ok = write("add_action", [&] {
    auto st = db_->prepare(
        "INSERT INTO actions (kind, subsystem, target, requested_by, state, created_at, "
        "started_at, "
        "finished_at, output_tail, steps, summary) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    st.bind(1, a.kind)
        .bind(2, a.subsystem)
        .bind(3, a.target)
        .bind(4, a.requested_by)
        .bind(5, to_string(a.state))
        .bind(6, to_rfc3339(a.created_at))
        .bind(7, optional_time_text(a.started_at))
        .bind(8, optional_time_text(a.finished_at))
        .bind(9, a.output_tail)
        .bind(10, boost::json::serialize(a.steps))
        .bind(11, a.summary);
    st.run();
    id = db_->last_insert_rowid();
  });
  if (!ok) return std::nullopt;
  return id;
}

bool store::update_action(const action_record& a) {
  std::int64_t changed = 0;
  const bool ok = write("update_action", [&] {
    auto st = db_->prepare(
        "UPDATE actions SET kind = ?1, subsystem = ?2, target = ?3, requested_by = ?4, state = ?5, "
        "started_at = ?6, finished_at = ?7, output_tail = ?8, steps = ?9, summary = ?10 "
        "WHERE id = ?11");
    st.bind(1, a.kind)
        .bind(2, a.subsystem)
        .bind(3, a.target)
        .bind(4, a.requested_by)
        .bind(5, to_string(a.state))
        .bind(6, optional_time_text(a.started_at))
        .bind(7, optional_time_text(a.finished_at))
        .bind(8, a.output_tail)
        .bind(9, boost::json::serialize(a.steps))
        .bind(10, a.summary)
        .bind(11, a.id);
    st.run();
    changed = db_->changes();
  });
  if (ok && changed == 0)
    RLOG("orchestrator", warning) << file_.string() << ": update_action: no action " << a.id;
  return ok && changed > 0;
}

std::optional<action_record> store::action(std::int64_t id) const {
  std::optional<action_record> out;
  read("action", [&] {
    auto st = db_->prepare(REDUNDANCY_ACTION_COLUMNS "WHERE id = ?1");
    st.bind(1, id);
    if (st.step()) out = action_row(st);
  });
  return out;
}

std::vector<action_record> store::actions(std::size_t limit,
                                          std::optional<std::string> subsystem) const {
  std::vector<action_record> out;
  const bool ok = read("actions", [&] {
    auto st = db_->prepare(REDUNDANCY_ACTION_COLUMNS
                           "WHERE (?1 IS NULL OR subsystem = ?1) ORDER BY id DESC LIMIT ?2");
    st.bind(1, subsystem).bind(2, as_limit(limit));
    while (st.step()) out.push_back(action_row(st));
  });
  if (!ok) out.clear();
  return out;
}

std::size_t store::mark_unfinished_interrupted(sys_time at) {
  std::int64_t changed = 0;
  write("mark_unfinished_interrupted", [&] {
    auto st = db_->prepare(
        "UPDATE actions SET state = 'interrupted', finished_at = COALESCE(finished_at, ?1), "
        "summary = CASE WHEN summary = '' "
        "THEN 'interrupted: the daemon stopped before the action finished' ELSE summary END "
        "WHERE state IN ('queued', 'running')");
    st.bind(1, to_rfc3339(at));
    st.run();
    changed = db_->changes();
  });
  return static_cast<std::size_t>(changed);
}

std::size_t store::prune(sys_time older_than) {
  std::int64_t removed = 0;
  const bool ok = write("prune", [&] {
    const auto cutoff = to_rfc3339(older_than);
    // The latest status event of each target stays: availability needs to know the state a
    // target has been in since, however long ago it last changed.
    auto events = db_->prepare(
        "DELETE FROM events WHERE ts < ?1 AND id NOT IN (SELECT MAX(id) FROM events WHERE kind IN "
        "('status_changed', 'status_observed', 'daemon_started') GROUP BY subsystem, target)");
    events.bind(1, cutoff).run();
    removed += db_->changes();
    // Queued and running actions stay whatever their age: they are still someone's business.
    auto actions = db_->prepare(
        "DELETE FROM actions WHERE state NOT IN ('queued', 'running') "
        "AND COALESCE(finished_at, created_at) < ?1");
    actions.bind(1, cutoff).run();
    removed += db_->changes();
    // The notifier gives up long before the retention ends; this only clears what it left behind.
    auto outbox = db_->prepare("DELETE FROM outbox WHERE created_at < ?1");
    outbox.bind(1, cutoff).run();
    removed += db_->changes();
  });
  return ok ? static_cast<std::size_t>(removed) : 0;
}

std::vector<event> store::status_history(sys_time since) const {
  std::vector<event> out;
  const bool ok = read("status_history", [&] {
    // The latest status event of each key before `since` (the state a window starts in), then
    // every status event since, oldest first.
    auto st = db_->prepare(
        "SELECT id, ts, subsystem, target, kind, severity, message, data FROM events "
        "WHERE kind IN ('status_changed', 'status_observed', 'daemon_started') AND (ts >= ?1 OR id IN "
        "(SELECT MAX(id) FROM events WHERE ts < ?1 AND kind IN "
        "('status_changed', 'status_observed', 'daemon_started') GROUP BY subsystem, target)) "
        "ORDER BY ts, id");
    st.bind(1, to_rfc3339(since));
    while (st.step()) out.push_back(event_row(st));
  });
  if (!ok) out.clear();
  return out;
}

bool store::set_pause(std::string_view target, sys_time until, std::string_view reason) {
  return write("set_pause", [&] {
    auto st = db_->prepare(
        "INSERT INTO pauses (target, until, reason) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (target) DO UPDATE SET until = excluded.until, reason = excluded.reason");
    st.bind(1, target).bind(2, to_rfc3339(until)).bind(3, reason);
    st.run();
  });
}

bool store::erase_pause(std::string_view target) {
  return write("erase_pause", [&] {
    auto st = db_->prepare("DELETE FROM pauses WHERE target = ?1");
    st.bind(1, target).run();
  });
}

std::vector<stored_pause> store::pauses() const {
  std::vector<stored_pause> out;
  const bool ok = read("pauses", [&] {
    auto st = db_->prepare("SELECT target, until, reason FROM pauses ORDER BY target");
    while (st.step())
      out.push_back(stored_pause{.target = st.text(0), .until = time_column(st, 1), .reason = st.text(2)});
  });
  if (!ok) out.clear();
  return out;
}

std::optional<std::string> store::get_counter(std::string_view key) const {
  std::optional<std::string> out;
  read("get_counter", [&] {
    auto st = db_->prepare("SELECT value FROM counters WHERE key = ?1");
    st.bind(1, key);
    if (st.step()) out = st.text(0);
  });
  return out;
}

bool store::set_counter(std::string_view key, std::string_view value) {
  return write("set_counter", [&] {
    auto st = db_->prepare(
        "INSERT INTO counters (key, value, updated_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at");
    st.bind(1, key).bind(2, value).bind(3, to_rfc3339(now()));
    st.run();
  });
}

bool store::erase_counter(std::string_view key) {
  return write("erase_counter", [&] {
    auto st = db_->prepare("DELETE FROM counters WHERE key = ?1");
    st.bind(1, key).run();
  });
}

std::optional<std::int64_t> store::enqueue_outbox(std::string target, std::string payload_json,
                                                  sys_time at) {
  std::int64_t id = 0;
  const bool ok = write("enqueue_outbox", [&] {
    auto st = db_->prepare(
        "INSERT INTO outbox (target, payload, created_at, next_attempt_at) VALUES (?1, ?2, ?3, "
        "?3)");
    st.bind(1, target).bind(2, payload_json).bind(3, to_rfc3339(at));
    st.run();
    id = db_->last_insert_rowid();
  });
  if (!ok) return std::nullopt;
  return id;
}

std::vector<outbox_item> store::due_outbox(sys_time at, std::size_t limit) const {
  std::vector<outbox_item> out;
  const bool ok = read("due_outbox", [&] {
    auto st = db_->prepare(
        "SELECT id, target, payload, created_at, next_attempt_at, attempts, last_error FROM outbox "
        "WHERE next_attempt_at <= ?1 ORDER BY id LIMIT ?2");
    st.bind(1, to_rfc3339(at)).bind(2, as_limit(limit));
    while (st.step())
      out.push_back(outbox_item{.id = st.integer(0),
                                .target = st.text(1),
                                .payload = st.text(2),
                                .created_at = time_column(st, 3),
                                .next_attempt_at = time_column(st, 4),
                                .attempts = st.integer(5),
                                .last_error = st.text(6)});
  });
  if (!ok) out.clear();
  return out;
}

bool store::ack_outbox(std::int64_t id) {
  std::int64_t changed = 0;
  const bool ok = write("ack_outbox", [&] {
    auto st = db_->prepare("DELETE FROM outbox WHERE id = ?1");
    st.bind(1, id).run();
    changed = db_->changes();
  });
  return ok && changed > 0;
}

bool store::retry_outbox(std::int64_t id, sys_time next_attempt, std::string last_error) {
  std::int64_t changed = 0;
  const bool ok = write("retry_outbox", [&] {
    auto st = db_->prepare(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?1, last_error = ?2 "
        "WHERE id = ?3");
    st.bind(1, to_rfc3339(next_attempt)).bind(2, last_error).bind(3, id).run();
    changed = db_->changes();
  });
  return ok && changed > 0;
}

void store::set_query_only_for_testing(bool on) {
  // A reopen would drop the pragma: the refusal lasts until the test lifts it.
  query_only_for_testing_ = on;
  db_->exec(on ? "PRAGMA query_only = ON" : "PRAGMA query_only = OFF");
}

}  // namespace redundancy

#undef REDUNDANCY_ACTION_COLUMNS
