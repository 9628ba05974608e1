// The SQLite store on real files: round trips, queries, the action life cycle across restarts and a
// SIGKILL, retention, counters, the outbox, and the failures (corrupt, too new, read-only, locked).
#define BOOST_TEST_MODULE store
#include "redundancy/orchestrator/store.hpp"
#include "support/temp_dir.hpp"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

using namespace redundancy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A fresh folder with the database where the daemon keeps it, under state/.
struct temp_dir : redundancy::test::temp_dir {
  fs::path db() const { return path() / "state" / "redundancy.db"; }
};

store open_store(const fs::path& file) {
  auto s = store::open(file);
  BOOST_TEST_REQUIRE(s.has_value(), (s.has_error() ? s.error() : std::string{}));
  return std::move(*s);
}

// A plain SQLite connection to look under the store and to hold locks.
struct raw_db {
  explicit raw_db(const fs::path& file) { BOOST_REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK); }
  ~raw_db() { sqlite3_close(db); }
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    BOOST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  }
  int exec(const std::string& sql) { return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr); }
  sqlite3* db{nullptr};
};

const sys_time t0 = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + 12h;

event make_event(std::string subsystem, sys_time ts, std::string message = "m") {
  return event{.id = 0,
               .ts = ts,
               .subsystem = std::move(subsystem),
               .target = "api",
               .kind = "target_down",
               .severity = "error",
               .message = std::move(message),
               .data = {}};
}

action_record make_action(std::string subsystem, action_state state = action_state::queued) {
  return action_record{.id = 0,
                       .kind = "restart",
                       .subsystem = std::move(subsystem),
                       .target = "api",
                       .requested_by = "auto",
                       .state = state,
                       .created_at = t0,
                       .started_at = {},
                       .finished_at = {},
                       .output_tail = {},
                       .steps = {},
                       .summary = {}};
}

