// Fault matrix, the daemon's own ground, against the real binary (PM2 on the fake tool as the watched
// subsystem): the log folder deleted, the disk full (a small tmpfs, root only), redundancy.db corrupt
// or read-only, SIGTERM in the middle of a recovery action, SIGKILL then a restart. Each: /api/health
// answers with the reason, no child is left, no event or action is lost, and it recovers.
#define BOOST_TEST_MODULE faults_daemon
#include <boost/test/unit_test.hpp>

#include "fake_pm2.hpp"

#include <fcntl.h>

#include <algorithm>

using namespace redundancy::test;

namespace {

json::object history(fault_project& p) { return p.get("/api/health").at("history").as_object(); }

// Starts a manual restart of "web" that hangs in the fake tool; returns its action id once the tool
// runs.
std::int64_t start_hanging_restart(fake_pm2_project& p) {
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"));
  p.mode("hang");
  auto posted = http_post(p.address, "/api/pm2/restart", R"({"app":"web"})", std::string(fault_token));
  BOOST_TEST_REQUIRE(posted.status == 202, posted.body);
  const auto id = json::parse(posted.body).at("action_id").as_int64();
  BOOST_REQUIRE(wait_for([&] { return read_text(p.tool / "calls").find("restart web") != std::string::npos; }));
  BOOST_REQUIRE(wait_for([&] { return live_pids_in(p.tool / "pids").size() >= 2; }));
  BOOST_TEST(p.get("/api/actions/" + std::to_string(id)).at("state").as_string() == "running");
  return id;
}

// One action as stored in the file (read with the daemon stopped): state and finished_at.
std::pair<std::string, bool> stored_action(const fs::path& db_file, std::int64_t id) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT state, finished_at FROM actions WHERE id = ?1", -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, id);
  std::pair<std::string, bool> out{"<missing>", false};
  if (sqlite3_step(st) == SQLITE_ROW)
    out = {reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), sqlite3_column_type(st, 1) != SQLITE_NULL};
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(log_folder_deleted_is_recreated_with_the_next_line_and_report) {
  fake_pm2_project p({}, R"({ "interval": "300ms", "report_interval": "1s" })");
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"));
  BOOST_REQUIRE(wait_for([&] { return fs::exists(p.logs / "pm2.log"); }));
  fs::remove_all(p.logs);
  // A change to log: pm2 fails.
  p.mode("exit 3");
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "unknown", "exit 3"));
  BOOST_TEST(p.health_answer().status == 200);
  BOOST_TEST_REQUIRE(
      wait_for([&] { return read_text(p.logs / "pm2.log").find("pm2 is unknown") != std::string::npos; }),
      "pm2.log was not recreated with the new line");
  BOOST_TEST(wait_for([&] {
               std::error_code ec;
               for (const auto& entry : fs::directory_iterator(p.logs, ec))
                 if (entry.path().filename().string().starts_with("health-report-")) return true;
               return false;
             }),
             "the health report was not written again");
  p.mode("ok");
  BOOST_TEST(p.wait_status("pm2", "healthy"));
  BOOST_TEST(read_text(p.logs / "pm2.log").find("pm2 is healthy") != std::string::npos);
  BOOST_TEST(!p.process->exited());
  p.events();
  p.stop();
  p.check_events_all_stored();
}

