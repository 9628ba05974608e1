// Writing a file so that readers see the old content or the new, never half of either.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy {

// Whether the new content must survive a power cut (fsync of the file and the folder) or only the
// daemon (a crash or kill of the process keeps it either way).
enum class file_flush { synced, unsynced };

// Writes `content` to a new temporary file beside `file` (".<name>.redundancy-tmp-<random>", created
// with O_EXCL|O_NOFOLLOW relative to the opened folder, so a symlink planted at any name is never
// followed), sets `mode` exactly, fsyncs it, renames it over `file` (replacing a symlink there, not
// its target) and fsyncs the folder. Creates missing parent folders. Returns why it failed; the old
// file is untouched then and no temporary file is left.
std::optional<std::string> write_file_atomically(const std::filesystem::path& file, std::string_view content,
                                                 unsigned mode = 0644, file_flush flush = file_flush::synced);

// Whether `name` (a file name, no folder) is a temporary file of write_file_atomically, of this version
// or of an earlier one (".<name>.tmp-<pid>", ".<name>.tmp.<pid>").
bool is_atomic_leftover(std::string_view name);

// Removes the temporary files a killed writer left in `folder` (files and links whose names pass
// is_atomic_leftover; never a folder, never a link's target). Only safe while no one writes there:
// the daemon calls it at start, holding its state_dir lock. Returns what it removed.
std::vector<std::filesystem::path> remove_atomic_leftovers(const std::filesystem::path& folder);

}  // namespace redundancy