std::set<std::string> keys(const boost::json::object& o) {
  std::set<std::string> out;
  for (const auto& kv : o) out.insert(std::string(kv.key()));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(open_creates_folders_wal_and_schema_version) {
  temp_dir dir;
  {
    auto s = open_store(dir.db());
    BOOST_TEST(s.file() == dir.db());
  }
  BOOST_TEST(fs::exists(dir.db()));
  raw_db raw(dir.db());
  BOOST_TEST(raw.scalar("PRAGMA user_version") == "2");
  BOOST_TEST(raw.scalar("PRAGMA journal_mode") == "wal");
  // Opening again migrates nothing and keeps the data.
  auto s = open_store(dir.db());
  BOOST_TEST(s.add_event(make_event("pm2", t0)).has_value());
  auto again = open_store(dir.db());
  BOOST_TEST(again.events({}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(event_round_trip_and_json_shape) {
  temp_dir dir;
  auto s = open_store(dir.db());
  event e = make_event("github", t0 + 123ms, "ci.yml failed 3 times");
  e.data = boost::json::object{{"run_id", 42}, {"conclusion", "failure"}, {"nested", {1, 2}}};
  const auto id = s.add_event(e);
  BOOST_TEST_REQUIRE(id.has_value());
  BOOST_TEST(*id > 0);

  const auto got = s.events({});
  BOOST_TEST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].id == *id);
  BOOST_TEST((got[0].ts == t0 + 123ms));
  BOOST_TEST(got[0].subsystem == "github");
  BOOST_TEST(got[0].target == "api");
  BOOST_TEST(got[0].kind == "target_down");
  BOOST_TEST(got[0].severity == "error");
  BOOST_TEST(got[0].message == "ci.yml failed 3 times");
  BOOST_TEST(got[0].data == e.data);

  const auto json = to_json(got[0]);
  const std::set<std::string> expected{"id", "ts", "subsystem", "target", "kind", "severity", "message", "data"};
  BOOST_TEST((keys(json) == expected));
  BOOST_TEST(json.at("ts").as_string() == "2024-05-01T12:00:00.123Z");
  BOOST_TEST(json.at("id").as_int64() == *id);
  BOOST_TEST(json.at("data").as_object().at("run_id").as_int64() == 42);
}

BOOST_AUTO_TEST_CASE(event_without_time_gets_now) {
  temp_dir dir;
  auto s = open_store(dir.db());
  const auto before = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  BOOST_TEST_REQUIRE(s.add_event(make_event("pm2", sys_time{})).has_value());
  const auto after = std::chrono::system_clock::now();
  const auto got = s.events({});
  BOOST_TEST_REQUIRE(got.size() == 1u);
  BOOST_TEST((got[0].ts >= before && got[0].ts <= after));
}

BOOST_AUTO_TEST_CASE(events_newest_first_with_filters) {
  temp_dir dir;
  auto s = open_store(dir.db());
  // Inserted out of time order: the answer is ordered by time, not by insertion.
  const auto a = *s.add_event(make_event("pm2", t0 + 2s, "a"));
  const auto b = *s.add_event(make_event("github", t0 + 1s, "b"));
  const auto c = *s.add_event(make_event("pm2", t0 + 3s, "c"));
  const auto d = *s.add_event(make_event("netlify", t0 + 3s, "d"));  // same time as c, later id

  auto messages = [](const std::vector<event>& es) {
    std::string out;
    for (const auto& e : es) out += e.message;
    return out;
  };
  BOOST_TEST(messages(s.events({})) == "dcab");
  BOOST_TEST(messages(s.events({.limit = 2})) == "dc");
  BOOST_TEST(messages(s.events({.since = t0 + 2s})) == "dca");
  BOOST_TEST(messages(s.events({.since = t0 + 2001ms})) == "dc");
  BOOST_TEST(messages(s.events({.subsystem = "pm2"})) == "ca");
  BOOST_TEST(messages(s.events({.limit = 1, .subsystem = "pm2"})) == "c");
  BOOST_TEST(messages(s.events({.subsystem = "nothing"})) == "");
  BOOST_TEST(messages(s.events({.after_id = b})) == "dc");
  BOOST_TEST(messages(s.events({.since = t0, .subsystem = "pm2", .after_id = a})) == "c");
  BOOST_TEST(messages(s.events({.limit = 0})) == "");
  (void)c;
  (void)d;
}

BOOST_AUTO_TEST_CASE(action_state_names) {
  for (auto st : {action_state::queued, action_state::running, action_state::succeeded, action_state::failed,
                  action_state::interrupted}) {
    BOOST_TEST((action_state_from_string(to_string(st)) == st));
  }
  BOOST_TEST(to_string(action_state::interrupted) == "interrupted");
  BOOST_TEST(!action_state_from_string("done").has_value());
}

BOOST_AUTO_TEST_CASE(action_lifecycle) {
  temp_dir dir;
  auto s = open_store(dir.db());
  auto a = make_action("pm2");
  const auto id = s.add_action(a);
  BOOST_TEST_REQUIRE(id.has_value());
  a.id = *id;

  auto queued = s.action(*id);
  BOOST_TEST_REQUIRE(queued.has_value());
  BOOST_TEST((queued->state == action_state::queued));
  BOOST_TEST((queued->created_at == t0));
  BOOST_TEST(!queued->started_at.has_value());
  auto json = to_json(*queued);
  BOOST_TEST(json.at("state").as_string() == "queued");
  BOOST_TEST(json.at("started_at").is_null());
  BOOST_TEST(json.at("finished_at").is_null());
  for (const char* key : {"id", "kind", "subsystem", "target", "requested_by", "state", "started_at", "finished_at",
                          "output_tail", "steps"})
    BOOST_TEST(json.contains(key), key);

  a.state = action_state::running;
  a.started_at = t0 + 1s;
  BOOST_TEST(s.update_action(a));
  BOOST_TEST((s.action(*id)->state == action_state::running));

  a.state = action_state::succeeded;
  a.finished_at = t0 + 5s;
  a.output_tail = "[PM2] Applying action restartProcessId on app [api]\n";
  a.steps = boost::json::array{boost::json::object{{"name", "pm2 restart api"}, {"ok", true}}};
  a.summary = "api restarted";
  BOOST_TEST(s.update_action(a));

  const auto done = s.action(*id);
  BOOST_TEST_REQUIRE(done.has_value());
  BOOST_TEST((done->state == action_state::succeeded));
  BOOST_TEST((done->started_at == t0 + 1s));
  BOOST_TEST((done->finished_at == t0 + 5s));
  BOOST_TEST(done->output_tail == a.output_tail);
  BOOST_TEST(done->steps == a.steps);
  BOOST_TEST(done->summary == "api restarted");
  BOOST_TEST(done->kind == "restart");
  BOOST_TEST(done->requested_by == "auto");
  json = to_json(*done);
  BOOST_TEST(json.at("started_at").as_string() == "2024-05-01T12:00:01.000Z");
  BOOST_TEST(json.at("finished_at").as_string() == "2024-05-01T12:00:05.000Z");
  BOOST_TEST(json.at("steps").as_array().size() == 1u);

  // Unknown ids: nothing to read, nothing updated, and not a store failure.
  BOOST_TEST(!s.action(*id + 100).has_value());
  auto ghost = a;
  ghost.id = *id + 100;
  BOOST_TEST(!s.update_action(ghost));
  BOOST_TEST(!s.write_error().has_value());
}

BOOST_AUTO_TEST_CASE(actions_newest_first_limit_and_subsystem) {
  temp_dir dir;
  auto s = open_store(dir.db());
  const auto a = *s.add_action(make_action("pm2"));
  const auto b = *s.add_action(make_action("github"));
  const auto c = *s.add_action(make_action("pm2"));
  auto ids = [](const std::vector<action_record>& as) {
    std::vector<std::int64_t> out;
    for (const auto& x : as) out.push_back(x.id);
    return out;
  };
  BOOST_TEST((ids(s.actions(10)) == std::vector<std::int64_t>{c, b, a}));
  BOOST_TEST((ids(s.actions(2)) == std::vector<std::int64_t>{c, b}));
  BOOST_TEST((ids(s.actions(10, "pm2")) == std::vector<std::int64_t>{c, a}));
  BOOST_TEST(s.actions(10, "netlify").empty());
}

BOOST_AUTO_TEST_CASE(unfinished_actions_become_interrupted_after_reopening) {
  temp_dir dir;
  std::int64_t queued = 0, running = 0, finished = 0;
  {
    auto s = open_store(dir.db());
    queued = *s.add_action(make_action("pm2"));
    auto r = make_action("github", action_state::running);
    r.started_at = t0;
    running = *s.add_action(r);
    auto f = make_action("netlify", action_state::failed);
    f.finished_at = t0 + 1s;
    f.summary = "deploy failed";
    finished = *s.add_action(f);
  }
  auto s = open_store(dir.db());
  BOOST_TEST(s.mark_unfinished_interrupted(t0 + 1h) == 2u);
  for (auto id : {queued, running}) {
    const auto a = s.action(id);
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST((a->state == action_state::interrupted));
    BOOST_TEST((a->finished_at == t0 + 1h));
    BOOST_TEST(!a->summary.empty());
  }
  const auto f = s.action(finished);
  BOOST_TEST((f->state == action_state::failed));
  BOOST_TEST(f->summary == "deploy failed");
  BOOST_TEST((f->finished_at == t0 + 1s));
  BOOST_TEST(s.mark_unfinished_interrupted() == 0u);
}

BOOST_AUTO_TEST_CASE(sigkill_mid_action_leaves_an_interrupted_action_and_the_counters) {
  temp_dir dir;
  { auto s = open_store(dir.db()); }
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    // The child records an action as the runner does, bumps a counter, and dies without closing.
    auto opened = store::open(dir.db());
    if (!opened) std::_Exit(10);
    auto id = opened->add_action(make_action("pm2"));
    if (!id) std::_Exit(11);
    auto a = make_action("pm2", action_state::running);
    a.id = *id;
    a.started_at = t0;
    if (!opened->update_action(a) || !opened->set_counter("pm2/api/restart_attempts", "3")) std::_Exit(12);
    ::raise(SIGKILL);
    std::_Exit(13);
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
  BOOST_TEST_REQUIRE(WIFSIGNALED(status), "child exited with " << WEXITSTATUS(status));
  BOOST_TEST(WTERMSIG(status) == SIGKILL);

  auto s = open_store(dir.db());
  BOOST_TEST(s.mark_unfinished_interrupted() == 1u);
  const auto all = s.actions(10);
  BOOST_TEST_REQUIRE(all.size() == 1u);
  BOOST_TEST((all[0].state == action_state::interrupted));
  BOOST_TEST((all[0].started_at == t0));
  BOOST_TEST((s.get_counter("pm2/api/restart_attempts") == std::optional<std::string>{"3"}));
}

BOOST_AUTO_TEST_CASE(prune_removes_old_events_finished_actions_and_outbox) {
  temp_dir dir;
  auto s = open_store(dir.db());
  const auto cutoff = t0;
  s.add_event(make_event("pm2", cutoff - 1s, "old"));
  s.add_event(make_event("pm2", cutoff, "kept"));

  auto old_done = make_action("pm2", action_state::succeeded);
  old_done.created_at = cutoff - 2h;
  old_done.finished_at = cutoff - 1h;
  const auto old_done_id = *s.add_action(old_done);
  auto old_interrupted = make_action("pm2", action_state::interrupted);  // no finish time recorded
  old_interrupted.created_at = cutoff - 2h;
  const auto old_interrupted_id = *s.add_action(old_interrupted);
  auto old_running = make_action("pm2", action_state::running);
  old_running.created_at = cutoff - 2h;
  const auto old_running_id = *s.add_action(old_running);
  auto recent_done = make_action("pm2", action_state::failed);
  recent_done.created_at = cutoff - 2h;
  recent_done.finished_at = cutoff + 1s;
  const auto recent_done_id = *s.add_action(recent_done);

  const auto old_item = *s.enqueue_outbox("hook-1", "{}", cutoff - 1s);
  const auto new_item = *s.enqueue_outbox("hook-1", "{}", cutoff + 1s);

  BOOST_TEST(s.prune(cutoff) == 4u);
  const auto events = s.events({});
  BOOST_TEST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].message == "kept");
  BOOST_TEST(!s.action(old_done_id).has_value());
  BOOST_TEST(!s.action(old_interrupted_id).has_value());
  BOOST_TEST(s.action(old_running_id).has_value());
  BOOST_TEST(s.action(recent_done_id).has_value());
  const auto due = s.due_outbox(cutoff + 1h, 10);
  BOOST_TEST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].id == new_item);
  (void)old_item;
  BOOST_TEST(s.prune(cutoff) == 0u);
}

