// Writing a file so that readers see the old content or the new, never half of either.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace redundancy {

// Writes `content` to a temporary file beside `file`, fsyncs it, renames it over `file` and fsyncs the
// folder. Creates missing parent folders. Returns why it failed; the old file is untouched then.
std::optional<std::string> write_file_atomically(const std::filesystem::path& file, std::string_view content,
                                                 unsigned mode = 0644);

}  // namespace redundancy
