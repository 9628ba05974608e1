// The daemon: one io_context that runs the scheduler, the subsystems and their servers until a signal.
#pragma once
#include "redundancy/core/config.hpp"

#include <filesystem>
#include <optional>

namespace redundancy {

struct daemon_options {
  std::optional<std::filesystem::path> config_file{};  // as given on the command line, for SIGHUP reloads
};

// Runs in the foreground until SIGTERM or SIGINT; SIGHUP reloads the config (an invalid one keeps the
// old config running). Returns the process exit code: 2 at once, having changed nothing, when another
// daemon holds <state_dir>/daemon.lock (its pid is named on stderr).
int run_daemon(config initial, const daemon_options& options);

}  // namespace redundancy
