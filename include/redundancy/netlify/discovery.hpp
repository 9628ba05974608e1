// Finding a project's Netlify Functions the way Netlify does, and telling v1 handlers from v2 ones.
#pragma once
#include <boost/system/result.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::netlify {

// v1: a named `handler` export (event, context) -> {statusCode, body}; v2: a default export
// (Request, context) -> Response; unknown: neither could be seen in the source.
enum class function_format { v1, v2, unknown };
std::string_view to_string(function_format f);
std::optional<function_format> format_from_string(std::string_view text);

// The language of an entry file, by extension: what can be syntax-checked with `node --check`.
enum class function_language { javascript, typescript, archive };

struct function_entry {
  std::string name{};            // the file name without extension, or the folder's name
  std::filesystem::path file{};  // the entry file, absolute
  std::string relative_path{};   // the entry file relative to the project, '/'-separated
  std::string extension{};       // ".js", ".mts", ... with the dot
  function_language language{function_language::javascript};
  function_format format{function_format::unknown};
  std::string hash{};     // content_hash of the entry file; empty when it cannot be read
  bool in_folder{false};  // a `name/` folder function rather than a single file
};

// The extensions Netlify accepts for a function, in the order it prefers them when a name collides
// and when it looks for a folder's entry file: .js, .ts, .mjs, .cjs, .tsx, .mts, .cts, then .zip.
const std::vector<std::string_view>& function_extensions();

// Lists the functions in `functions_dir` sorted by name. A file `name.<ext>` is a function, and so is
// a folder `name/` holding `name.<ext>` or `index.<ext>` (for each extension in order, the named file
// before index); a folder beats a file of the same name, node_modules and dot-entries are skipped.
// `project_dir` makes relative_path. Errors say why the folder could not be read.
boost::system::result<std::vector<function_entry>, std::string> discover_functions(
    const std::filesystem::path& project_dir, const std::filesystem::path& functions_dir);

// A light scan of JavaScript/TypeScript source with comments and string contents blanked: a named
// `handler` export is v1; a default export without one is v2; anything else is unknown.
function_format detect_format(std::string_view source);

// 64-bit FNV-1a of the bytes, as "fnv1a64:" and 16 lower-case hex digits. Not a security hash: it
// only tells whether a file changed.
std::string content_hash(std::string_view bytes);

}  // namespace redundancy::netlify
