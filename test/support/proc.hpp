// Test helpers that look at processes from the outside through /proc: is a pid alive or a zombie,
// who is in a process group, which children this test process has; polling briefly before asserting.
#pragma once
#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace redundancy::test {

struct proc_info {
  int pid{0};
  char state{'?'};  // R, S, D, Z, T, ...
  int ppid{0};
  int pgrp{0};
  std::string comm{};
};

// One process's /proc/<pid>/stat; nullopt once it is gone (reaped).
inline std::optional<proc_info> read_proc(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  const auto open = line.find('(');
  const auto close = line.rfind(')');  // the name may itself hold ')'
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  proc_info info;
  info.pid = pid;
  info.comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  rest >> info.state >> info.ppid >> info.pgrp;
  if (!rest) return std::nullopt;
  return info;
}

inline std::vector<proc_info> all_procs() {
  std::vector<proc_info> procs;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return procs;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    if (auto info = read_proc(static_cast<int>(pid))) procs.push_back(*info);
  }
  ::closedir(dir);
  return procs;
}

// True while the pid exists at all, zombie included.
inline bool pid_exists(int pid) { return read_proc(pid).has_value(); }

inline bool is_zombie(int pid) {
  const auto info = read_proc(pid);
  return info && info->state == 'Z';
}

// Running: a zombie has ended (PM2's daemon and a daemon's children re-parent to whoever reaps orphans,
// which may be slow to; CI once saw such a zombie counted alive).
inline bool alive(int pid) { return pid > 0 && pid_exists(pid) && !is_zombie(pid); }

// Every process (zombies included) whose process group is `pgid`.
inline std::vector<int> pids_in_group(int pgid) {
  std::vector<int> pids;
  for (const auto& p : all_procs())
    if (p.pgrp == pgid) pids.push_back(p.pid);
  return pids;
}

// This process's children, zombies included.
inline std::vector<proc_info> children_of_self() {
  std::vector<proc_info> children;
  const int self = static_cast<int>(::getpid());
  for (const auto& p : all_procs())
    if (p.ppid == self) children.push_back(p);
  return children;
}

inline std::vector<int> zombie_children() {
  std::vector<int> pids;
  for (const auto& p : children_of_self())
    if (p.state == 'Z') pids.push_back(p.pid);
  return pids;
}

// Polls `done` every 10 ms for up to `limit`: processes take a moment to vanish after a kill.
template <typename F>
bool eventually(F&& done, std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Makes orphaned descendants re-parent to this test process instead of PID 1 (which, in some
// containers, never reaps them), as the daemon does; then "no zombie left" can be checked.
inline void become_child_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

// Last resort after a test: SIGKILL every child of this process with its group and reap it, so that
// one failing test does not leave processes behind for the next. Returns how many there were.
inline std::size_t kill_and_reap_children() {
  std::size_t found = 0;
  for (int round = 0; round < 50; ++round) {
    const auto children = children_of_self();
    if (children.empty()) break;
    for (const auto& child : children) {
      ++found;
      if (child.pgrp == child.pid) ::kill(-child.pid, SIGKILL);
      ::kill(child.pid, SIGKILL);
      ::waitpid(child.pid, nullptr, 0);
    }
  }
  return found;
}

}  // namespace redundancy::test
