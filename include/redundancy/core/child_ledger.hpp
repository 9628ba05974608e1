// The child ledger: a small file in state_dir listing the process groups of the children the daemon
// is running, so that a daemon killed with SIGKILL (no chance to end them) has its leftovers ended by
// the next start instead of leaving a hung `pm2` or deploy running for ever.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace redundancy {

// From now on, every child run_process starts or reaps rewrites `file` (one "PGID STARTTIME" line per
// running child; STARTTIME from /proc/PID/stat, which tells a reused pid from ours). A write that
// fails is logged once and retried with the next change.
void use_child_ledger(std::filesystem::path file);

// One group found in the ledger of a previous life.
struct leftover_group {
  pid_t pgid{0};
  std::size_t members{0};  // processes it still had when found
};

// Reads the ledger a previous life left (before use_child_ledger), ends every group in it that still
// holds processes of that life (SIGTERM, up to `grace`, SIGKILL), reaps those that are our children,
// and empties the file. Returns the groups it ended. Missing or unreadable file: nothing to do.
std::vector<leftover_group> end_leftover_children(const std::filesystem::path& file, std::chrono::milliseconds grace);

}  // namespace redundancy
