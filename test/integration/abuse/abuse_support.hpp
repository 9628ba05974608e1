// What the HTTP abuse tests share: a real daemon whose state can only change through its API, a
// snapshot of that state (API answers, every table of redundancy.db, open descriptors, children) to
// compare before and after the abuse, and the secrets that must never appear in an answer or a log.
#pragma once
#include "support/daemon.hpp"
#include "support/proc.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <sys/resource.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace redundancy::test::abuse {

namespace json = boost::json;
using namespace std::chrono_literals;

// Values that must never leave the daemon: the API token, a Netlify build hook, an environment secret,
// and a file beside (outside) the web root.
inline const std::string hook_secret = "buildhooksecret7f3e9a";
inline const std::string env_secret = "ghp_environmentsecret0c1d2e3f";
inline const std::string file_secret = "outside-the-web-root-4b8c";

// Descriptors the process `pid` has open now.
inline std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// Every table of the SQLite file as "name: rows, max rowid" lines, read through a read-only connection.
inline std::string db_summary(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open " + file.string();
  }
  std::vector<std::string> tables;
  sqlite3_stmt* list = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &list, nullptr);
  while (sqlite3_step(list) == SQLITE_ROW)
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(list, 0)));
  sqlite3_finalize(list);
  std::string out;
  for (const auto& table : tables) {
    // Every column's text, so a changed value shows as well as an added row.
    const auto sql = "SELECT * FROM \"" + table + "\" ORDER BY rowid";
    sqlite3_stmt* rows = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &rows, nullptr) != SQLITE_OK) {
      out += table + ": unreadable\n";
      continue;
    }
    out += table + ":\n";
    while (sqlite3_step(rows) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(rows); ++c) {
        const auto* text = sqlite3_column_text(rows, c);
        out += text ? reinterpret_cast<const char*>(text) : "NULL";
        out += '|';
      }
      out += '\n';
    }
    sqlite3_finalize(rows);
  }
  sqlite3_close(db);
  return out;
}

// A daemon on 127.0.0.1:0 that changes nothing by itself once its first checks are done: PM2 is
// checked once an hour (and is unhealthy: `false` stands for pm2), the others are off, no automatic
// recovery, the orchestrator's own timer hourly. A web root with an index, and beside it a file that
// must never be served, also through a symlink inside the root.
struct quiet_daemon {
  temp_dir dir;
  std::filesystem::path config_file{dir.path() / "redundancy.json"};
  std::filesystem::path state_dir{dir.path() / "state"};
  std::optional<daemon_process> process;
  std::string address;
  std::string token;

  quiet_daemon() {
    std::filesystem::create_directories(dir.path() / "pm2-home");
    write_text(dir.path() / "web" / "index.html", "<!doctype html><title>dashboard</title>\n");
    write_text(dir.path() / "secret.txt", file_secret + "\n");
    std::filesystem::create_symlink(dir.path() / "secret.txt", dir.path() / "web" / "link-out.txt");
    write_text(config_file, R"({
      "project_dir": ")" + dir.path().string() +
                                R"(",
      "state_dir": "state", "log_dir": "logs",
      "log": { "level": "debug" },
      "http": { "listen": "127.0.0.1:0", "web_root": "web" },
      "pm2": { "home": "pm2-home", "processes": ["api"], "ecosystem_files": [], "interval": "1h",
               "command": ["false"] },
      "orchestrator": { "auto_recovery": false, "interval": "1h", "report_interval": "1h" },
      "github": { "enabled": false },
      "netlify": { "enabled": false, "build_hook_url": "https://api.netlify.com/build_hooks/)" +
                                hook_secret + R"(" }
    })");
    process.emplace(config_file, dir.path(), std::map<std::string, std::string>{{"GITHUB_TOKEN", env_secret}});
    address = process->wait_for_address(state_dir);
    token = read_text(state_dir / "token");
    while (!token.empty() && token.back() == '\n') token.pop_back();
    BOOST_TEST_REQUIRE(token.size() == 64u);
    // Until the first check the status is "starting"; after it nothing changes on its own for an hour.
    for (int i = 0; i < 1000; ++i) {
      const auto health = http_get(address, "/api/health");
      if (health.status != 0 && json::parse(health.body).at("status").as_string() != "starting") break;
      std::this_thread::sleep_for(10ms);
    }
  }

  unsigned short port() const { return port_of(address); }

  // The state a client can see or the disk holds, with what changes by itself (RSS) taken out.
  struct snapshot {
    std::string status, actions, events, db;
    std::size_t fds{0};
    std::size_t children{0};
  };
  snapshot take() {
    snapshot s;
    auto status = json::parse(http_get(address, "/api/status").body).as_object();
    status.erase("daemon");
    s.status = json::serialize(status);
    s.actions = http_get(address, "/api/actions?limit=1000").body;
    s.events = http_get(address, "/api/events?limit=1000").body;
    s.db = db_summary(state_dir / "redundancy.db");
    s.fds = open_fds(process->pid());
    s.children = children_of(process->pid()).size();
    return s;
  }

  // Nothing changed: the same answers, the same rows, no descriptor or child more than before (polled:
  // connections the daemon is still closing may hold a descriptor for a moment).
  void require_unchanged(const snapshot& before) {
    BOOST_TEST_REQUIRE(!process->exited(), "the daemon is alive; stderr:\n" << process->err());
    const bool fds_back = eventually([&] { return open_fds(process->pid()) <= before.fds; }, 15s);
    BOOST_TEST(fds_back, "open descriptors back to " << before.fds << ", now " << open_fds(process->pid()));
    const auto after = take();
    BOOST_TEST(after.status == before.status);
    BOOST_TEST(after.actions == before.actions);
    BOOST_TEST(after.events == before.events);
    BOOST_TEST(after.db == before.db);
    BOOST_TEST(after.children <= before.children);
  }

  // Neither the answers seen nor the daemon's logs hold a secret.
  void require_no_secret_in_logs() {
    std::string logs = process->err() + read_text(dir.path() / "daemon.out");
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir.path() / "logs", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file()) logs += read_text(it->path());
    BOOST_TEST(!logs.empty());
    for (const auto& secret : {token, hook_secret, env_secret, file_secret})
      BOOST_TEST(logs.find(secret) == std::string::npos, "a log holds the secret " << secret.substr(0, 6) << "...");
  }
};

// Whether an answer (headers and body) holds any of the daemon's secrets.
inline bool leaks(const http_answer& answer, const quiet_daemon& d) {
  std::string all = answer.body;
  for (const auto& [name, value] : answer.headers) all += name + ": " + value + "\n";
  for (const auto& secret : {d.token, hook_secret, env_secret, file_secret})
    if (all.find(secret) != std::string::npos) return true;
  return false;
}

// Raises this process's soft RLIMIT_NOFILE to at least `wanted` (up to the hard limit); the result.
inline rlim_t raise_fd_limit(rlim_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

}  // namespace redundancy::test::abuse
