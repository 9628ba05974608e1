// The fault matrix's common ground: a project folder with a config built from sections, the real
// daemon started on it, /api/health and /api/events read as JSON, the fake tool's state folder
// (test/helpers/fake_tool.cpp), and the checks every row makes: the daemon still answers, every
// child it started is gone, and every event it showed is in redundancy.db after it stops.
#pragma once
#include "support/daemon.hpp"
#include "support/proc.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <functional>
#include <iostream>
#include <set>

namespace redundancy::test {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

inline constexpr std::string_view fault_token = "fault-token-0123456789";

// Polls `done` every 50 ms for up to `limit` (generous: the machine may be loaded).
inline bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// Pids listed one a line in `file` that still run. A zombie has ended.
inline std::vector<int> live_pids_in(const fs::path& file) {
  std::vector<int> live;
  std::istringstream lines(read_text(file));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const auto info = read_proc(std::stoi(line));
    if (info && info->state != 'Z' && info->state != 'X') live.push_back(info->pid);
  }
  return live;
}

// A listening AF_UNIX socket at `path`, so that a fake PM2_HOME's rpc.sock accepts connections.
class unix_listener {
 public:
  explicit unix_listener(const fs::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd_, 64) != 0)
      throw std::runtime_error("cannot listen on " + path.string());
  }
  unix_listener(const unix_listener&) = delete;
  unix_listener& operator=(const unix_listener&) = delete;
  ~unix_listener() { ::close(fd_); }

 private:
  int fd_{-1};
};

