// The registry of live children of run_process, shutdown's terminate_all_children, orphan reaping,
// and the /proc scans behind them.
#include "process_children.hpp"

#include "redundancy/core/process.hpp"
#include "redundancy/core/process_tracking.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string_view>
#include <thread>
#include <vector>

namespace redundancy {
namespace process_detail {
namespace {

// A registered child; `status` is set when terminate_all_children reaped it.
struct child_entry {
  std::optional<int> status{};
};

// One thread runs the loop and shutdown happens after it stopped, so a plain map is enough.
std::map<pid_t, child_entry>& registry() {
  static std::map<pid_t, child_entry> children;
  return children;
}

struct proc_stat {
  pid_t pid{0};
  char state{'?'};
  pid_t ppid{0};
  pid_t pgrp{0};
};

// Parses /proc/<pid>/stat. The command name is in parentheses and may itself hold ") ", so the
// fields are read after the last ')'.
std::optional<proc_stat> read_stat(pid_t pid) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[512];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  const std::string_view text(buf, static_cast<std::size_t>(n));
  const auto close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos || close_paren + 2 >= text.size()) return std::nullopt;
  std::string_view rest = text.substr(close_paren + 2);  // "S ppid pgrp ..."
  proc_stat st;
  st.pid = pid;
  st.state = rest[0];
  rest.remove_prefix(std::min<std::size_t>(2, rest.size()));
  const char* end = rest.data() + rest.size();
  auto r1 = std::from_chars(rest.data(), end, st.ppid);
  if (r1.ec != std::errc{} || r1.ptr == end) return std::nullopt;
  auto r2 = std::from_chars(r1.ptr + 1, end, st.pgrp);
  if (r2.ec != std::errc{}) return std::nullopt;
  return st;
}

// Calls f(proc_stat) for every process visible in /proc.
template <typename F>
void for_each_process(F&& f) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return;
  while (const dirent* entry = ::readdir(dir)) {
    pid_t pid = 0;
    const char* name = entry->d_name;
    const char* end = name + std::strlen(name);
    if (auto r = std::from_chars(name, end, pid); r.ec != std::errc{} || r.ptr != end) continue;
    if (auto st = read_stat(pid)) f(*st);
  }
  ::closedir(dir);
}

// waitpid that retries on EINTR (asio's SIGCHLD handler is installed without SA_RESTART).
pid_t wait_retrying(pid_t pid, int* status, int options) {
  pid_t r;
  do {
    r = ::waitpid(pid, status, options);
  } while (r == -1 && errno == EINTR);
  return r;
}

// Polls every 10 ms until done() or the deadline; returns done()'s last answer. Only used at
// shutdown and in destructors, where the loop no longer runs.
template <typename F>
bool poll_until(std::chrono::steady_clock::time_point deadline, F&& done) {
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

std::vector<pid_t> running_pids() {
  std::vector<pid_t> pids;
  for (const auto& [pid, entry] : registry())
    if (!entry.status) pids.push_back(pid);
  return pids;
}

void register_child(pid_t pid) {
  registry()[pid] = child_entry{};
  note_children_changed(running_pids());
}

void forget_child(pid_t pid) {
  if (registry().erase(pid)) note_children_changed(running_pids());
}

std::optional<int> reaped_status(pid_t pid) {
  const auto it = registry().find(pid);
  if (it == registry().end()) return std::nullopt;
  return it->second.status;
}

void reap_group_zombies(pid_t pgid) {
  while (wait_retrying(-pgid, nullptr, WNOHANG) > 0) {
  }
}

bool group_has_live_members(pid_t pgid) {
  // kill(0) is cheap and answers "nobody at all" without a scan; zombies still count for it.
  if (::kill(-pgid, 0) == -1 && errno == ESRCH) return false;
  bool live = false;
  for_each_process([&](const proc_stat& st) {
    if (st.pgrp == pgid && st.state != 'Z' && st.state != 'X') live = true;
  });
  return live;
}

child_guard::~child_guard() {
  const auto it = registry().find(pid_);
  if (it == registry().end()) return;
  if (!it->second.status) {
    // The run never got to reap its child: end the group now. After SIGKILL the child exits at once,
    // so this blocking wait is short.
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    wait_retrying(pid_, nullptr, 0);
  }
  reap_group_zombies(pid_);
  registry().erase(it);
  note_children_changed(running_pids());
}

}  // namespace process_detail

namespace {

void end_registered_groups(std::chrono::milliseconds grace) {
  using namespace process_detail;
  std::vector<pid_t> pending;
  for (auto& [pid, entry] : registry()) {
    if (entry.status) continue;
    ::kill(-pid, SIGTERM);
    pending.push_back(pid);
  }
  if (pending.empty()) return;

  // Reaps what has exited; true once every leader is reaped and no group has a live member.
  const auto reap_exited = [&] {
    bool all_gone = true;
    for (const pid_t pid : pending) {
      auto& entry = registry()[pid];
      if (!entry.status) {
        int status = 0;
        const pid_t r = wait_retrying(pid, &status, WNOHANG);
        if (r == pid)
          entry.status = status;
        else if (r == -1)
          entry.status = 0;  // not our child any more (reaped elsewhere): nothing left to wait for
      }
      if (entry.status) reap_group_zombies(pid);
      if (!entry.status || group_has_live_members(pid)) all_gone = false;
    }
    return all_gone;
  };

  if (poll_until(std::chrono::steady_clock::now() + grace, reap_exited)) {
    note_children_changed(running_pids());
    return;
  }
  for (const pid_t pid : pending) {
    auto& entry = registry()[pid];
    ::kill(-pid, SIGKILL);
    if (!entry.status) {
      int status = 0;
      entry.status = wait_retrying(pid, &status, 0) == pid ? status : 0;
    }
  }
  // SIGKILL cannot be ignored, but members take a moment to vanish; bound the wait all the same.
  poll_until(std::chrono::steady_clock::now() + std::chrono::seconds(1), reap_exited);
  note_children_changed(running_pids());
}

}  // namespace

void terminate_all_children(std::chrono::milliseconds grace) {
  end_registered_groups(grace);
  // What left the groups (`setsid x &` in a workflow step) is found by its job's tracking id.
  end_all_tracked_now(grace);
}

std::size_t running_children() {
  std::size_t count = 0;
  for (const auto& [pid, entry] : process_detail::registry())
    if (!entry.status) ++count;
  return count;
}

std::size_t reap_orphans() {
  using namespace process_detail;
  const pid_t self = ::getpid();
  std::vector<pid_t> zombies;
  for_each_process([&](const proc_stat& st) {
    if (st.ppid == self && st.state == 'Z' && !registry().contains(st.pid)) zombies.push_back(st.pid);
  });
  std::size_t reaped = 0;
  for (const pid_t pid : zombies)
    if (wait_retrying(pid, nullptr, WNOHANG) == pid) ++reaped;
  return reaped;
}

}  // namespace redundancy
