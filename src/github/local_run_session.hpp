// Internal to the local runner: one run's state (the log, the masks, the output tail, the jobs'
// results) and the steps of running it, defined across the local_run_*.cpp files.
#pragma once
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "redundancy/core/process_tracking.hpp"
#include "redundancy/github/expressions.hpp"
#include "redundancy/github/local_runner.hpp"
#include "redundancy/github/plan.hpp"

namespace redundancy::github {

// The files a step talks back through: GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY.
struct step_files {
  std::string env, output, path, summary;
};
// Creates them empty, named <base>.env, .output, .path and .summary (local_step_files.cpp).
step_files make_step_files(const std::string& base);

// One run's state: the log, the masks, the output tail.
class run_session {
 public:
  run_session(const config& c, const workflow& w, output_sink sink) : c_(c), w_(w), sink_(std::move(sink)) {}
  run_session(const run_session&) = delete;
  run_session& operator=(const run_session&) = delete;
  // The runner temp folder holds the steps' unmasked output and scripts: it goes with the session,
  // also when the run is cut short (a SIGTERM cancels it and its frame is destroyed).
  ~run_session() {
    std::error_code ec;
    if (!runner_temp_.empty()) std::filesystem::remove_all(runner_temp_, ec);
  }

  // local_runner.cpp: the whole run, from the checks that refuse it to the summary.
  awaitable<local_run_report> run();

 private:
  using clock = std::chrono::steady_clock;

  // local_run_log.cpp: the run's log file, and everything shown or written (all of it goes through
  // emit, masked).
  bool open_log();
  void emit(const std::string& raw);
  void record(const std::string& name, bool ok, const std::string& detail);
  void skip(const std::string& name, const std::string& reason, bool counts_as_partial);
  // `::add-mask::VALUE` lines: VALUE is masked from there on, for the rest of the run (the line
  // itself included), as on GitHub.
  void note_masks(const std::string& chunk);
  // GITHUB_STEP_SUMMARY: shown, and kept beside the run's log as <log>.summary.md.
  void keep_summary(const std::string& step_name, const std::string& text);
  static std::string seconds_text(std::chrono::milliseconds d);

  // local_run_context.cpp: the expressions' contexts and the steps' environment.
  awaitable<std::string> git(std::vector<std::string> args);
  awaitable<void> fill_github_context();
  // Substitutes a whole env map in order, each value seeing the ones before.
  boost::system::result<void, std::string> layer_env(const string_map& layer, expression_context& ctx);
  static void mark_outcome(expression_context& ctx, const workflow_step& step, const std::string& outcome);
  // The layers, then GitHub's own variables, then PATH with GITHUB_PATH additions.
  std::map<std::string, std::string> step_environment(const workflow_job& job, const expression_context& step_ctx,
                                                      const step_files& files,
                                                      const std::vector<std::string>& extra_path) const;

  // local_step_files.cpp: what a step left for the ones after it.
  void take_step_files(const step_files& files, const workflow_step& step, const std::string& name,
                       expression_context& job_ctx, std::vector<std::string>& extra_path);

  // local_run_job.cpp: one job, its steps in order, and its processes ended at its end.
  awaitable<void> run_job(const workflow_job& job);
  void fail_job(const workflow_job& job, const std::string& name, const std::string& why);
  // At the end of a job, GitHub ends the processes its steps left running; so does this runner.
  awaitable<void> end_job_processes(const workflow_job& job, tracked_job& tracking);

  // local_run_step.cpp: one step as a process, its output followed while it runs.
  awaitable<bool> run_step(const workflow_job& job, const workflow_step& step, std::size_t index, const step_plan& sp,
                           const std::string& script, expression_context& step_ctx,
                           std::vector<std::string>& extra_path, clock::time_point job_deadline,
                           expression_context& job_ctx);
  // The output file of a running step and how much of it has been shown.
  struct followed_output {
    std::string file{};
    std::uintmax_t offset{0};
    std::string pending{};  // an unfinished line, held back so a secret is never split by a chunk
  };
  // Shows what the step wrote since the last look: whole lines while it runs, the rest at the end.
  void pump_output(followed_output& f, bool final);
  // Polls the step's output file until cancelled (the step's process finishing wins the race).
  awaitable<void> follow_output(followed_output& f);

  const config& c_;
  const workflow& w_;
  output_sink sink_;
  std::filesystem::path log_path_{};
  std::ofstream log_{};
  std::filesystem::path runner_temp_{};
  std::filesystem::path workspace_{};
  clock::time_point deadline_{};
  expression_context base_{};
  workflow_plan plan_{};
  std::set<std::string> secrets_{};
  std::map<std::string, std::string> job_results_{};
  std::vector<action_step> steps_{};
  std::vector<std::string> skipped_{};
  std::string first_failure_{};
  std::string tail_{};
  bool any_failure_{false};
  std::vector<int> job_groups_{};  // process groups of the current job's finished steps
  std::string last_describe_{};    // how the last step's process ended, for the failure summary
  std::string tracking_id_{};      // the current job's RUNNER_TRACKING_ID
  std::filesystem::path summary_path_{};
};

}  // namespace redundancy::github
