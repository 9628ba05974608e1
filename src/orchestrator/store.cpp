// The store's connection life: open (quick check, migrations, moving a corrupt file aside), the
// reopen after a read-only or I/O failure, and the problem state /api/health shows.
//
// The sqlite wrapper throws, and every public function of the store catches at its boundary: one
// failure can come from any of several calls in a transaction (BEGIN, a bind, a step, COMMIT), and a
// single catch per operation keeps rollback, logging and write_error() in one place (store::write and
// store::read in store_detail.hpp). Nothing escapes to callers.
#include "redundancy/orchestrator/store.hpp"

#include <system_error>
#include <utility>

#include "store_detail.hpp"

namespace redundancy {
namespace {

using store_detail::pragma;

// Long enough to ride out a checkpoint or a `sqlite3` shell reading the file, short enough that a
// stuck lock costs the loop at most a second per write.
constexpr int busy_timeout_ms = 1000;

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
      if (std::stoll(pragma(*db, "PRAGMA user_version")) != store_detail::schema_version())
        return open_failure{name + ": opened read-only and its schema is not current", false};
      return db;
    }
    if (auto problem = store_detail::migrate(*db)) return open_failure{name + ": " + *problem, false};
    return db;
  } catch (const sqlite::error& e) {
    return open_failure{name + ": cannot open the database: " + e.what(), is_corruption(e.code())};
  }
}

// An error naming the file when its folder cannot be created.
std::optional<std::string> create_folder(const std::filesystem::path& db_file) {
  if (!db_file.has_parent_path()) return std::nullopt;
  std::error_code ec;
  std::filesystem::create_directories(db_file.parent_path(), ec);
  if (!ec) return std::nullopt;
  return db_file.string() + ": cannot create its folder " + db_file.parent_path().string() + ": " + ec.message();
}

}  // namespace

boost::system::result<store, std::string> store::open(const std::filesystem::path& db_file) {
  if (auto problem = create_folder(db_file)) return *problem;
  auto db = connect(db_file, true);
  if (!db) return db.error().message;
  return store(db_file, std::move(*db));
}

boost::system::result<store, std::string> store::open_replacing_corrupt(const std::filesystem::path& db_file) {
  if (auto problem = create_folder(db_file)) return *problem;
  auto db = connect(db_file, true);
  if (db) return store(db_file, std::move(*db));
  if (!db.error().corrupt) return db.error().message;
  // Keep the damaged file for whoever wants to rescue it, and start a fresh history beside it.
  auto stamp = to_rfc3339(store_detail::now());
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
  if (!fresh)
    return db.error().message + "; moved aside to " + aside + " but a fresh one failed: " + fresh.error().message;
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

void store::set_query_only_for_testing(bool on) {
  // A reopen would drop the pragma: the refusal lasts until the test lifts it.
  query_only_for_testing_ = on;
  db_->exec(on ? "PRAGMA query_only = ON" : "PRAGMA query_only = OFF");
}

}  // namespace redundancy
