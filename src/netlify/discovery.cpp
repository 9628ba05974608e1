// Function discovery, v1/v2 detection and content hashes, by Netlify's rules.
#include "redundancy/netlify/discovery.hpp"

#include "redundancy/core/small_file.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <regex>
#include <system_error>

namespace redundancy::netlify {
namespace fs = std::filesystem;

namespace {

// The preference rank of an extension, or nullopt when Netlify would not take the file.
std::optional<std::size_t> extension_rank(std::string_view ext) {
  const auto& all = function_extensions();
  const auto it = std::find(all.begin(), all.end(), ext);
  if (it == all.end()) return std::nullopt;
  return static_cast<std::size_t>(it - all.begin());
}

function_language language_of(std::string_view ext) {
  if (ext == ".zip") return function_language::archive;
  if (ext == ".ts" || ext == ".tsx" || ext == ".mts" || ext == ".cts") return function_language::typescript;
  return function_language::javascript;
}

std::string relative_to(const fs::path& file, const fs::path& base) {
  std::error_code ec;
  const auto rel = fs::relative(file, base, ec);
  // A functions folder outside the project keeps its absolute path: still unambiguous.
  if (ec || rel.empty() || *rel.begin() == "..") return file.generic_string();
  return rel.generic_string();
}

function_entry make_entry(const fs::path& project_dir, const std::string& name, const fs::path& file, bool in_folder) {
  function_entry e;
  e.name = name;
  e.file = file;
  e.relative_path = relative_to(file, project_dir);
  e.extension = file.extension().string();
  e.language = language_of(e.extension);
  e.in_folder = in_folder;
  if (auto text = read_small_file(file)) {
    e.hash = content_hash(*text);
    if (e.language != function_language::archive) e.format = detect_format(*text);
  }
  return e;
}

// The entry file of a folder function, searched as Netlify does: for each extension in order, the
// file named after the folder first, then index.
std::optional<fs::path> folder_entry(const fs::path& folder) {
  const std::string name = folder.filename().string();
  for (const auto ext : function_extensions()) {
    for (const auto& stem : {name, std::string{"index"}}) {
      const fs::path candidate = folder / (stem + std::string{ext});
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec)) return candidate;
    }
  }
  return std::nullopt;
}

// Copies JavaScript source with comments and the contents of string and template literals replaced
// by spaces (newlines kept), so that the export patterns below never match inside either.
std::string blank_comments_and_strings(std::string_view src) {
  std::string out{src};
  enum class mode { code, line_comment, block_comment, single, dbl, templ } m = mode::code;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = src[i];
    const char next = i + 1 < src.size() ? src[i + 1] : '\0';
    auto blank = [&](std::size_t at) {
      if (out[at] != '\n') out[at] = ' ';
    };
    switch (m) {
      case mode::code:
        if (c == '/' && next == '/') {
          m = mode::line_comment;
          blank(i);
        } else if (c == '/' && next == '*') {
          m = mode::block_comment;
          blank(i);
          blank(++i);
        } else if (c == '\'') {
          m = mode::single;
        } else if (c == '"') {
          m = mode::dbl;
        } else if (c == '`') {
          m = mode::templ;
        }
        break;
      case mode::line_comment:
        if (c == '\n')
          m = mode::code;
        else
          blank(i);
        break;
      case mode::block_comment:
        if (c == '*' && next == '/') {
          blank(i);
          blank(++i);
          m = mode::code;
        } else {
          blank(i);
        }
        break;
      case mode::single:
      case mode::dbl:
      case mode::templ: {
        const char quote = m == mode::single ? '\'' : m == mode::dbl ? '"' : '`';
        if (c == '\\') {
          blank(i);
          if (i + 1 < out.size()) blank(++i);
        } else if (c == quote) {
          m = mode::code;
        } else if (c == '\n' && m != mode::templ) {
          m = mode::code;  // an unterminated string: resynchronise at the line end
        } else {
          blank(i);
        }
        break;
      }
    }
  }
  return out;
}

bool matches_any(const std::string& text, const std::vector<std::regex>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::regex& r) { return std::regex_search(text, r); });
}

}  // namespace

std::string_view to_string(function_format f) {
  switch (f) {
    case function_format::v1:
      return "v1";
    case function_format::v2:
      return "v2";
    case function_format::unknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<function_format> format_from_string(std::string_view text) {
  if (text == "v1") return function_format::v1;
  if (text == "v2") return function_format::v2;
  if (text == "unknown") return function_format::unknown;
  return std::nullopt;
}

const std::vector<std::string_view>& function_extensions() {
  static const std::vector<std::string_view> all{".js", ".ts", ".mjs", ".cjs", ".tsx", ".mts", ".cts", ".zip"};
  return all;
}

boost::system::result<std::vector<function_entry>, std::string> discover_functions(const fs::path& project_dir,
                                                                                   const fs::path& functions_dir) {
  std::error_code ec;
  if (!fs::is_directory(functions_dir, ec)) return "functions folder " + functions_dir.string() + " does not exist";
  fs::directory_iterator it{functions_dir, ec};
  if (ec) return "cannot read " + functions_dir.string() + ": " + ec.message();

  struct candidate {
    fs::path file{};
    std::size_t rank{0};
  };
  std::map<std::string, fs::path> folders;  // name -> entry file
  std::map<std::string, candidate> files;   // name -> best file so far
  for (; it != fs::directory_iterator{}; it.increment(ec)) {
    if (ec) return "cannot read " + functions_dir.string() + ": " + ec.message();
    const fs::path path = it->path();
    const std::string filename = path.filename().string();
    if (filename.empty() || filename.front() == '.' || filename == "node_modules") continue;
    std::error_code type_ec;
    if (fs::is_directory(path, type_ec)) {
      if (auto entry = folder_entry(path)) folders[filename] = *entry;
    } else if (fs::is_regular_file(path, type_ec)) {
      const auto rank = extension_rank(path.extension().string());
      if (!rank) continue;
      const std::string name = path.stem().string();
      auto found = files.find(name);
      if (found == files.end() || *rank < found->second.rank) files[name] = {path, *rank};
    }
  }

  std::vector<function_entry> out;
  for (const auto& [name, entry] : folders) out.push_back(make_entry(project_dir, name, entry, true));
  for (const auto& [name, best] : files)
    if (!folders.contains(name)) out.push_back(make_entry(project_dir, name, best.file, false));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

function_format detect_format(std::string_view source) {
  static const std::vector<std::regex> handler_exports{
      std::regex{R"(\bexports\s*\.\s*handler\s*=)"},
      std::regex{R"(\bmodule\s*\.\s*exports\s*=\s*\{[^}]*\bhandler\b)"},
      std::regex{R"(\bexport\s+(async\s+)?function\s*\*?\s*handler\b)"},
      std::regex{R"(\bexport\s+(const|let|var)\s+handler\b)"},
      std::regex{R"(\bexport\s*\{[^}]*\bhandler\s*[,}])"},
  };
  static const std::vector<std::regex> default_exports{
      std::regex{R"(\bexport\s+default\b)"},
      std::regex{R"(\bexport\s*\{[^}]*\bas\s+default\b)"},
  };
  const std::string code = blank_comments_and_strings(source);
  if (matches_any(code, handler_exports)) return function_format::v1;
  if (matches_any(code, default_exports)) return function_format::v2;
  return function_format::unknown;
}

std::string content_hash(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  std::array<char, 17> hex{};
  std::snprintf(hex.data(), hex.size(), "%016llx", static_cast<unsigned long long>(h));
  return "fnv1a64:" + std::string{hex.data(), 16};
}

}  // namespace redundancy::netlify
