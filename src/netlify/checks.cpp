// Present, syntax and dependency checks of one function.
#include "redundancy/netlify/checks.hpp"

#include "redundancy/core/process.hpp"
#include "redundancy/core/small_file.hpp"
#include "redundancy/netlify/embedded_js.hpp"  // generated from batch_check.cjs

#include <boost/json/parse.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <system_error>

namespace redundancy::netlify {
namespace fs = std::filesystem;

namespace {

// Node prints "FILE:LINE\n<source line>\n<caret>\n\nSyntaxError: ...\n    at ...": the error line and
// the location are what a person needs.
std::string summarise_node_error(std::string_view err) {
  std::string location;
  std::string error_line;
  std::size_t start = 0;
  while (start < err.size()) {
    auto end = err.find('\n', start);
    if (end == std::string_view::npos) end = err.size();
    const std::string_view line = err.substr(start, end - start);
    if (location.empty() && !line.empty()) location = std::string{line};
    if (error_line.empty() && line.find("Error") != std::string_view::npos && !line.starts_with("    at "))
      error_line = std::string{line};
    start = end + 1;
  }
  if (error_line.empty()) return tail_of(err, 300);
  if (location.empty() || location == error_line) return error_line;
  return error_line + " (" + location + ")";
}

bool is_inside(const fs::path& child, const fs::path& parent) {
  const auto rel = child.lexically_normal().lexically_relative(parent.lexically_normal());
  return !rel.empty() && *rel.begin() != "..";
}

std::optional<fs::file_time_type> mtime(const fs::path& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  if (ec) return std::nullopt;
  return t;
}

}  // namespace

std::string_view to_string(check_state s) {
  switch (s) {
    case check_state::ok:
      return "ok";
    case check_state::failed:
      return "failed";
    case check_state::unchecked:
      return "unchecked";
    case check_state::unknown:
      return "unknown";
  }
  return "unknown";
}

boost::json::object to_json(const check_result& r) {
  return {{"ok", !r.failed()}, {"state", to_string(r.state)}, {"reason", r.reason}};
}

check_result check_present(const function_entry& function) {
  std::error_code ec;
  const auto st = fs::status(function.file, ec);
  if (ec || !fs::exists(st)) return check_result::fail(function.relative_path + " is missing");
  if (!fs::is_regular_file(st)) return check_result::fail(function.relative_path + " is not a regular file");
  std::ifstream in{function.file, std::ios::binary};
  char c;
  in.get(c);
  if (!in && !in.eof()) return check_result::fail(function.relative_path + " cannot be read");
  return check_result::pass();
}

awaitable<check_result> check_syntax(const function_entry& function,
                                     const std::optional<std::vector<std::string>>& typescript_check,
                                     const fs::path& project_dir, std::chrono::milliseconds timeout) {
  process_spec spec;
  spec.inherit = child_env::npm;  // node, or the TypeScript check (often npx tsc)
  spec.timeout = timeout;
  spec.output_cap = 64 * 1024;
  switch (function.language) {
    case function_language::archive:
      co_return check_result::skip("a zip archive is deployed as it is");
    case function_language::typescript:
      if (!typescript_check || typescript_check->empty())
        co_return check_result::skip("TypeScript is not checked (netlify.typescript_check is not set)");
      spec.argv = *typescript_check;
      spec.argv.push_back(function.file.string());
      spec.cwd = project_dir;
      break;
    case function_language::javascript:
      spec.argv = {"node", "--check", function.file.string()};
      spec.cwd = function.file.parent_path();
      break;
  }
  const std::string tool = spec.argv.front();
  const auto r = co_await run_process(std::move(spec));
  if (!r.started()) co_return check_result::cannot_tell(r.error);
  if (r.timed_out) co_return check_result::cannot_tell(tool + " " + r.describe());
  if (r.ok()) co_return check_result::pass();
  if (function.language == function_language::javascript) co_return check_result::fail(summarise_node_error(r.err));
  co_return check_result::fail(r.describe() + ": " + tail_of(r.out + r.err, 500));
}

namespace {

constexpr std::size_t batch_size = 200;

}  // namespace

awaitable<std::vector<check_result>> check_syntax_all(const std::vector<function_entry>& functions,
                                                      const std::optional<std::vector<std::string>>& typescript_check,
                                                      const fs::path& project_dir, std::chrono::milliseconds timeout) {
  std::vector<std::optional<check_result>> verdicts(functions.size());
  std::vector<std::size_t> javascript;
  for (std::size_t i = 0; i < functions.size(); ++i)
    if (functions[i].language == function_language::javascript) javascript.push_back(i);
  for (std::size_t from = 0; from < javascript.size(); from += batch_size) {
    const auto to = std::min(javascript.size(), from + batch_size);
    process_spec spec;
    spec.argv = {"node", "--experimental-vm-modules", "--no-warnings", "-e", std::string{batch_check_js}};
    for (auto k = from; k < to; ++k) spec.argv.push_back(functions[javascript[k]].file.string());
    spec.cwd = project_dir.empty() ? fs::path{"/"} : project_dir;
    spec.inherit = child_env::node;
    spec.timeout = timeout;
    spec.output_cap = 4 * 1024 * 1024;
    const auto r = co_await run_process(std::move(spec));
    if (!r.ok() || r.truncated) continue;  // each file of this batch is checked on its own below
    std::set<std::string_view> passed;
    for (std::size_t start = 0; start < r.out.size();) {
      auto end = r.out.find('\n', start);
      if (end == std::string::npos) end = r.out.size();
      const std::string_view line{r.out.data() + start, end - start};
      if (line.starts_with("ok ")) passed.insert(line.substr(3));
      start = end + 1;
    }
    for (auto k = from; k < to; ++k)
      if (passed.contains(functions[javascript[k]].file.string())) verdicts[javascript[k]] = check_result::pass();
  }
  std::vector<check_result> out;
  out.reserve(functions.size());
  for (std::size_t i = 0; i < functions.size(); ++i) {
    // Not `co_await` inside a conditional expression: g++ 12 miscompiles that.
    if (verdicts[i]) {
      out.push_back(std::move(*verdicts[i]));
      continue;
    }
    auto own = co_await check_syntax(functions[i], typescript_check, project_dir, timeout);
    out.push_back(std::move(own));
  }
  co_return out;
}

dependency_status check_dependencies(const function_entry& function, const fs::path& functions_dir,
                                     const fs::path& project_dir) {
  dependency_status out;
  const fs::path stop = is_inside(functions_dir, project_dir) ? project_dir : functions_dir;
  std::optional<fs::path> package_dir;
  for (fs::path dir = function.file.parent_path();; dir = dir.parent_path()) {
    std::error_code ec;
    if (fs::is_regular_file(dir / "package.json", ec)) {
      package_dir = dir;
      break;
    }
    if (dir.lexically_normal() == stop.lexically_normal() || !dir.has_parent_path() || dir == dir.parent_path() ||
        !is_inside(dir, stop))
      break;
  }
  if (!package_dir) {
    out.result = check_result::pass("no package.json");
    return out;
  }
  out.package_dir = package_dir;
  const std::string where = fs::relative(*package_dir, project_dir).generic_string();
  const std::string shown = where.empty() || where == "." ? std::string{"the project"} : where;
  const auto text = read_small_file(*package_dir / "package.json");
  std::error_code ec;
  const auto doc = text ? boost::json::parse(*text, ec) : boost::json::value{};
  if (!text || ec || !doc.is_object()) {
    out.result = check_result::fail(shown + "/package.json cannot be read as JSON");
    return out;
  }
  for (const char* lock : {"package-lock.json", "npm-shrinkwrap.json"})
    if (fs::exists(*package_dir / lock, ec)) out.has_lock = true;
  const auto* deps = doc.get_object().if_contains("dependencies");
  if (deps == nullptr || !deps->is_object() || deps->get_object().empty()) {
    out.result = check_result::pass("no dependencies");
    return out;
  }
  const fs::path modules = *package_dir / "node_modules";
  if (!fs::is_directory(modules, ec)) {
    out.result = check_result::fail("node_modules is missing in " + shown);
    return out;
  }
  for (const auto& [name, version] : deps->get_object()) {
    (void)version;
    if (!fs::exists(modules / std::string{name} / "package.json", ec)) {
      out.result = check_result::fail("dependency " + std::string{name} + " is not installed in " + shown);
      return out;
    }
  }
  // npm rewrites node_modules/.package-lock.json on every install; the folder's own time is the fallback.
  const auto installed =
      fs::exists(modules / ".package-lock.json", ec) ? mtime(modules / ".package-lock.json") : mtime(modules);
  for (const char* lock : {"package-lock.json", "npm-shrinkwrap.json"}) {
    const auto locked = mtime(*package_dir / lock);
    if (locked && installed && *locked > *installed) {
      out.result = check_result::fail("node_modules is older than " + std::string{lock} + " in " + shown);
      return out;
    }
  }
  out.result = check_result::pass();
  return out;
}

std::vector<std::string> install_command(bool has_lock) {
  if (has_lock) return {"npm", "ci", "--no-audit", "--no-fund"};
  return {"npm", "install", "--no-audit", "--no-fund"};
}

std::string tail_of(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string{text};
  auto cut = text.substr(text.size() - max);
  const auto nl = cut.find('\n');
  if (nl != std::string_view::npos && nl < 200) cut.remove_prefix(nl + 1);
  return std::string{cut};
}

}  // namespace redundancy::netlify
