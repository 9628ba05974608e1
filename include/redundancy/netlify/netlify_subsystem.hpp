// The netlify subsystem: checks every function, keeps the manifest current, installs dependencies, deploys.
#pragma once
#include "redundancy/core/config.hpp"
#include "redundancy/core/subsystem.hpp"
#include "redundancy/netlify/deploy.hpp"
#include "redundancy/netlify/invoke.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace redundancy::netlify {

// Status of one check: unhealthy when a function or the manifest fails, healthy when nothing does,
// disabled when the functions folder does not exist. The orchestrator's policy debounces it as the monit
// habit asks: shown degraded until max_failures checks in a row have failed (failures_before_recovery).
class netlify_subsystem final : public subsystem, public std::enable_shared_from_this<netlify_subsystem> {
 public:
  // Keeps what it needs of the config; relative paths resolve against project_dir.
  explicit netlify_subsystem(const config& c);

  std::string_view name() const override { return "netlify"; }

  // Targets: one per function (detail: kind "function", format, path, hash, checks {present, syntax,
  // dependencies, invoke, probe} each {ok, state, reason}, last_invocation {status, at, ok, error}),
  // then "manifest" (kind "manifest": path, problems) and "deploy" (kind "deploy": last_deploy).
  awaitable<health> check() override;
  unsigned failures_before_recovery() const override { return std::max(1u, settings_.max_failures); }

  // After max_failures failing checks: regenerate the manifest, install dependencies where they are the
  // problem (npm ci, or npm install without a lock file), then with auto_deploy deploy (gated: never
  // with a syntax error, at most one per min_deploy_interval).
  awaitable<action_result> recover(const health& last) override;

  // Regenerate and deploy whatever the failure count (the same gates apply).
  awaitable<action_result> emergency(target_names left_alone) override;

  // "regenerate" (no arguments) and "deploy" ({"force": true} skips the min_deploy_interval wait, not
  // the syntax gate).
  boost::system::result<manual_work, std::string> manual(std::string_view verb, const boost::json::object& args,
                                                         const target_names& paused) override;

  const std::filesystem::path& manifest_file() const { return manifest_; }
  const std::filesystem::path& deploy_record_file() const { return deploy_file_; }
  // The last deploy attempt, from memory or the state folder.
  std::optional<deploy_record> last_deploy();

 private:
  struct step_log;
  awaitable<action_result> repair(bool install_dependencies, bool deploy, bool force_deploy, std::string what);
  awaitable<std::vector<std::string>> syntax_failures(const std::vector<function_entry>& functions);

  netlify_config settings_;
  std::filesystem::path project_dir_;
  std::filesystem::path functions_dir_;
  std::filesystem::path manifest_;
  std::filesystem::path harness_;
  std::filesystem::path deploy_file_;
  std::map<std::string, invocation> last_invocations_;
  std::optional<deploy_record> last_deploy_;
  bool deploy_loaded_{false};
};

}  // namespace redundancy::netlify