// A small tmpfs mounted at a folder for the test's life (root only); nullopt-like when not root.
class small_tmpfs {
 public:
  small_tmpfs(const fs::path& at, std::string_view size) : at_(at) {
    fs::create_directories(at);
    const std::string options = "size=" + std::string(size) + ",mode=0755";
    mounted_ = ::mount("tmpfs", at.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  small_tmpfs(const small_tmpfs&) = delete;
  small_tmpfs& operator=(const small_tmpfs&) = delete;
  ~small_tmpfs() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  bool remount(bool read_only) {
    return ::mount("tmpfs", at_.c_str(), "tmpfs", MS_REMOUNT | (read_only ? MS_RDONLY : 0), nullptr) == 0;
  }

 private:
  fs::path at_;
  bool mounted_{false};
};

// Whether this test may mount file systems; says so visibly when it may not.
inline bool can_mount(std::string_view row) {
  if (::geteuid() == 0) return true;
  BOOST_TEST_MESSAGE("SKIPPED: " << row << " needs root to mount a small tmpfs (run the tests as root)");
  std::cerr << "SKIPPED: " << row << " needs root to mount a small tmpfs\n";
  return false;
}

struct fault_project {
  temp_dir dir;
  fs::path config_file{dir.path() / "redundancy.json"};
  fs::path state{dir.path() / "state"};
  fs::path logs{dir.path() / "logs"};
  fs::path tool{dir.path() / "tool"};  // the fake tool's state folder: mode, stdout, pids, calls
  std::optional<daemon_process> process;
  std::string address;
  std::map<std::string, std::string> env{{"REDUNDANCY_TOKEN", std::string(fault_token)}};
  // Every event id seen through the API (positive: stored), checked against the file at the end.
  std::map<std::int64_t, std::string> seen_events;

  fault_project() { fs::create_directories(tool); }
  ~fault_project() { stop(); }

  // Writes the config: `sections` is the body of the top-level object after the common keys,
  // e.g. R"("pm2": {...}, "github": {"enabled": false})".
  void configure(const std::string& sections) {
    write_text(config_file, R"({
      "project_dir": ")" + dir.path().string() +
                                R"(",
      "state_dir": ")" + state.string() +
                                R"(", "log_dir": ")" + logs.string() + R"(",
      "http": { "listen": "127.0.0.1:0" },
      )" + sections + "}");
  }

  void mode(std::string_view text) { write_text(tool / "mode", text); }
  std::string fake_tool() const { return REDUNDANCY_FAKE_TOOL; }

  void start() {
    fs::remove(state / "http.addr");
    process.emplace(config_file, dir.path(), env);
    address = process->wait_for_address(state);
  }

  void stop() {
    if (!process) return;
    process->signal_and_wait(SIGTERM, 10s);
    process.reset();
  }

  http_answer health_answer() { return http_get(address, "/api/health"); }

  json::value get(const std::string& path) {
    auto answer = http_get(address, path);
    BOOST_TEST_REQUIRE(answer.status != 0, path << ": no answer from the daemon");
    return json::parse(answer.body);
  }

  std::string subsystem_status(const std::string& name) {
    return std::string(get("/api/health").at("subsystems").at(name).at("status").as_string());
  }
  std::string summary(const std::string& name) {
    return std::string(get("/api/health").at("subsystems").at(name).at("summary").as_string());
  }

  // Waits until the subsystem's status is `status` (and its summary holds `part`).
  bool wait_status(const std::string& name, const std::string& status, const std::string& part = {},
                   std::chrono::milliseconds limit = 60s) {
    const bool ok = wait_for(
        [&] {
          const auto h = get("/api/health");
          const auto& s = h.at("subsystems").at(name);
          return s.at("status").as_string() == status &&
                 std::string_view(s.at("summary").as_string()).find(part) != std::string_view::npos;
        },
        limit);
    if (!ok) {
      // What it was instead, and what the daemon said last: enough to see why without rerunning.
      const auto err = process ? process->err() : std::string();
      std::cerr << "waited for " << name << " " << status << " '" << part
                << "'; last health: " << json::serialize(get("/api/status").at("subsystems").at(name))
                << "\ndaemon stderr (tail):\n"
                << err.substr(err.size() > 4000 ? err.size() - 4000 : 0) << "\n";
    }
    return ok;
  }

  // Events from the API, newest first; remembers the stored ones for events_all_stored().
  json::array events(const std::string& query = "limit=1000") {
    auto body = get("/api/events?" + query);
    auto list = body.at("events").as_array();
    for (const auto& e : list)
      if (e.at("id").as_int64() > 0) seen_events[e.at("id").as_int64()] = std::string(e.at("kind").as_string());
    return list;
  }

  // Whether an event of `kind` (and a message holding `part`) has been recorded.
  bool has_event(const std::string& kind, const std::string& part = {}) {
    for (const auto& e : events())
      if (e.at("kind").as_string() == kind &&
          std::string_view(e.at("message").as_string()).find(part) != std::string_view::npos)
        return true;
    return false;
  }

  bool wait_for_event(const std::string& kind, const std::string& part = {}, std::chrono::milliseconds limit = 60s) {
    return wait_for([&] { return has_event(kind, part); }, limit);
  }

  // After stop(): every event the API showed with a stored id is in the file, with the same kind.
  void check_events_all_stored(const fs::path& db_file) {
    BOOST_TEST_REQUIRE(!seen_events.empty());
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    std::map<std::int64_t, std::string> stored;
    sqlite3_stmt* st = nullptr;
    BOOST_REQUIRE(sqlite3_prepare_v2(db, "SELECT id, kind FROM events", -1, &st, nullptr) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
      stored[sqlite3_column_int64(st, 0)] = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (const auto& [id, kind] : seen_events) {
      BOOST_TEST_CONTEXT("event " << id << " " << kind) {
        BOOST_TEST(stored.count(id) == 1u);
        if (stored.count(id)) BOOST_TEST(stored[id] == kind);
      }
    }
  }
  void check_events_all_stored() { check_events_all_stored(state / "redundancy.db"); }

  // Every process the fake tool had started when this is called is ended and reaped, each within
  // `limit`. Only those: while a fault lasts the daemon goes on starting calls, and the next one may
  // begin the moment the last was ended, so "none running" may never be seen (it failed CI so).
  void check_tool_children_gone(std::chrono::milliseconds limit = 15s) {
    // The kernel's name of the tool's processes; a recorded pid under another name was reused.
    const auto name = fs::path(fake_tool()).filename().string().substr(0, 15);
    std::vector<int> started;
    std::istringstream lines(read_text(tool / "pids"));
    for (std::string line; std::getline(lines, line);)
      if (auto info = line.empty() ? std::nullopt : read_proc(std::stoi(line)); info && info->comm == name)
        started.push_back(info->pid);
    // How many of them are still in /proc in a state that `counts`.
    const auto left = [&](auto&& counts) {
      std::size_t n = 0;
      for (int pid : started)
        if (auto now = read_proc(pid); now && now->comm == name && counts(now->state)) ++n;
      return n;
    };
    const auto running = [](char state) { return state != 'Z' && state != 'X'; };
    const auto any = [](char) { return true; };
    BOOST_TEST(wait_for([&] { return left(running) == 0; }, limit),
               "fake tool processes still alive after " << limit.count() << " ms: " << left(running));
    // The daemon reaps what it started, and as subreaper their orphans, within its 5 s sweep.
    if (process && !process->exited())
      BOOST_TEST(wait_for([&] { return left(any) == 0; }, 15s),
                 "fake tool processes ended and not reaped: " << left(any));
  }
};

}  // namespace redundancy::test
