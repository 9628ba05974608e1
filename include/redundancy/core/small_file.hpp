// Reading a small file whole: a token, a state file, a workflow, a /proc entry.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

namespace redundancy {

// The file's bytes as they are; nullopt when it cannot be opened or read.
std::optional<std::string> read_small_file(const std::filesystem::path& file);

}  // namespace redundancy
