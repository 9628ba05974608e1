// Running a workflow locally: the checks that refuse a run, the run in jobs' needs order and its
// summary (the session's other parts are in local_run_*.cpp and local_step_files.cpp).
#include "redundancy/github/local_runner.hpp"

#include "local_run_session.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/github/runner_temp.hpp"

namespace redundancy::github {

std::string_view to_string(run_conclusion c) {
  switch (c) {
    case run_conclusion::success:
      return "success";
    case run_conclusion::partial:
      return "partial";
    case run_conclusion::failure:
      return "failure";
  }
  return "failure";
}

awaitable<local_run_report> run_session::run() {
  local_run_report report;
  if (!w_.valid()) {
    report.result.summary = w_.file.filename().string() + " is invalid and is never run: " + w_.problems.front();
    co_return report;
  }
  if (!c_.github.local_execution.enabled) {
    report.result.summary = "local execution is disabled (github.local_execution.enabled)";
    co_return report;
  }
  if (!w_.runs_on_deploy_branch_events()) {
    report.result.summary = w_.file.filename().string() + ": " + w_.not_run_locally_reason();
    co_return report;
  }
  if (!open_log())
    report.log_file.clear();
  else
    report.log_file = log_path_;
  auto temp = make_runner_temp();
  if (!temp) {
    report.result.summary = "cannot create a runner temp folder in " + std::filesystem::temp_directory_path().string();
    co_return report;
  }
  runner_temp_ = std::move(*temp);
  workspace_ = std::filesystem::absolute(c_.project_dir).lexically_normal();
  deadline_ = clock::now() + c_.github.local_execution.timeout;

  co_await fill_github_context();
  emit("== " + w_.file.filename().string() + " (" + w_.name + ") in " + workspace_.string() + "\n");
  RLOG("github", info) << "running " << w_.file.filename().string() << " locally, log " << log_path_.string();

  plan_ = make_plan(w_);
  for (const workflow_job* job : jobs_in_needs_order(w_)) co_await run_job(*job);

  std::error_code ec;
  std::filesystem::remove_all(runner_temp_, ec);
  runner_temp_.clear();

  report.conclusion = any_failure_       ? run_conclusion::failure
                      : skipped_.empty() ? run_conclusion::success
                                         : run_conclusion::partial;
  unsigned ran = 0;
  for (const auto& s : steps_)
    if (s.detail.rfind("skipped", 0) != 0) ++ran;
  std::string summary = w_.file.filename().string() + " ran locally: " + std::string(to_string(report.conclusion)) +
                        " (" + std::to_string(ran) + " of " + std::to_string(steps_.size()) + " steps run";
  if (!first_failure_.empty()) summary += "; failed: " + first_failure_;
  if (!skipped_.empty()) {
    summary += "; skipped: ";
    for (std::size_t i = 0; i < skipped_.size(); ++i) summary += (i ? ", " : "") + skipped_[i];
  }
  summary += ")";
  emit("== " + summary + "\n");
  RLOG("github", info) << summary;
  report.result.ok = report.conclusion != run_conclusion::failure;
  report.result.summary = summary;
  report.result.steps = steps_;
  report.result.output_tail = tail_;
  report.summary_file = summary_path_;
  co_return report;
}

awaitable<local_run_report> run_local(const config& c, const workflow& w, output_sink on_output) {
  run_session session{c, w, std::move(on_output)};
  co_return co_await session.run();
}

awaitable<action_result> run_workflow_locally(const config& c, std::string_view name,
                                              std::function<void(std::string_view)> on_output) {
  auto file = find_workflow_file(c, name);
  if (!file) co_return action_result{.ok = false, .summary = file.error(), .steps = {}, .output_tail = {}};
  const workflow w = load_workflow(*file);
  auto report = co_await run_local(c, w, std::move(on_output));
  co_return report.result;
}

}  // namespace redundancy::github