BOOST_AUTO_TEST_CASE(counters_are_durable) {
  temp_dir dir;
  {
    auto s = open_store(dir.db());
    BOOST_TEST(!s.get_counter("emergency_attempts").has_value());
    BOOST_TEST(s.set_counter("emergency_attempts", "1"));
    BOOST_TEST(s.set_counter("emergency_attempts", "2"));
    BOOST_TEST(s.set_counter("netlify/last_deploy", "2024-05-01T12:00:00.000Z"));
    BOOST_TEST(s.set_counter("gone", "x"));
    BOOST_TEST(s.erase_counter("gone"));
  }
  auto s = open_store(dir.db());
  BOOST_TEST((s.get_counter("emergency_attempts") == std::optional<std::string>{"2"}));
  BOOST_TEST((s.get_counter("netlify/last_deploy") == std::optional<std::string>{"2024-05-01T12:00:00.000Z"}));
  BOOST_TEST(!s.get_counter("gone").has_value());
}

BOOST_AUTO_TEST_CASE(outbox_retry_ack_and_restart) {
  temp_dir dir;
  std::int64_t first = 0, second = 0;
  {
    auto s = open_store(dir.db());
    first = *s.enqueue_outbox("hook-ops", R"({"text":"pm2/api down"})", t0);
    second = *s.enqueue_outbox("hook-ops", R"({"text":"github/ci.yml down"})", t0);
    BOOST_TEST(s.due_outbox(t0 - 1ms, 10).empty());
    auto due = s.due_outbox(t0, 10);
    BOOST_TEST_REQUIRE(due.size() == 2u);
    BOOST_TEST(due[0].id == first);
    BOOST_TEST(due[0].target == "hook-ops");
    BOOST_TEST(due[0].payload == R"({"text":"pm2/api down"})");
    BOOST_TEST(due[0].attempts == 0);
    BOOST_TEST((due[0].created_at == t0));
    BOOST_TEST(s.due_outbox(t0, 1).size() == 1u);

    BOOST_TEST(s.retry_outbox(first, t0 + 10s, "HTTP 503"));
    due = s.due_outbox(t0 + 5s, 10);
    BOOST_TEST_REQUIRE(due.size() == 1u);
    BOOST_TEST(due[0].id == second);
    BOOST_TEST(s.ack_outbox(second));
    BOOST_TEST(!s.ack_outbox(second));
    BOOST_TEST(s.retry_outbox(first, t0 + 30s, "connection refused"));
    BOOST_TEST(!s.retry_outbox(second, t0, "gone"));
  }
  // Undelivered messages survive a restart with their attempt count.
  auto s = open_store(dir.db());
  BOOST_TEST(s.due_outbox(t0 + 29s, 10).empty());
  const auto due = s.due_outbox(t0 + 30s, 10);
  BOOST_TEST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].id == first);
  BOOST_TEST(due[0].attempts == 2);
  BOOST_TEST(due[0].last_error == "connection refused");
  BOOST_TEST((due[0].next_attempt_at == t0 + 30s));
  BOOST_TEST(s.ack_outbox(first));
  BOOST_TEST(s.due_outbox(t0 + 1h, 10).empty());
}

