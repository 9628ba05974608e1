// The per-function checks that need no network: present, syntax (node --check), dependencies.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/netlify/discovery.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::netlify {

// ok: passed; failed: a problem to repair; unchecked: not looked at (off, or not possible for this
// kind of file); unknown: the check itself could not run (node missing), which is no verdict.
enum class check_state { ok, failed, unchecked, unknown };
std::string_view to_string(check_state s);

struct check_result {
  check_state state{check_state::unchecked};
  std::string reason{};

  bool failed() const { return state == check_state::failed; }
  static check_result pass(std::string reason = {}) { return {check_state::ok, std::move(reason)}; }
  static check_result fail(std::string reason) { return {check_state::failed, std::move(reason)}; }
  static check_result skip(std::string reason) { return {check_state::unchecked, std::move(reason)}; }
  static check_result cannot_tell(std::string reason) { return {check_state::unknown, std::move(reason)}; }
};

// {"ok": false only when failed, "state": "ok|failed|unchecked|unknown", "reason": "..."}.
boost::json::object to_json(const check_result& r);

// The entry file exists, is a regular file and can be read.
check_result check_present(const function_entry& function);

// JavaScript: `node --check FILE`. TypeScript: `typescript_check + [FILE]` run in project_dir when set,
// else unchecked. Archives: unchecked. A failure's reason is the error line and its location.
awaitable<check_result> check_syntax(const function_entry& function,
                                     const std::optional<std::vector<std::string>>& typescript_check,
                                     const std::filesystem::path& project_dir, std::chrono::milliseconds timeout);

// The same verdicts as check_syntax for many functions, at the cost of one node process per 200
// JavaScript files instead of one each: node compiles every file (vm.Script in the CommonJS wrapper,
// vm.SourceTextModule for ES modules, chosen as node does: .mjs/.cjs, else the nearest package.json's
// "type"). A file it passes is ok; every file it does not pass (or all, when that node cannot run) goes
// to check_syntax, so a failure and its message are always `node --check`'s own. Results are in the
// order of `functions`.
awaitable<std::vector<check_result>> check_syntax_all(const std::vector<function_entry>& functions,
                                                      const std::optional<std::vector<std::string>>& typescript_check,
                                                      const std::filesystem::path& project_dir,
                                                      std::chrono::milliseconds timeout);

struct dependency_status {
  check_result result{};
  std::optional<std::filesystem::path> package_dir{};  // the folder of the package.json that applies
  bool has_lock{false};                                // package-lock.json or npm-shrinkwrap.json there
};

// Finds the nearest package.json from the function's folder up to project_dir (or functions_dir when
// that lies outside the project) and checks its "dependencies" are installed: node_modules present,
// each dependency's folder present, and node_modules no older than the lock file.
dependency_status check_dependencies(const function_entry& function, const std::filesystem::path& functions_dir,
                                     const std::filesystem::path& project_dir);

// The install command for a package folder: `npm ci` with a lock file, `npm install` without.
std::vector<std::string> install_command(bool has_lock);

// The last `max` bytes of text, cut at a line start when one is near.
std::string tail_of(std::string_view text, std::size_t max = 4096);

}  // namespace redundancy::netlify
