// Internal to the store: what its files share (the write and read wrappers, column readers, the
// schema's entry points).
#pragma once
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "redundancy/core/log.hpp"
#include "redundancy/orchestrator/store.hpp"
#include "sqlite.hpp"

#include <sqlite3.h>

namespace redundancy {

namespace store_detail {

inline sys_time now() { return std::chrono::system_clock::now(); }

inline std::int64_t as_limit(std::size_t limit) {
  return static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

// A stored time that does not parse (edited by hand) reads as the epoch rather than failing the
// row.
inline sys_time time_column(const sqlite::statement& st, int column) {
  return from_rfc3339(st.text(column)).value_or(sys_time{});
}

inline std::optional<sys_time> optional_time_column(const sqlite::statement& st, int column) {
  auto text = st.optional_text(column);
  if (!text) return std::nullopt;
  return from_rfc3339(*text).value_or(sys_time{});
}

inline std::optional<std::string> optional_time_text(const std::optional<sys_time>& t) {
  if (!t) return std::nullopt;
  return to_rfc3339(*t);
}

// JSON columns that do not parse as the expected kind read as empty.
inline boost::json::object object_column(const sqlite::statement& st, int column) {
  boost::system::error_code ec;
  auto value = boost::json::parse(st.text(column), ec);
  if (ec || !value.is_object()) return {};
  return std::move(value.as_object());
}

inline boost::json::array array_column(const sqlite::statement& st, int column) {
  boost::system::error_code ec;
  auto value = boost::json::parse(st.text(column), ec);
  if (ec || !value.is_array()) return {};
  return std::move(value.as_array());
}

// An event from a row of "SELECT id, ts, subsystem, target, kind, severity, message, data" (in
// store_events.cpp; status_history reads the same columns).
event event_row(const sqlite::statement& st);

// The schema (store_schema.cpp). The first column of a PRAGMA's first row, the statement finished
// before returning: one left open would make a later COMMIT fail ("SQL statements in progress").
std::string pragma(sqlite::connection& db, const char* sql);
// The user_version this build writes.
int schema_version();
// Creates or upgrades the schema; an error message (without the file name) when it cannot.
std::optional<std::string> migrate(sqlite::connection& db);

}  // namespace store_detail

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

}  // namespace redundancy