BOOST_AUTO_TEST_CASE(corrupt_file_is_a_clear_error_naming_the_file) {
  temp_dir dir;
  fs::create_directories(dir.db().parent_path());
  {
    std::ofstream garbage(dir.db(), std::ios::binary);
    for (int i = 0; i < 512; ++i) garbage << "this is not an sqlite database " << i << '\n';
  }
  const auto s = store::open(dir.db());
  BOOST_TEST_REQUIRE(s.has_error());
  BOOST_TEST(s.error().find(dir.db().string()) != std::string::npos, s.error());
  BOOST_TEST(s.error().find("not a database") != std::string::npos, s.error());
}

BOOST_AUTO_TEST_CASE(unusable_path_is_a_clear_error_naming_the_file) {
  temp_dir dir;
  {
    std::ofstream file(dir.path() / "plain-file");
    file << "x";
  }
  const auto inside_a_file = dir.path() / "plain-file" / "redundancy.db";
  const auto s = store::open(inside_a_file);
  BOOST_TEST_REQUIRE(s.has_error());
  BOOST_TEST(s.error().find(inside_a_file.string()) != std::string::npos, s.error());

  const auto a_folder = store::open(dir.path());
  BOOST_TEST_REQUIRE(a_folder.has_error());
  BOOST_TEST(a_folder.error().find(dir.path().string()) != std::string::npos, a_folder.error());
}

