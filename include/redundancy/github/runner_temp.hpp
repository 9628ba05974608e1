// The local runner's temporary folders (RUNNER_TEMP): made per run, and those of runs that were killed
// before they could remove their own found again and removed.
#pragma once
#include <filesystem>
#include <optional>
#include <vector>

namespace redundancy::github {

// A new folder `redundancy-runner-<our pid>-XXXXXX` in `parent`, mode 0700; nullopt when it cannot be
// made. The pid in the name is how remove_runner_temps_of_ended_runs tells a folder of a run that is
// still going (a CLI `run-local` beside the daemon) from one whose process is gone.
std::optional<std::filesystem::path> make_runner_temp(
    const std::filesystem::path& parent = std::filesystem::temp_directory_path());

// Removes the folders make_runner_temp made in `parent` for processes that no longer run: a run ended
// by SIGKILL leaves its steps' scripts and unmasked output there. Only real folders (never a link) of
// this user are touched. Returns what it removed.
std::vector<std::filesystem::path> remove_runner_temps_of_ended_runs(
    const std::filesystem::path& parent = std::filesystem::temp_directory_path());

}  // namespace redundancy::github
