// Tracking ids: a unique value in the environment (RUNNER_TRACKING_ID, as GitHub's runner does) of
// every process a workflow job starts, so that a process that left the job's process group
// (`setsid server &`, a double fork) is still found and ended when the job ends.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "redundancy/core/asio.hpp"

namespace redundancy {

// The environment variable that carries the id.
inline constexpr std::string_view tracking_variable = "RUNNER_TRACKING_ID";

// Processes of this user (zombies excluded, this process never) whose environment, as they were
// started, holds RUNNER_TRACKING_ID=id. A process that wiped its environment cannot be found.
std::vector<pid_t> processes_tracked_by(std::string_view id);

// Ends every process carrying `id`: SIGTERM, up to `grace` for them to exit, SIGKILL, and those
// re-parented to us are reaped. Blocks the thread (polling every 10 ms): for shutdown, start-up and
// destructors. Returns the pids it signalled.
std::vector<pid_t> end_tracked_now(std::string_view id, std::chrono::milliseconds grace);

// The ids of the jobs running now (the child ledger lists them, so the next start ends what a
// killed daemon's jobs left).
const std::set<std::string>& active_tracking_ids();

// Ends the processes of every active id (end_tracked_now); at shutdown, after the process groups.
void end_all_tracked_now(std::chrono::milliseconds grace);

// One job's id: fresh and active from construction (the ledger rewritten) until destruction. The
// destructor ends what still carries it, blocking, unless end() already did: a job whose coroutine
// is destroyed mid-step leaves nothing running either.
class tracked_job {
 public:
  tracked_job();
  tracked_job(const tracked_job&) = delete;
  tracked_job& operator=(const tracked_job&) = delete;
  ~tracked_job();

  const std::string& id() const { return id_; }

  // Ends the processes carrying the id without blocking the loop (SIGTERM, up to `grace`, SIGKILL,
  // reaped when they are our children). Returns how many were still running.
  awaitable<std::size_t> end(std::chrono::milliseconds grace);

 private:
  std::string id_;
  bool ended_{false};
};

}  // namespace redundancy
