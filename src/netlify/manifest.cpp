// Reading, comparing and regenerating the functions manifest.
#include "redundancy/netlify/manifest.hpp"

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/small_file.hpp"
#include "redundancy/core/time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <system_error>

namespace redundancy::netlify {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Reads an optional string member into `out`; returns the error, which names its JSON path.
std::optional<std::string> optional_string(const json::object& o, std::string_view key, const std::string& where,
                                           std::string& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) return where + "." + std::string{key} + ": expected a string";
  out = std::string{v->get_string()};
  return std::nullopt;
}

}  // namespace

std::vector<manifest_function> manifest_entries(const std::vector<function_entry>& functions) {
  std::vector<manifest_function> out;
  out.reserve(functions.size());
  for (const auto& f : functions)
    out.push_back(
        {.name = f.name, .path = f.relative_path, .format = std::string{to_string(f.format)}, .hash = f.hash});
  return out;
}

std::string render_manifest(const std::vector<manifest_function>& functions, sys_time generated_at) {
  std::string out =
      "{\n  \"version\": 1,\n  \"generated_at\": " + json::serialize(json::value(to_rfc3339_seconds(generated_at))) +
      ",\n  \"generator\": \"redundancy\",\n  \"functions\": [";
  for (std::size_t i = 0; i < functions.size(); ++i) {
    const auto& f = functions[i];
    json::object o{{"name", f.name}, {"path", f.path}, {"format", f.format}, {"hash", f.hash}};
    out += (i == 0 ? "\n    " : ",\n    ") + json::serialize(o);
  }
  out += functions.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

boost::system::result<manifest, std::string> parse_manifest(std::string_view text) {
  std::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return "not JSON: " + ec.message();
  if (!root.is_object()) return std::string{"expected an object"};
  const auto& top = root.get_object();
  manifest m;
  if (const auto* v = top.if_contains("version"); v != nullptr && v->is_int64())
    m.version = static_cast<int>(v->as_int64());
  if (const auto* v = top.if_contains("generated_at"); v != nullptr && v->is_string())
    m.generated_at = std::string{v->get_string()};
  const auto* list = top.if_contains("functions");
  if (list == nullptr) return std::string{"functions: missing"};
  if (!list->is_array()) return std::string{"functions: expected an array"};
  const auto& items = list->get_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string where = "functions[" + std::to_string(i) + "]";
    if (!items[i].is_object()) return where + ": expected an object";
    const auto& o = items[i].get_object();
    manifest_function f;
    const auto* name = o.if_contains("name");
    if (name == nullptr || !name->is_string() || name->get_string().empty())
      return where + ".name: expected a non-empty string";
    f.name = std::string{name->get_string()};
    if (auto e = optional_string(o, "path", where, f.path)) return *e;
    if (f.path.empty())
      if (auto e = optional_string(o, "mainFile", where, f.path)) return *e;
    if (auto e = optional_string(o, "format", where, f.format)) return *e;
    if (auto e = optional_string(o, "hash", where, f.hash)) return *e;
    m.functions.push_back(std::move(f));
  }
  return m;
}

std::vector<std::string> manifest_problems(const manifest& m, const std::vector<function_entry>& functions,
                                           const fs::path& project_dir) {
  std::vector<std::string> problems;
  std::map<std::string, const function_entry*> present;
  for (const auto& f : functions) present[f.name] = &f;
  std::map<std::string, const manifest_function*> listed;
  for (const auto& f : m.functions) {
    if (!listed.emplace(f.name, &f).second) {
      problems.push_back(f.name + ": listed twice");
      continue;
    }
    const fs::path file = fs::path{f.path}.is_absolute() ? fs::path{f.path} : project_dir / f.path;
    std::error_code ec;
    if (f.path.empty() || !fs::exists(file, ec)) {
      problems.push_back(f.name + ": listed file " + (f.path.empty() ? "(none)" : f.path) + " is missing");
      continue;
    }
    const auto it = present.find(f.name);
    if (it == present.end()) {
      problems.push_back(f.name + ": listed but not a function any more");
      continue;
    }
    const auto& now = *it->second;
    if (f.path != now.relative_path && file != now.file)
      problems.push_back(f.name + ": listed as " + f.path + ", now " + now.relative_path);
    else if (f.format != to_string(now.format))
      problems.push_back(f.name + ": listed as " + (f.format.empty() ? "no format" : f.format) + ", now " +
                         std::string{to_string(now.format)});
    else if (f.hash != now.hash)
      problems.push_back(f.name + ": changed since the manifest was written");
  }
  for (const auto& f : functions)
    if (!listed.contains(f.name)) problems.push_back(f.name + ": present but not listed");
  return problems;
}

regenerate_outcome regenerate_manifest(const fs::path& project_dir, const fs::path& functions_dir,
                                       const fs::path& manifest_file, sys_time now) {
  regenerate_outcome out;
  auto found = discover_functions(project_dir, functions_dir);
  if (!found) {
    out.error = found.error();
    return out;
  }
  const auto entries = manifest_entries(*found);
  out.functions = entries.size();
  if (const auto text = read_small_file(manifest_file)) {
    if (const auto old = parse_manifest(*text); old && old->version == 1 && old->functions == entries) return out;
  }
  if (auto failed = write_file_atomically(manifest_file, render_manifest(entries, now))) {
    out.error = "cannot write " + manifest_file.string() + ": " + *failed;
    return out;
  }
  out.written = true;
  return out;
}

}  // namespace redundancy::netlify
