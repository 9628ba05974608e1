// The local runner: a workflow's jobs run on this machine, no Docker, as GitHub would run their
// steps.
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "redundancy/core/asio.hpp"
#include "redundancy/core/config.hpp"
#include "redundancy/core/health.hpp"
#include "redundancy/github/workflow.hpp"

namespace redundancy::github {

// success: every job succeeded; partial: nothing failed but some steps or jobs could not run here
// (other actions, reusable workflows, conditions it cannot evaluate); failure: a step failed.
enum class run_conclusion { success, partial, failure };
std::string_view to_string(run_conclusion c);

struct local_run_report {
  run_conclusion conclusion{run_conclusion::failure};
  action_result result{};                // ok unless failure; one step per workflow step
  std::filesystem::path log_file{};      // log_dir/workflow-runs/<name>-<time>.log; empty if none was written
  std::filesystem::path summary_file{};  // <log_file>.summary.md: the steps' GITHUB_STEP_SUMMARY
                                         // texts; empty when no step wrote one
};

// Called with each chunk of output as steps finish (secrets already masked).
using output_sink = std::function<void(std::string_view)>;

// Runs a workflow: jobs in needs order, each `run` step as a script through run_process in its own
// process group, bounded by the step's and job's timeout-minutes and
// github.local_execution.timeout. The environment is layered workflow > job > step env plus
// GitHub's variables, with GITHUB_ENV, GITHUB_OUTPUT and GITHUB_PATH honoured between steps, and the
// job's RUNNER_TRACKING_ID: at the job's end every process carrying it is ended, also one that left
// its step's process group. `${{ secrets.X }}` comes from this process's environment variable X
// (never REDUNDANCY_TOKEN or a REDUNDANCY_*__* override); secrets.GITHUB_TOKEN and github.token are
// github.token_env's value, whose variable no step sees. Every secret (each line of a multi-line
// one) and every `::add-mask::` value is masked ("***") in logs and output. The runner temp folder
// goes with the run, also when it is cancelled. A workflow that is invalid or does not run on the
// deploy branch's own events never runs.
awaitable<local_run_report> run_local(const config& c, const workflow& w, output_sink on_output = {});

// `redundancy github run-local WORKFLOW`: finds the workflow by name, runs it, and answers the
// action.
awaitable<action_result> run_workflow_locally(const config& c, std::string_view workflow,
                                              std::function<void(std::string_view)> on_output);

}  // namespace redundancy::github