BOOST_AUTO_TEST_CASE(newer_schema_is_refused) {
  temp_dir dir;
  { auto s = open_store(dir.db()); }
  {
    raw_db raw(dir.db());
    BOOST_REQUIRE(raw.exec("PRAGMA user_version = 99") == SQLITE_OK);
  }
  const auto s = store::open(dir.db());
  BOOST_TEST_REQUIRE(s.has_error());
  BOOST_TEST(s.error().find(dir.db().string()) != std::string::npos, s.error());
  BOOST_TEST(s.error().find("newer") != std::string::npos, s.error());
}

BOOST_AUTO_TEST_CASE(write_failures_are_values_and_reads_go_on) {
  temp_dir dir;
  auto s = open_store(dir.db());
  const auto kept = *s.add_event(make_event("pm2", t0, "before"));
  const auto action_id = *s.add_action(make_action("pm2"));
  const auto item = *s.enqueue_outbox("hook", "{}", t0);
  BOOST_TEST(!s.write_error().has_value());

  s.set_query_only_for_testing(true);
  BOOST_TEST(!s.add_event(make_event("pm2", t0, "lost")).has_value());
  BOOST_TEST_REQUIRE(s.write_error().has_value());
  BOOST_TEST(s.write_error()->find(dir.db().string()) != std::string::npos, *s.write_error());
  BOOST_TEST(s.write_error()->find("add_event") != std::string::npos, *s.write_error());
  BOOST_TEST(!s.add_action(make_action("pm2")).has_value());
  auto a = *s.action(action_id);
  a.state = action_state::running;
  BOOST_TEST(!s.update_action(a));
  BOOST_TEST(!s.set_counter("k", "v"));
  BOOST_TEST(!s.enqueue_outbox("hook", "{}", t0).has_value());
  BOOST_TEST(!s.ack_outbox(item));
  BOOST_TEST(!s.retry_outbox(item, t0 + 1s, "x"));
  BOOST_TEST(s.mark_unfinished_interrupted() == 0u);
  BOOST_TEST(s.prune(t0 + 1h) == 0u);
  BOOST_TEST(s.write_error()->find("prune") != std::string::npos, *s.write_error());

  // Reads still answer, and nothing of the failed writes landed.
  const auto events = s.events({});
  BOOST_TEST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].id == kept);
  BOOST_TEST((s.action(action_id)->state == action_state::queued));
  BOOST_TEST(s.due_outbox(t0, 10).size() == 1u);

  // Writable again: the next write succeeds and clears the error.
  s.set_query_only_for_testing(false);
  BOOST_TEST(s.add_event(make_event("pm2", t0, "after")).has_value());
  BOOST_TEST(!s.write_error().has_value());
  BOOST_TEST(s.events({}).size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_locked_database_fails_the_write_and_recovers) {
  temp_dir dir;
  auto s = open_store(dir.db());
  raw_db other(dir.db());
  BOOST_REQUIRE(other.exec("BEGIN IMMEDIATE") == SQLITE_OK);
  // Waits out the busy timeout, then gives up with a value rather than blocking forever.
  BOOST_TEST(!s.set_counter("k", "v"));
  BOOST_TEST_REQUIRE(s.write_error().has_value());
  BOOST_TEST(s.write_error()->find("locked") != std::string::npos, *s.write_error());
  BOOST_REQUIRE(other.exec("COMMIT") == SQLITE_OK);
  BOOST_TEST(s.set_counter("k", "v"));
  BOOST_TEST((s.get_counter("k") == std::optional<std::string>{"v"}));
}

