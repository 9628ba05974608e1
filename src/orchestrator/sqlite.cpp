// The SQLite C API behind RAII types; every failing call becomes a sqlite::error with SQLite's
// message.
#include "sqlite.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <limits>

namespace redundancy::sqlite {
namespace {

[[noreturn]] void fail(sqlite3* db, int code) {
  // sqlite3_errmsg describes the latest failure on the connection; sqlite3_errstr only the code.
  std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw error(code, message);
}

void check(sqlite3* db, int code) {
  if (code != SQLITE_OK) fail(db, code);
}

// Takes group and other bits off an existing file (never following a link); false if it is not there.
bool narrow_to_owner(const std::string& file, int flags) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | flags, 0600);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) ::fchmod(fd, st.st_mode & 0700);
  ::close(fd);
  return true;
}

// The history holds action outputs and event messages: only its owner may read it. SQLite creates
// the file 0644 (less the umask) and gives -wal and -shm the mode of the database, so the file is
// created 0600 here first (an empty file is an empty database) and an earlier version's is narrowed.
// What cannot be done (a read-only folder) is left to SQLite to report.
void make_private(const std::filesystem::path& file) {
  const auto name = file.string();
  if (name.empty() || name == ":memory:" || name.starts_with("file:")) return;
  narrow_to_owner(name, O_CREAT);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) narrow_to_owner(name + suffix, 0);
}

}  // namespace

statement::statement(statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

statement::~statement() { sqlite3_finalize(stmt_); }

statement& statement::bind(int index, std::string_view text) {
  if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw error(SQLITE_TOOBIG, "text too long to bind");
  check(db_, sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
  return *this;
}

statement& statement::bind(int index, std::int64_t value) {
  check(db_, sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

statement& statement::bind(int index, const std::optional<std::string>& text) {
  if (text) return bind(index, std::string_view{*text});
  return bind_null(index);
}

statement& statement::bind_null(int index) {
  check(db_, sqlite3_bind_null(stmt_, index));
  return *this;
}

bool statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc);
}

void statement::run() {
  while (step()) {
  }
}

std::string statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (!data) return {};
  return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> statement::optional_text(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return text(column);
}

std::int64_t statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

void connection::closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

connection connection::open(const std::filesystem::path& file) {
  make_private(file);
  sqlite3* raw = nullptr;
  // NOMUTEX: one thread uses the connection, so SQLite's own locking is wasted work.
  const int rc =
      sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  connection db(raw);  // closes the handle SQLite hands back even when opening failed
  if (rc != SQLITE_OK) fail(raw, rc);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

statement connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  check(db_.get(), sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr));
  return statement(db_.get(), stmt);
}

void connection::exec(const std::string& sql) {
  check(db_.get(), sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr));
}

std::int64_t connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

std::int64_t connection::changes() const { return sqlite3_changes64(db_.get()); }

bool connection::read_only() const { return sqlite3_db_readonly(db_.get(), "main") == 1; }

bool connection::in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

transaction::transaction(connection& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

transaction::~transaction() {
  if (done_) return;
  // SQLite may already have rolled back on its own (after SQLITE_FULL, for instance).
  if (db_.in_transaction()) {
    try {
      db_.exec("ROLLBACK");
    } catch (const error&) {
      // Nothing more to do: the connection reports the failure on its next use.
    }
  }
}

void transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace redundancy::sqlite