BOOST_AUTO_TEST_CASE(disk_full_keeps_events_in_memory_and_writes_them_once_there_is_room) {
  if (!can_mount("disk full")) return;
  fake_pm2_project p;
  small_tmpfs disk(p.state, "4m");
  BOOST_TEST_REQUIRE(disk.mounted(), "mount tmpfs failed: " << std::strerror(errno));
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"));
  // Fill every byte that is left.
  {
    const int fd = ::open((p.state / "filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    const std::string block(64 * 1024, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    const std::string byte(1, 'f');
    while (::write(fd, byte.data(), 1) > 0) {
    }
    ::close(fd);
  }
  // Changes to record while full: the store refuses them, the daemon keeps them and says so.
  bool refused = false;
  for (int round = 0; round < 6 && !refused; ++round) {
    p.mode(round % 2 == 0 ? "exit 3" : "ok");
    BOOST_TEST_REQUIRE(p.wait_status("pm2", round % 2 == 0 ? "unknown" : "healthy"));
    const auto h = history(p);
    refused = !h.at("ok").as_bool();
    if (refused) {
      BOOST_TEST(h.at("error").as_string().find("full") != json::string::npos, json::serialize(h));
      BOOST_TEST(h.at("unsaved_events").as_int64() > 0);
      const auto answer = p.health_answer();
      BOOST_TEST(answer.status == 200);
      BOOST_TEST(json::parse(answer.body).at("status").as_string() == "degraded");
    }
  }
  BOOST_TEST(refused, "the full disk never refused a write");
  BOOST_TEST(!p.process->exited());
  p.mode("ok");
  fs::remove(p.state / "filler");
  BOOST_TEST_REQUIRE(wait_for([&] {
    const auto h = history(p);
    return h.at("ok").as_bool() && h.at("unsaved_events").as_int64() == 0;
  }));
  BOOST_TEST(p.wait_status("pm2", "healthy"));
  p.events();  // every event, now all with their stored ids
  p.stop();
  p.check_events_all_stored();
}

BOOST_AUTO_TEST_CASE(corrupt_history_is_moved_aside_and_a_fresh_one_started_loudly) {
  fake_pm2_project p;
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"));
  p.stop();
  const auto db_file = p.state / "redundancy.db";
  {
    // Garbage over the header: SQLite no longer takes it for a database.
    const int fd = ::open(db_file.c_str(), O_WRONLY | O_CLOEXEC);
    const std::string garbage(100, '\x5a');
    BOOST_REQUIRE(::pwrite(fd, garbage.data(), garbage.size(), 0) == 100);
    ::close(fd);
  }
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"));
  const auto h = history(p);
  BOOST_TEST(h.at("ok").as_bool());
  BOOST_TEST(!h.at("in_memory").as_bool());
  const std::string notice = h.at("notice").is_string() ? std::string(h.at("notice").as_string()) : "";
  BOOST_TEST(notice.find("moved aside to " + db_file.string() + ".corrupt-") != std::string::npos, notice);
  std::size_t aside = 0;
  for (const auto& entry : fs::directory_iterator(p.state))
    if (entry.path().filename().string().starts_with("redundancy.db.corrupt-")) {
      ++aside;
      BOOST_TEST(read_text(entry.path()).substr(0, 100) == std::string(100, '\x5a'));  // kept as it was
    }
  BOOST_TEST(aside == 1u);
  BOOST_TEST(p.has_event("history_replaced", "moved aside"));
  BOOST_TEST(p.process->err().find("HISTORY REPLACED") != std::string::npos);
  // The fresh file records this life.
  p.mode("exit 3");
  BOOST_TEST(p.wait_status("pm2", "unknown"));
  p.mode("ok");
  BOOST_TEST(p.wait_status("pm2", "healthy"));
  p.events();
  p.stop();
  p.check_events_all_stored();
}

BOOST_AUTO_TEST_CASE(read_only_history_is_an_error_state_until_it_is_writable_and_then_reopened) {
  fake_pm2_project p;
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"));
  p.stop();
  const auto db_file = p.state / "redundancy.db";
  // Read-only for whoever runs the test: root ignores file modes, so a read-only bind mount of the file.
  const bool root = ::geteuid() == 0;
  bool bound = false;
  if (root) {
    bound = ::mount(db_file.c_str(), db_file.c_str(), nullptr, MS_BIND, nullptr) == 0 &&
            ::mount(nullptr, db_file.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
    BOOST_TEST_REQUIRE(bound, "read-only bind mount failed: " << std::strerror(errno));
  } else {
    fs::permissions(db_file, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  }
  struct unbind {
    fs::path file;
    bool active;
    ~unbind() {
      if (active) ::umount2(file.c_str(), MNT_DETACH);
    }
  } cleanup{db_file, bound};

  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"));
  auto h = history(p);
  BOOST_TEST(!h.at("ok").as_bool());
  BOOST_TEST(h.at("read_only").as_bool());
  BOOST_TEST(!h.at("in_memory").as_bool());
  BOOST_TEST(h.at("error").is_string());
  const auto answer = p.health_answer();
  BOOST_TEST(answer.status == 200);
  BOOST_TEST(json::parse(answer.body).at("status").as_string() == "degraded");
  // Changes meanwhile wait in memory.
  p.mode("exit 3");
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "unknown"));
  BOOST_TEST(history(p).at("unsaved_events").as_int64() > 0);
  BOOST_TEST(p.process->err().find("HISTORY UNAVAILABLE") != std::string::npos);

  // Writable again: the daemon reopens the file and writes what it kept.
  if (root) {
    // Lazily: the daemon's open descriptors keep the read-only mount; the path is the writable file at once.
    BOOST_REQUIRE(::umount2(db_file.c_str(), MNT_DETACH) == 0);
    cleanup.active = false;
  } else {
    fs::permissions(db_file, fs::perms::owner_read | fs::perms::owner_write);
  }
  BOOST_TEST_REQUIRE(wait_for([&] {
                       const auto now = history(p);
                       return now.at("ok").as_bool() && now.at("unsaved_events").as_int64() == 0;
                     }),
                     json::serialize(history(p)));
  BOOST_TEST(!history(p).at("read_only").as_bool());
  p.mode("ok");
  BOOST_TEST(p.wait_status("pm2", "healthy"));
  p.events();
  p.stop();
  p.check_events_all_stored();
}

BOOST_AUTO_TEST_CASE(sigterm_during_a_recovery_action_ends_its_group_and_records_it_interrupted) {
  fake_pm2_project p;
  p.start();
  const auto id = start_hanging_restart(p);
  p.events();
  const auto took = p.process->signal_and_wait(SIGTERM, 10s);
  BOOST_TEST_REQUIRE(took.has_value());
  BOOST_TEST(took->count() < 3000, "stopping took " << took->count() << " ms");
  BOOST_TEST(p.process->exit_code() == 0);
  // The hung `pm2 restart web` and its grandchild are gone with the daemon.
  p.check_tool_children_gone(5s);
  // Recorded as interrupted at once, without waiting for a next start.
  const auto [state, finished] = stored_action(p.state / "redundancy.db", id);
  BOOST_TEST(state == "interrupted");
  BOOST_TEST(finished);
  p.process.reset();
  p.check_events_all_stored();

  // The next life: the fault gone, it carries on with the history intact.
  p.mode("ok");
  p.start();
  BOOST_TEST(p.wait_status("pm2", "healthy"));
  BOOST_TEST(p.get("/api/actions/" + std::to_string(id)).at("state").as_string() == "interrupted");
  p.stop();
  p.check_events_all_stored();
}

BOOST_AUTO_TEST_CASE(sigkill_then_restart_ends_the_children_the_killed_daemon_left) {
  fake_pm2_project p;
  p.start();
  const auto id = start_hanging_restart(p);
  const auto orphans = live_pids_in(p.tool / "pids");
  BOOST_TEST_REQUIRE(orphans.size() >= 2u);
  p.events();  // what was shown before the kill must be in the file after it
  BOOST_TEST_REQUIRE(p.process->signal_and_wait(SIGKILL, 10s).has_value());
  // SIGKILL gave the daemon no chance: its children run on.
  BOOST_TEST(live_pids_in(p.tool / "pids").size() == orphans.size());

  p.mode("ok");
  p.start();
  // The next start ends them first and says so.
  p.check_tool_children_gone(10s);
  BOOST_TEST(p.wait_for_event("leftover_children_ended", "ended " + std::to_string(orphans.size()) + " processes"));
  BOOST_TEST(p.get("/api/actions/" + std::to_string(id)).at("state").as_string() == "interrupted");
  BOOST_TEST(p.wait_status("pm2", "healthy"));
  BOOST_TEST(p.health_answer().status == 200);
  p.stop();
  p.check_events_all_stored();
}

BOOST_AUTO_TEST_CASE(a_second_daemon_on_the_same_state_dir_exits_2_at_once_and_changes_nothing) {
  fake_pm2_project p;  // port 0: without the lock both would listen and both would repair
  p.start();
  const auto id = start_hanging_restart(p);
  const auto children = live_pids_in(p.tool / "pids");
  const auto address = read_text(p.state / "http.addr");

  const auto started = std::chrono::steady_clock::now();
  const auto second = run_binary({"run", "--config", p.config_file.string()}, p.env, 20s);
  const auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(second.exit_code == 2, second.err);
  BOOST_TEST(took < 10s);
  BOOST_TEST(second.err.find("pid " + std::to_string(p.process->pid())) != std::string::npos, second.err);
  BOOST_TEST(second.err.find((p.state / "daemon.lock").string()) != std::string::npos, second.err);
  // Nothing of the first one's was touched: its action runs on, its children live, its address stands.
  BOOST_TEST(p.get("/api/actions/" + std::to_string(id)).at("state").as_string() == "running");
  // (Every one still alive; the first one's checks may have started more hanging calls meanwhile.)
  const auto live = live_pids_in(p.tool / "pids");
  for (const int pid : children) BOOST_TEST(std::count(live.begin(), live.end(), pid) == 1, "pid " << pid);
  BOOST_TEST(read_text(p.state / "http.addr") == address);
  BOOST_TEST(p.health_answer().status != 0);

  // Once the first one has stopped, the next start takes the lock.
  p.stop();
  p.check_tool_children_gone(5s);
  p.mode("ok");
  p.start();
  BOOST_TEST(p.wait_status("pm2", "healthy"));
  BOOST_TEST(read_text(p.state / "daemon.lock") == std::to_string(p.process->pid()) + "\n");
}

BOOST_AUTO_TEST_CASE(temporary_files_a_killed_run_left_are_removed_at_start) {
  fake_pm2_project p({}, R"({ "interval": "300ms", "report_interval": "1s" })");
  fs::create_directories(p.state);
  fs::create_directories(p.logs);
  // As found after a kill -9 loop: a report and http.addr half written, under the names of this
  // version and of earlier ones, and a link (only the link goes, never what it points at).
  const std::vector<fs::path> leftovers{p.logs / ".health-report-2026-12-07.json.tmp-4242",
                                        p.logs / ".health-report-2026-12-07.json.redundancy-tmp-0a1b2c3d4e5f",
                                        p.state / ".http.addr.tmp-4243", p.state / ".token.tmp.4244",
                                        p.state / "child-ledger.tmp"};
  for (const auto& file : leftovers) write_text(file, std::string(214 * 1024, '{'));
  const auto victim = p.dir.path() / "victim";
  write_text(victim, "untouched\n");
  fs::create_symlink(victim, p.state / ".manifest.json.tmp-4245");
  write_text(p.logs / "notes.tmp-1", "not ours\n");
  p.start();
  BOOST_TEST(p.wait_status("pm2", "healthy"));
  for (const auto& file : leftovers) BOOST_TEST(!fs::exists(fs::symlink_status(file)), file);
  BOOST_TEST(!fs::exists(fs::symlink_status(p.state / ".manifest.json.tmp-4245")));
  BOOST_TEST(read_text(victim) == "untouched\n");
  BOOST_TEST(read_text(p.logs / "notes.tmp-1") == "not ours\n");
  BOOST_TEST(p.process->err().find("removed " + leftovers.front().string()) != std::string::npos);
  p.stop();
}
