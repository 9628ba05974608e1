// The github subsystem: validates the project's workflows, watches their runs on GitHub, and backs
// a failing workflow up by running it locally and re-dispatching it.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "redundancy/core/config.hpp"
#include "redundancy/core/subsystem.hpp"
#include "redundancy/github/api.hpp"
#include "redundancy/github/backup_memory.hpp"
#include "redundancy/github/monitor.hpp"
#include "redundancy/github/plan.hpp"
#include "redundancy/github/workflow.hpp"

namespace redundancy::github {

class github_subsystem : public subsystem, public std::enable_shared_from_this<github_subsystem> {
 public:
  // Reads the handled failures from <state_dir>/github-backups.json. The token is read from the
  // environment variable github.token_env at each check, so a rotated token is picked up.
  explicit github_subsystem(const config& c);

  std::string_view name() const override { return "github"; }

  // One target per workflow file, detail keys: valid, problems, coverage {runnable, total,
  // skipped}, last_runs [{id, status, conclusion, started_at, url}], consecutive_failures,
  // missed_ticks, last_backup {at, mode, ok, summary} (or null), monitoring. `disabled` when there
  // is nothing to watch; `unknown` for a workflow whose runs GitHub could not tell (unreachable,
  // rate-limited).
  awaitable<health> check() override;

  // Backs up each workflow the last check found failing (max_failures reached, or GitHub disabled a
  // scheduled workflow), in the order of github.backup, at most once per failure (remembered across
  // restarts). Paused targets are left alone.
  awaitable<action_result> recover(const health& last) override;

  // Runs every valid workflow locally, one at a time; one that does not run on the deploy branch's
  // own events (workflow::runs_on_deploy_branch_events) is a skipped step saying why.
  awaitable<action_result> emergency(target_names left_alone) override;

  // "trigger" with {"workflow": "file.yml" (optional: all), "mode": "local" | "dispatch" (optional:
  // the github.backup order)}. A local run of a workflow that does not run on the deploy branch's
  // own events is refused ("local" alone) or skipped (in the backup order).
  boost::system::result<manual_work, std::string> manual(std::string_view verb, const boost::json::object& args,
                                                         const target_names& paused) override;

  // A "workflow" that is not one of the watched ones: find_workflow_file's error.
  std::optional<std::string> unknown_target(std::string_view verb, const boost::json::object& args) const override;

  // For tests: the wall clock the assessments use.
  void set_clock(std::function<sys_time()> now) { now_ = std::move(now); }

 private:
  struct watched {
    std::filesystem::path file{};
    workflow wf{};
    workflow_assessment assessment{};
  };

  std::vector<std::filesystem::path> files() const;
  // github.dispatch.ref, else the repository's default branch as GitHub said; empty until known.
  std::string deploy_branch() const;
  std::unique_ptr<github_api>& api();
  awaitable<target_health> check_workflow(const std::filesystem::path& file);
  awaitable<action_result> backup(const workflow& wf, std::vector<std::string> modes);
  awaitable<action_step> dispatch(const workflow& wf);
  awaitable<action_result> run_trigger(std::vector<workflow> targets, std::vector<std::string> modes);

  config c_;
  backup_memory memory_;
  std::unique_ptr<github_api> api_{};
  std::string api_token_{};
  std::string default_branch_{};
  std::optional<sys_time> pushed_at_{};
  std::string unreachable_{};              // set during a check once GitHub could not be reached
  std::map<std::string, watched> last_{};  // by file name, from the latest check
  std::function<sys_time()> now_{[] { return std::chrono::system_clock::now(); }};
};

}  // namespace redundancy::github