BOOST_AUTO_TEST_CASE(pauses_are_durable_and_replaced_per_target) {
  temp_dir dir;
  {
    auto s = open_store(dir.db());
    BOOST_TEST(s.set_pause("pm2", t0 + 1h, "maintenance"));
    BOOST_TEST(s.set_pause("pm2/api", t0 + 2h, ""));
    BOOST_TEST(s.set_pause("pm2", t0 + 3h, "longer"));  // replaces the first
  }
  auto s = open_store(dir.db());
  auto pauses = s.pauses();
  BOOST_TEST_REQUIRE(pauses.size() == 2u);
  BOOST_TEST(pauses[0].target == "pm2");
  BOOST_TEST((pauses[0].until == t0 + 3h));
  BOOST_TEST(pauses[0].reason == "longer");
  BOOST_TEST(pauses[1].target == "pm2/api");
  BOOST_TEST(s.erase_pause("pm2"));
  BOOST_TEST(s.pauses().size() == 1u);
}

BOOST_AUTO_TEST_CASE(status_history_starts_with_each_keys_state_before_the_window) {
  temp_dir dir;
  auto s = open_store(dir.db());
  auto status_event = [](std::string target, sys_time ts, std::string state) {
    return event{.id = 0,
                 .ts = ts,
                 .subsystem = "pm2",
                 .target = std::move(target),
                 .kind = "status_changed",
                 .severity = "info",
                 .message = state,
                 .data = {{"status", state}}};
  };
  s.add_event(status_event("api", t0 - 10h, "unhealthy"));
  s.add_event(status_event("api", t0 - 9h, "healthy"));  // the state api starts the window in
  s.add_event(status_event("worker", t0 - 8h, "healthy"));
  s.add_event(make_event("pm2", t0 - 7h, "not a status event"));
  s.add_event(status_event("api", t0 + 1h, "unhealthy"));
  const auto history = s.status_history(t0);
  BOOST_TEST_REQUIRE(history.size() == 3u);
  BOOST_TEST(history[0].message == "healthy");
  BOOST_TEST(history[0].target == "api");
  BOOST_TEST(history[1].target == "worker");
  BOOST_TEST(history[2].message == "unhealthy");

  // Retention keeps each key's latest status event, however old (worker's): availability still
  // needs it. api's old ones go, its latest is recent.
  BOOST_TEST(s.prune(t0) == 3u);
  const auto kept = s.status_history(t0 - 100h);
  BOOST_TEST_REQUIRE(kept.size() == 2u);
  BOOST_TEST(kept[0].target == "worker");
  BOOST_TEST((kept[1].ts == t0 + 1h));
}
