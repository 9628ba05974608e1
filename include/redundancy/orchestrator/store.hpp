// The durable history in <state_dir>/redundancy.db (SQLite): events, actions, counters, webhook
// outbox.
#pragma once
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redundancy/core/time.hpp"

namespace redundancy {

namespace sqlite {
class connection;
}

// Something that happened: a status change, a recovery started or finished, emergency entered, ...
struct event {
  std::int64_t id{};  // given by the store
  sys_time ts{};      // left empty: the store fills in now
  std::string subsystem{}, target{}, kind{};
  std::string severity{};  // info, warning, error, critical
  std::string message{};
  boost::json::object data{};
};

struct event_query {
  std::optional<sys_time> since{};  // only events at or after this time
  std::size_t limit{100};
  std::optional<std::string> subsystem{};
  std::optional<std::int64_t> after_id{};  // only events with a larger id (for polling)
};

// Names shown in the API: only ever added to, never renamed.
//   queued -> running (the runner starts it) -> succeeded | failed;
//   queued | running -> interrupted (the daemon died before it finished; found at the next start).
enum class action_state { queued, running, succeeded, failed, interrupted };

std::string_view to_string(action_state s);
std::optional<action_state> action_state_from_string(std::string_view text);

// One state-changing action, recorded before it runs and updated as it goes.
struct action_record {
  std::int64_t id{};   // given by add_action
  std::string kind{};  // check, recover, emergency, restart, trigger, regenerate, deploy, ...
  std::string subsystem{}, target{};
  std::string requested_by{};  // auto, api or cli
  action_state state{action_state::queued};
  sys_time created_at{};  // left empty: add_action fills in now
  std::optional<sys_time> started_at{}, finished_at{};
  std::string output_tail{};
  boost::json::array steps{};
  std::string summary{};
};

// A webhook message waiting to be delivered.
struct outbox_item {
  std::int64_t id{};
  std::string target{};   // which configured webhook (an id, never the secret URL)
  std::string payload{};  // the JSON body, as text
  sys_time created_at{};
  sys_time next_attempt_at{};
  std::int64_t attempts{};  // failed deliveries so far
  std::string last_error{};
};

// A maintenance pause as stored: a subsystem ("pm2") or one target ("pm2/api") until a time.
struct stored_pause {
  std::string target{};
  sys_time until{};
  std::string reason{};
};

// The API's shapes (the README's "The HTTP API"): unset times are null.
boost::json::object to_json(const event& e);
boost::json::object to_json(const action_record& a);

// The store. Synchronous (SQLite is the one blocking I/O allowed on the loop): WAL journal,
// synchronous=NORMAL, one short transaction per write, a 1 s busy timeout.
//
// Errors after open never throw and never end the daemon. Writes report success: a bool, or an
// optional id (nullopt on failure). Reads that fail give an empty answer. Every failure is logged
// ("orchestrator", error) and the latest write failure is kept in write_error() until a write
// succeeds, so the orchestrator can show a loud error state while it keeps events in memory.
class store {
 public:
  // Opens or creates `db_file` (and its folders), sets up WAL and migrates the schema (PRAGMA
  // user_version). An unreadable, corrupt or too-new file is an error that names the file.
  static boost::system::result<store, std::string> open(const std::filesystem::path& db_file);

  // open(), except that a file SQLite finds corrupt (or not a database at all) is renamed to
  // "<db_file>.corrupt-<UTC time>" (with its -wal and -shm) and a fresh database is created in its
  // place; notice() then says so. Other failures (a folder in the way, no permission) stay errors.
  static boost::system::result<store, std::string> open_replacing_corrupt(const std::filesystem::path& db_file);

  store(store&&) noexcept;
  store& operator=(store&&) noexcept;
  ~store();

  const std::filesystem::path& file() const { return file_; }

  // Adds an event and returns its id.
  std::optional<std::int64_t> add_event(event e);
  // Newest first (by ts, then id), at most q.limit.
  std::vector<event> events(const event_query& q) const;

