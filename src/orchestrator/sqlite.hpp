// A thin RAII layer over the SQLite C API for the store: a connection, prepared statements,
// transactions. Failures throw sqlite::error; the store catches them at its public boundary (see
// store.cpp for why).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace redundancy::sqlite {

// An SQLite failure: the result code and SQLite's own message ("database or disk is full").
class error : public std::runtime_error {
 public:
  error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// One prepared statement. Parameters are 1-based, columns 0-based, as in SQLite.
class statement {
 public:
  statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  statement(statement&& other) noexcept;
  statement& operator=(statement&&) = delete;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  // Text is copied by SQLite (SQLITE_TRANSIENT), so temporaries are fine.
  statement& bind(int index, std::string_view text);
  statement& bind(int index, const std::string& text) { return bind(index, std::string_view{text}); }
  statement& bind(int index, std::int64_t value);
  statement& bind(int index, const std::optional<std::string>& text);  // nullopt binds NULL
  statement& bind_null(int index);

  // One step: true while there is a row to read, false when done. Throws on failure.
  bool step();
  // Steps until done; for statements that return no rows.
  void run();

  std::string text(int column) const;  // NULL reads as ""
  std::optional<std::string> optional_text(int column) const;
  std::int64_t integer(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One connection, closed when destroyed. Not copyable; used from the one loop thread only.
class connection {
 public:
  // Opens (and creates) `file` read-write. Throws on failure; SQLite reads nothing yet, so a file
  // that is not a database only fails at the first statement.
  static connection open(const std::filesystem::path& file);

  statement prepare(std::string_view sql);
  // Runs one or more statements that return no rows needed (PRAGMA, DDL, BEGIN/COMMIT).
  void exec(const std::string& sql);
  std::int64_t last_insert_rowid() const;
  std::int64_t changes() const;  // rows changed by the last INSERT, UPDATE or DELETE
  bool in_transaction() const;
  // Whether SQLite opened the file read-only (it does so silently when the file is not writable).
  bool read_only() const;

 private:
  struct closer {
    void operator()(sqlite3* db) const;
  };
  explicit connection(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, closer> db_;
};

// BEGIN IMMEDIATE on construction (the write lock up front, so a busy database fails here rather
// than half way); ROLLBACK on destruction unless commit() ran. Rolling back never throws.
class transaction {
 public:
  explicit transaction(connection& db);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();
  void commit();

 private:
  connection& db_;
  bool done_{false};
};

}  // namespace redundancy::sqlite
