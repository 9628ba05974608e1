// Starts one child process with posix_spawn and hands it to a Boost.Process v2 handle for the async
// wait. The fixes needed for Process v2's launcher in 1.81 are built in: our
// own process group, no inherited descriptors, exec failures reported (and the child reaped) instead
// of thrown, an environment we build ourselves (child_env.cpp), and a PATH lookup.
//
// Why not Process v2's launchers: they fork(), and fork copies the daemon's page tables and then pays
// a copy-on-write fault for every page the loop touches until the child execs. Measured here, with a
// 64 MiB heap: fork 5 ms of the loop's CPU per launch, posix_spawn (clone with CLONE_VM|CLONE_VFORK)
// 0.5 ms; with 20 children started around a 100 ms timer, fork let the timer slip by 300-800 ms on a
// loaded machine. default_process_launcher also blocks in read() until the child has exec'ed, and
// vfork_launcher runs asio's fork hooks inside the vfork child, in memory it shares with us.
#include "process_launch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#ifndef BOOST_PROCESS_V2_DISABLE_PIDFD_OPEN
#error \
    "the pidfd process handle does a blocking waitpid that freezes the loop; define BOOST_PROCESS_V2_DISABLE_PIDFD_OPEN"
#endif

extern char** environ;

namespace redundancy::process_detail {
namespace {

constexpr const char* default_path = "/usr/local/bin:/usr/bin:/bin";

// Closes a descriptor it owns.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_{-1};
};

// posix_spawn's file actions and attributes, destroyed however the launch ends.
struct spawn_plan {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};
  spawn_plan() {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attributes);
  }
  spawn_plan(const spawn_plan&) = delete;
  spawn_plan& operator=(const spawn_plan&) = delete;
  ~spawn_plan() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
  }
};

// The child's environment (child_environment: what its kind allows of ours, plus spec.env).
std::map<std::string, std::string> merged_environment(const process_spec& spec) {
  std::map<std::string, std::string> parent;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view kv(*entry);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    parent.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));  // the first one wins, as in getenv
  }
  return child_environment(parent, spec);
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Looks `name` up on `path_value` as execvp would; relative entries count from the child's cwd.
std::optional<std::string> find_on_path(const std::string& name, std::string_view path_value,
                                        const std::filesystem::path& cwd) {
  std::size_t start = 0;
  for (;;) {
    const auto colon = path_value.find(':', start);
    std::string dir(path_value.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (dir.empty()) dir = ".";
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (candidate.is_relative() && !cwd.empty()) candidate = cwd / candidate;
    if (is_executable_file(candidate.string())) return candidate.string();
    if (colon == std::string_view::npos) return std::nullopt;
    start = colon + 1;
  }
}

std::string errno_text(int error) { return std::strerror(error); }

// A pipe whose ends are both close-on-exec; the child's copy is dup2'ed onto 1 or 2, which clears it.
bool make_pipe(unique_fd& read_end, unique_fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return false;
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return true;
}

// Fills `plan` for the child: cwd, stdin from /dev/null, stdout and stderr on our pipes, every other
// descriptor closed (the listening socket and log files never leak, whether or not they are
// close-on-exec), a new process group of its own, default signal handling and an empty mask (what
// we ignore or block would otherwise be inherited through exec). Returns 0 or an errno.
int plan_child(spawn_plan& plan, const char* cwd, int out_fd, int err_fd) {
  auto* actions = &plan.actions;
  if (cwd != nullptr)
    if (int e = ::posix_spawn_file_actions_addchdir_np(actions, cwd)) return e;
  if (int e = ::posix_spawn_file_actions_addopen(actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) return e;
  if (int e = ::posix_spawn_file_actions_adddup2(actions, out_fd, STDOUT_FILENO)) return e;
  if (int e = ::posix_spawn_file_actions_adddup2(actions, err_fd, STDERR_FILENO)) return e;
  if (int e = ::posix_spawn_file_actions_addclosefrom_np(actions, 3)) return e;

  auto* attributes = &plan.attributes;
  sigset_t all, none;
  ::sigfillset(&all);
  ::sigemptyset(&none);
  if (int e = ::posix_spawnattr_setsigdefault(attributes, &all)) return e;
  if (int e = ::posix_spawnattr_setsigmask(attributes, &none)) return e;
  // Group 0: the child's own pid. A timeout then ends the whole tree (`sh -c 'a | b'`), not just sh.
  if (int e = ::posix_spawnattr_setpgroup(attributes, 0)) return e;
  const short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  return ::posix_spawnattr_setflags(attributes, flags);
}

}  // namespace

launch_outcome launch_child(const asio::any_io_executor& executor, const process_spec& spec) {
  launch_outcome outcome;
  if (spec.argv.empty() || spec.argv.front().empty()) {
    outcome.error = "no command given";
    return outcome;
  }
  for (const auto& [key, value] : spec.env) {
    if (key.empty() || key.find('=') != std::string::npos) {
      outcome.error = "invalid environment variable name \"" + key + "\"";
      return outcome;
    }
  }

  const auto env = merged_environment(spec);
  const std::string& name = spec.argv.front();
  std::string executable = name;
  if (name.find('/') == std::string::npos) {
    const auto path_entry = env.find("PATH");
    const std::string path_value = path_entry == env.end() ? std::string(default_path) : path_entry->second;
    auto found = find_on_path(name, path_value, spec.cwd);
    if (!found) {
      outcome.error = name + ": not found on PATH";
      return outcome;
    }
    executable = std::move(*found);
  }

  // Storage the child's argv and envp point into: it must outlive the launch.
  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string cwd = spec.cwd.string();
  // posix_spawn reports a bad cwd and a bad executable alike (ENOENT): check the cwd first, so that
  // the message says which one it was.
  if (!cwd.empty()) {
    struct stat st {};
    const int problem = ::stat(cwd.c_str(), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (problem != 0) {
      outcome.error = "cannot enter working directory " + cwd + ": " + errno_text(problem);
      return outcome;
    }
  }

  unique_fd out_read, out_write, err_read, err_write;
  if (!make_pipe(out_read, out_write) || !make_pipe(err_read, err_write)) {
    outcome.error = "cannot create the child's pipes: " + errno_text(errno);
    return outcome;
  }
  asio::readable_pipe out(executor);
  asio::readable_pipe err(executor);
  boost::system::error_code ec;
  out.assign(out_read.get(), ec);
  if (!ec) out_read.release();
  if (!ec) err.assign(err_read.get(), ec);
  if (!ec) err_read.release();
  if (ec) {
    outcome.error = "cannot watch the child's pipes: " + ec.message();
    return outcome;
  }

  spawn_plan plan;
  if (const int e = plan_child(plan, cwd.empty() ? nullptr : cwd.c_str(), out_write.get(), err_write.get())) {
    outcome.error = "cannot prepare the child: " + errno_text(e);
    return outcome;
  }
  // Returns once the child has exec'ed or failed to; glibc reaps a child whose exec failed, so a
  // failure leaves no zombie.
  pid_t pid = 0;
  const int spawn_error =
      ::posix_spawn(&pid, executable.c_str(), &plan.actions, &plan.attributes, argv.data(), envp.data());
  // Our copies of the child's ends: closing them is what lets EOF arrive when the child is done.
  out_write.reset();
  err_write.reset();
  if (spawn_error != 0) {
    outcome.error = name + ": " + errno_text(spawn_error);
    return outcome;
  }
  outcome.child.emplace(launched_child{child_handle(executor, pid), std::move(out), std::move(err)});
  return outcome;
}

}  // namespace redundancy::process_detail