  // Records an action before it runs and returns its id; state and times are stored as given.
  std::optional<std::int64_t> add_action(action_record a);
  // Rewrites the action with a.id (state, times, output tail, steps, summary). False when the write
  // failed or no such action exists.
  bool update_action(const action_record& a);
  std::optional<action_record> action(std::int64_t id) const;
  // Newest first, at most `limit`, optionally of one subsystem.
  std::vector<action_record> actions(std::size_t limit, std::optional<std::string> subsystem = {}) const;
  // At start: every queued or running action belongs to a previous life of the daemon and becomes
  // interrupted, finished now. Returns how many (0 on failure, which is logged).
  std::size_t mark_unfinished_interrupted(sys_time now = std::chrono::system_clock::now());

  // Retention: removes events older than `older_than` (except the latest status event of each
  // subsystem and target, which availability still needs), finished actions that finished before
  // it, and outbox items created before it. Returns the rows removed.
  std::size_t prune(sys_time older_than);

  // The status events (kinds status_changed, status_observed, daemon_started) from `since` on, plus
  // the latest one of each subsystem and target before it, oldest first: what availability is
  // computed from.
  std::vector<event> status_history(sys_time since) const;

  // Maintenance pauses, one per target; set_pause replaces an existing one. pauses(): every stored
  // pause, expired ones included (the orchestrator ends those with an event).
  bool set_pause(std::string_view target, sys_time until, std::string_view reason);
  bool erase_pause(std::string_view target);
  std::vector<stored_pause> pauses() const;

  // Small durable key-value state: emergency attempts, per-target attempt counts, last deploy time.
  // get_counter: nullopt when the key is missing or the read failed (logged).
  std::optional<std::string> get_counter(std::string_view key) const;
  bool set_counter(std::string_view key, std::string_view value);
  bool erase_counter(std::string_view key);

  // Webhook outbox. enqueue: due at `now`. due: items whose next attempt is at or before `now`,
  // oldest first. ack: delivered (or given up), removed. retry: one more failed attempt counted,
  // next try at `next_attempt`. ack and retry give false when the write failed or there is no such
  // item.
  std::optional<std::int64_t> enqueue_outbox(std::string target, std::string payload_json,
                                             sys_time now = std::chrono::system_clock::now());
  std::vector<outbox_item> due_outbox(sys_time now, std::size_t limit) const;
  bool ack_outbox(std::int64_t id);
  bool retry_outbox(std::int64_t id, sys_time next_attempt, std::string last_error);

  // The latest write failure ("<file>: add_event: database or disk is full"), cleared by the next
  // successful write.
  const std::optional<std::string>& write_error() const { return write_error_; }

  // What is wrong with the history now, for /api/health: a write failure, or a file SQLite could only
  // open read-only. nullopt when writes work.
  std::optional<std::string> problem() const;
  // Something that happened to the history that people must hear of, for this whole life of the
  // daemon: a corrupt file moved aside. nullopt when nothing did.
  const std::optional<std::string>& notice() const { return notice_; }
  // Whether the connection is read-only (the file or its folder was not writable when opened). The
  // next write after a failure reopens it, at most once a second, so it recovers once writable.
  bool read_only() const;

  // Test hook: makes the connection refuse every write (PRAGMA query_only), as a read-only or full
  // disk would.
  void set_query_only_for_testing(bool on);

 private:
  store(std::filesystem::path file, std::unique_ptr<sqlite::connection> db);
  template <class F>
  bool write(std::string_view what, F&& body);
  template <class F>
  bool read(std::string_view what, F&& body) const;

  // Reopens the file after a read-only or I/O failure; false (and the old connection kept) when the
  // new one is no better.
  bool reopen();

  std::filesystem::path file_;
  std::unique_ptr<sqlite::connection> db_;
  std::optional<std::string> write_error_;
  std::optional<std::string> notice_;
  bool reopen_wanted_{false};
  bool query_only_for_testing_{false};
  std::chrono::steady_clock::time_point next_reopen_{};
};

}  // namespace redundancy
