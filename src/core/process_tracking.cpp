// Finding and ending the processes that carry a job's tracking id, by their environments in /proc.
#include "redundancy/core/process_tracking.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include "process_children.hpp"

namespace redundancy {
namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A /proc scan reads every process's environment: often enough to end promptly, no more.
constexpr auto scan_step = 50ms;
constexpr auto after_kill_limit = 1s;
// Environments are read up to this size; a longer one is searched in what was read.
constexpr std::size_t environ_cap = 1 << 20;

std::set<std::string>& active() {
  static std::set<std::string> ids;
  return ids;
}

void ledger_changed() { process_detail::note_children_changed(process_detail::running_pids()); }

// 'Z' (zombie), 'X' (dead) or another state from /proc/PID/stat; '?' when it is gone.
char state_of(pid_t pid) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return '?';
  char buf[512];
  const auto n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return '?';
  const std::string_view text(buf, static_cast<std::size_t>(n));
  const auto close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size()) return '?';
  return text[close + 2];
}

// Whether /proc/PID/environ holds the entry exactly ("\0NAME=id\0", the first entry too).
bool carries(pid_t pid, const std::string& entry) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/environ", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // gone, or not ours to read
  std::string env(1, '\0');
  char buf[16 * 1024];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    env.append(buf, static_cast<std::size_t>(n));
    if (env.size() > environ_cap) break;
  }
  ::close(fd);
  env.push_back('\0');
  return env.find(entry) != std::string::npos;
}

// Reaps the ones that are our exited children and that no run is waiting for.
void reap(const std::vector<pid_t>& pids) {
  const auto running = process_detail::running_pids();
  for (const pid_t pid : pids)
    if (std::find(running.begin(), running.end(), pid) == running.end())
      while (::waitpid(pid, nullptr, WNOHANG) == -1 && errno == EINTR) {
      }
}

void signal_all(const std::vector<pid_t>& pids, int sig) {
  for (const pid_t pid : pids) ::kill(pid, sig);
}

std::string fresh_id() {
  std::random_device random;
  char text[40];
  std::snprintf(text, sizeof text, "redundancy-%08x%08x%08x", random(), random(), random());
  return text;
}

}  // namespace

std::vector<pid_t> processes_tracked_by(std::string_view id) {
  std::vector<pid_t> found;
  if (id.empty()) return found;
  std::string entry;
  entry.reserve(tracking_variable.size() + id.size() + 3);
  entry.append(1, '\0').append(tracking_variable).append("=").append(id).append(1, '\0');
  const pid_t self = ::getpid();
  const uid_t uid = ::getuid();
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return found;
  while (const dirent* d = ::readdir(dir)) {
    pid_t pid = 0;
    const char* end = d->d_name + std::strlen(d->d_name);
    if (auto r = std::from_chars(d->d_name, end, pid); r.ec != std::errc{} || r.ptr != end) continue;
    if (pid == self) continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir), d->d_name, &st, 0) != 0 || st.st_uid != uid) continue;
    const char state = state_of(pid);
    if (state == 'Z' || state == 'X' || state == '?') continue;
    if (carries(pid, entry)) found.push_back(pid);
  }
  ::closedir(dir);
  return found;
}

std::vector<pid_t> end_tracked_now(std::string_view id, std::chrono::milliseconds grace) {
  std::vector<pid_t> signalled = processes_tracked_by(id);
  if (signalled.empty()) return signalled;
  signal_all(signalled, SIGTERM);
  const auto poll = [&](steady::time_point deadline) {
    for (;;) {
      reap(signalled);
      const auto left = processes_tracked_by(id);
      if (left.empty()) return true;
      for (const pid_t pid : left)  // started meanwhile by one of them
        if (std::find(signalled.begin(), signalled.end(), pid) == signalled.end()) {
          signalled.push_back(pid);
          ::kill(pid, SIGTERM);
        }
      if (steady::now() >= deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
  };
  if (!poll(steady::now() + grace)) {
    signal_all(processes_tracked_by(id), SIGKILL);
    poll(steady::now() + after_kill_limit);
  }
  reap(signalled);
  return signalled;
}

const std::set<std::string>& active_tracking_ids() { return active(); }

void end_all_tracked_now(std::chrono::milliseconds grace) {
  for (const auto& id : active()) end_tracked_now(id, grace);
}

tracked_job::tracked_job() : id_(fresh_id()) {
  active().insert(id_);
  ledger_changed();
}

tracked_job::~tracked_job() {
  if (!ended_) end_tracked_now(id_, 2s);
  active().erase(id_);
  ledger_changed();
}

awaitable<std::size_t> tracked_job::end(std::chrono::milliseconds grace) {
  std::vector<pid_t> signalled = processes_tracked_by(id_);
  if (signalled.empty()) {
    ended_ = true;
    co_return 0;
  }
  const std::size_t count = signalled.size();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  signal_all(signalled, SIGTERM);
  auto deadline = steady::now() + grace;
  bool killed = false;
  for (;;) {
    reap(signalled);
    const auto left = processes_tracked_by(id_);
    if (left.empty()) break;
    for (const pid_t pid : left)
      if (std::find(signalled.begin(), signalled.end(), pid) == signalled.end()) {
        signalled.push_back(pid);
        ::kill(pid, killed ? SIGKILL : SIGTERM);
      }
    if (steady::now() >= deadline) {
      if (killed) break;
      signal_all(left, SIGKILL);
      killed = true;
      deadline = steady::now() + after_kill_limit;
    }
    timer.expires_after(scan_step);
    co_await timer.async_wait(asio::use_awaitable);
  }
  reap(signalled);
  ended_ = true;  // not before: cut short (cancelled), the destructor ends them
  co_return count;
}

}  // namespace redundancy
