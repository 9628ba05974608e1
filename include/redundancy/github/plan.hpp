// What a local run of a workflow would execute and what it would skip, decided without running it:
// the coverage shown per workflow so nobody trusts a backup that does half the work.
#pragma once
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redundancy/core/config.hpp"
#include "redundancy/github/workflow.hpp"

namespace redundancy::github {

enum class step_disposition {
  run,        // a `run` step the local runner executes
  satisfied,  // a `uses` step whose effect is already there (checkout; setup-node with node on
              // PATH)
  skipped,    // cannot be done here; the reason says why
};

struct step_plan {
  const workflow_job* job{nullptr};
  const workflow_step* step{nullptr};
  step_disposition disposition{step_disposition::run};
  std::string reason{};                // for satisfied and skipped
  std::vector<std::string> command{};  // for run: the shell's argv with "{0}" where the script goes
};

struct workflow_plan {
  std::vector<step_plan> steps{};      // in needs order, then step order
  std::vector<std::string> skipped{};  // "build / Run actions/cache@v4: ...", one per skipped step or job
  unsigned runnable{0};                // run + satisfied steps
  unsigned total{0};
  // Set when the workflow is never run locally (workflow::not_run_locally_reason): then every step
  // is skipped with it and `runnable` is 0.
  std::string not_run_locally{};
};

// How GitHub runs a step with this `shell:` on Linux, as an argv with "{0}" for the script file:
// "" -> bash -e {0}; bash -> bash --noprofile --norc -eo pipefail {0}; sh -> sh -e {0}; python ->
// python {0} (python3 when there is no python); a custom "cmd ... {0}". Unknown names are an error.
boost::system::result<std::vector<std::string>, std::string> shell_command(std::string_view shell);

// Finds an executable on a PATH-style list of folders; empty `path` means this process's PATH.
std::optional<std::filesystem::path> find_on_path(std::string_view name, std::string_view path = {});

// The plan of a valid workflow. Needs only the file system (is the tool on PATH?), no processes.
workflow_plan make_plan(const workflow& w);

// The watched workflow a person names ("sync.yml" or "sync"): one of list_workflows(
// github.workflows_dir, github.workflows), nothing else. A path, a file outside the list or a
// symlink out of the folder is an error naming the watched workflows (the API answers it 404).
boost::system::result<std::filesystem::path, std::string> find_workflow_file(const config& c,
                                                                             std::string_view workflow);

// {"runnable", "total", "skipped": [...]}: the coverage detail of a workflow; with
// "not_run_locally": why, when it never is.
boost::json::object coverage_json(const workflow_plan& p);

// What `redundancy github plan WORKFLOW` prints: {"workflow", "file", "valid", "problems",
// "coverage", "local", "not_run_locally" (why, when "local" is false), "jobs": [{"id", "needs",
// "if", "matrix", "steps": [{"name", "line", "action": "run"|"satisfied"|"skipped", "reason",
// "shell", "if"}]}]}, or {"error"} when the workflow is not found.
boost::json::object plan_workflow(const config& c, std::string_view workflow);

}  // namespace redundancy::github
