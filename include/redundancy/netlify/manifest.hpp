// The functions manifest: what it holds, reading it, telling when it is stale, regenerating it.
#pragma once
#include "redundancy/core/health.hpp"
#include "redundancy/netlify/discovery.hpp"

#include <boost/system/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::netlify {

struct manifest_function {
  std::string name{};
  std::string path{};    // relative to the project, '/'-separated
  std::string format{};  // "v1", "v2", "unknown"; empty when the manifest did not say
  std::string hash{};    // empty when the manifest did not say
  bool operator==(const manifest_function&) const = default;
};

struct manifest {
  int version{1};
  std::string generated_at{};  // RFC 3339 UTC
  std::vector<manifest_function> functions{};
};

// The manifest entries for discovered functions, in the same (name) order.
std::vector<manifest_function> manifest_entries(const std::vector<function_entry>& functions);

// The manifest file's text: {"version", "generated_at", "generator", "functions": [...]}, one function per line.
std::string render_manifest(const std::vector<manifest_function>& functions, sys_time generated_at);

// Parses a manifest: an object with a "functions" array whose items have at least a "name", and a
// "path" (or zisi's "mainFile"). Errors carry the JSON path: `functions[2].name: expected a string`.
boost::system::result<manifest, std::string> parse_manifest(std::string_view text);

// Why the manifest no longer matches the functions on disk: a listed file that is missing, a present
// function it does not list, or a path, format or hash that differs. Empty when it is current.
// Listed paths are resolved against project_dir.
std::vector<std::string> manifest_problems(const manifest& m, const std::vector<function_entry>& functions,
                                           const std::filesystem::path& project_dir);

struct regenerate_outcome {
  bool written{false};  // the file was replaced
  std::size_t functions{0};
  std::string error{};  // empty on success (written or already current)
};

// Rediscovers the functions and writes the manifest atomically, only when its content apart from
// generated_at differs from what the file holds (or the file is missing or unreadable). A failed
// write leaves the old file as it was.
regenerate_outcome regenerate_manifest(const std::filesystem::path& project_dir,
                                       const std::filesystem::path& functions_dir,
                                       const std::filesystem::path& manifest_file, sys_time now);

}  // namespace redundancy::netlify
