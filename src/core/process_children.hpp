// Internal to the process runner: the registry of children run_process has started, and the /proc
// look-ups that tell whether a process group still has members.
#pragma once
#include <sys/types.h>

#include <optional>
#include <vector>

namespace redundancy::process_detail {

// Rewrites the child ledger (core/child_ledger.cpp) with the children still running; nothing when no
// ledger is in use.
void note_children_changed(const std::vector<pid_t>& running);

// The registered children not yet reaped.
std::vector<pid_t> running_pids();

// Records a child just started; its pid is also its process group id.
void register_child(pid_t pid);

// Drops a child its run has reaped.
void forget_child(pid_t pid);

// The wait status of a registered child that terminate_all_children reaped behind its run's back.
std::optional<int> reaped_status(pid_t pid);

// Reaps the members of process group `pgid` that are this process's exited children (orphans
// re-parented to us as child subreaper). Call only once the group's leader is reaped, or this could
// take the leader's status from its run.
void reap_group_zombies(pid_t pgid);

// Whether any process in group `pgid` is still alive (zombies do not count).
bool group_has_live_members(pid_t pgid);

// Owns a started child for its run: registers it, and if the run's coroutine frame is destroyed
// while the child is still registered (the io_context went away mid-run), kills the group with
// SIGKILL and reaps the child there and then, so that no zombie and no stray group is left.
class child_guard {
 public:
  explicit child_guard(pid_t pid) : pid_(pid) { register_child(pid); }
  child_guard(const child_guard&) = delete;
  child_guard& operator=(const child_guard&) = delete;
  ~child_guard();

 private:
  pid_t pid_;
};

}  // namespace redundancy::process_detail
