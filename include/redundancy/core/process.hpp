// Runs external tools (pm2, node, git, bash, netlify) as child processes without blocking the loop.
#pragma once
#include "redundancy/core/asio.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace redundancy {

// Which of the daemon's environment variables a kind of child gets (child_env.cpp has the lists):
// never the whole environment, which holds the API token and whatever else the daemon was started with.
enum class child_env {
  base,         // PATH, HOME, USER, LANG, LC_*, TZ, TMPDIR, proxies...: every child, workflow steps and git
  node,         // base + NODE_*: node for functions and ecosystem files
  npm,          // node + npm_config_*/NPM_CONFIG_*: npm install/ci, the TypeScript check
  pm2,          // node + PM2_*: the pm2 CLI, and through it the PM2 daemon and its apps
  netlify_cli,  // npm + NETLIFY_*: the deploy command
};

struct process_spec {
  std::vector<std::string> argv{};           // argv[0] is looked up on PATH unless it holds a '/'; no shell
  std::filesystem::path cwd{};               // empty: the daemon's working directory
  child_env inherit{child_env::base};        // what it takes from the daemon's environment
  std::map<std::string, std::string> env{};  // added to (or replacing) what it inherits
  std::vector<std::string> unset_env{};      // removed from it; NOTIFY_SOCKET and WATCHDOG_* always are
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // zero or less: no time limit
  std::size_t output_cap{1024 * 1024};                          // per stream; the rest is read and dropped
  // A guess at stdout's size (the last run's): read into one allocation instead of growing by
  // copies, which for a 6 MB `pm2 jlist` cost more than parsing it. Zero: no guess.
  std::size_t expected_out{0};
  std::chrono::milliseconds kill_grace{std::chrono::seconds(2)};  // SIGTERM to SIGKILL on timeout
};

struct process_result {
  int exit_code{-1};   // -1 unless the child exited normally
  int term_signal{0};  // the signal that ended it, 0 if none
  std::string out{};
  std::string err{};
  std::chrono::milliseconds duration{};
  bool timed_out{false};
  bool truncated{false};                // stdout or stderr went over output_cap
  std::string error{};                  // could not start: "pm2: not found on PATH"; empty when it ran
  int pid{0};                           // the child's pid, which is also its process group id; 0 if it never started
  std::chrono::milliseconds timeout{};  // the spec's timeout, for describe()

  bool started() const { return error.empty(); }
  bool ok() const { return started() && !timed_out && term_signal == 0 && exit_code == 0; }
  // One line for logs and action steps: "exit 1", "killed by SIGKILL after timeout 20s", "pm2: not found".
  std::string describe() const;
};

// Runs the child in its own process group, with stdin on /dev/null and only fds 0-2 open. Output is
// read until both streams reach EOF and the child is reaped. On timeout, or when the awaiting
// coroutine is cancelled, the whole group gets SIGTERM, then SIGKILL after kill_grace, and the child
// is reaped before this returns (on cancellation it then rethrows operation_aborted). Members of the
// group still running after a normal exit are left alone. Never throws for a child's failure; a
// missing executable is a result with `error` set.
awaitable<process_result> run_process(process_spec spec);

// Ends process group `pgid` after its leader was reaped: the background processes a finished run
// left behind (a workflow step's `server &`). SIGTERM, up to `grace` for the members to exit, SIGKILL
// for the rest, and the members re-parented to us are reaped. Returns whether any member was still
// running. Zombies do not count.
awaitable<bool> end_process_group(int pgid, std::chrono::milliseconds grace);

// Ends every child process group still running (SIGTERM, a grace of up to `grace`, SIGKILL) and
// reaps them, then every process carrying a running job's tracking id (process_tracking.hpp).
// Called once at shutdown; blocks for at most twice `grace` plus a moment.
void terminate_all_children(std::chrono::milliseconds grace);

// The environment a child of `spec` gets from the daemon's environment `parent`: the names its
// spec.inherit allows, minus every REDUNDANCY_* variable (the API token among them), every withheld
// name and the service-only NOTIFY_SOCKET/WATCHDOG_*; then spec.env added (a child asked for
// explicitly gets it, service-only names aside) and spec.unset_env removed.
std::map<std::string, std::string> child_environment(const std::map<std::string, std::string>& parent,
                                                     const process_spec& spec);

// Names no child ever takes from the daemon's environment from now on, whatever its kind allows
// (github.token_env's variable: given only to the steps that ask for it, through spec.env).
void withhold_from_children(std::vector<std::string> names);

// How many children run_process has started that are not yet reaped.
std::size_t running_children();

// Reaps exited children that run_process did not start itself: descendants re-parented to this
// process when it is a child subreaper (prctl(PR_SET_CHILD_SUBREAPER), set by the daemon) and
// left behind by a finished run. Never touches a child a run is still waiting for. Scans /proc, so
// call it now and then (e.g. on a timer), not in a tight loop. Returns how many it reaped.
std::size_t reap_orphans();

}  // namespace redundancy
