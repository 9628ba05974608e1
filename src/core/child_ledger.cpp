// The child ledger file: written on every change of the running children, read once at start to end
// what a killed daemon left behind.
#include "redundancy/core/child_ledger.hpp"

#include "process_children.hpp"
#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/process_tracking.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace redundancy {
namespace {

std::optional<std::filesystem::path>& ledger_file() {
  static std::optional<std::filesystem::path> file;
  return file;
}

bool& ledger_failing() {
  static bool failing = false;
  return failing;
}

std::string boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

struct stat_fields {
  char state{'?'};
  pid_t pgrp{0};
  unsigned long long start{0};  // clock ticks after boot
};

// /proc/PID/stat: state (3), pgrp (5) and starttime (22), read after the last ')'.
std::optional<stat_fields> read_fields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  stat_fields f;
  long ignored = 0;
  rest >> f.state >> ignored >> f.pgrp;
  for (int field = 6; field < 22 && rest; ++field) rest >> ignored;
  rest >> f.start;
  if (!rest) return std::nullopt;
  return f;
}

// Processes (not zombies) in group `pgid` that started no earlier than `since`: the ones a group of
// a previous life can still hold. A reused pid leading a new group started later than ours did, but
// then it is the leader with another start time, which the caller checks first.
std::vector<pid_t> members(pid_t pgid, unsigned long long since) {
  std::vector<pid_t> found;
  DIR* dir = ::opendir("/proc");
  if (!dir) return found;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    const auto f = read_fields(static_cast<pid_t>(pid));
    if (f && f->pgrp == pgid && f->state != 'Z' && f->state != 'X' && f->start >= since)
      found.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  return found;
}

}  // namespace

namespace process_detail {

void note_children_changed(const std::vector<pid_t>& running) {
  const auto& file = ledger_file();
  if (!file) return;
  std::string text = boot_id() + "\n";
  for (const pid_t pid : running)
    if (const auto f = read_fields(pid)) text += std::to_string(pid) + " " + std::to_string(f->start) + "\n";
  for (const auto& id : active_tracking_ids()) text += "track " + id + "\n";
  // Unsynced: the ledger only has to outlive the daemon, not the machine (after a power cut every
  // process it lists is gone, and the boot id says so), and an fsync per child would stall the loop
  // on a busy disk.
  if (auto error = write_file_atomically(*file, text, 0600, file_flush::unsynced)) {
    if (!ledger_failing())
      RLOG("redundancy", warning) << "cannot write the child ledger (a SIGKILL now would leave children running): "
                                  << *error;
    ledger_failing() = true;
  } else {
    ledger_failing() = false;
  }
}

}  // namespace process_detail

void use_child_ledger(std::filesystem::path file) { ledger_file() = std::move(file); }

std::vector<leftover_group> end_leftover_children(const std::filesystem::path& file, std::chrono::milliseconds grace) {
  std::vector<leftover_group> ended;
  // The fixed temporary name earlier versions wrote through (a link planted there was followed).
  std::error_code ignored;
  std::filesystem::remove(file.string() + ".tmp", ignored);
  std::ifstream in(file);
  if (!in) return ended;
  std::string boot;
  std::getline(in, boot);
  if (boot != boot_id()) return ended;  // written before a reboot: every process of it is gone
  std::vector<std::pair<pid_t, unsigned long long>> targets;
  std::vector<std::string> tracking_ids;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("track ")) {
      tracking_ids.push_back(line.substr(6));
      continue;
    }
    std::istringstream fields(line);
    long pgid = 0;
    unsigned long long start = 0;
    if (!(fields >> pgid >> start) || pgid <= 1) continue;
    // The leader, if still there, must be the very process we started.
    if (const auto leader = read_fields(static_cast<pid_t>(pgid)); leader && leader->start != start) continue;
    const auto found = members(static_cast<pid_t>(pgid), start);
    if (found.empty()) continue;
    ::kill(-static_cast<pid_t>(pgid), SIGTERM);
    targets.emplace_back(static_cast<pid_t>(pgid), start);
    ended.push_back({.pgid = static_cast<pid_t>(pgid), .members = found.size()});
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  const auto reap = [] {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  };
  for (;;) {
    reap();
    bool left = false;
    for (const auto& [pgid, start] : targets) left = left || !members(pgid, start).empty();
    if (!left) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      for (const auto& [pgid, start] : targets)
        if (!members(pgid, start).empty()) ::kill(-pgid, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      reap();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // A job's processes that left its group (`setsid x &`) carry its tracking id; each counts as its
  // own group here.
  for (const auto& id : tracking_ids)
    for (const pid_t pid : end_tracked_now(id, grace)) ended.push_back({.pgid = pid, .members = 1});
  std::error_code ec;
  std::filesystem::remove(file, ec);
  return ended;
}

}  // namespace redundancy
