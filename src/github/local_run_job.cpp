// The local runner's jobs: a job's conditions and env, its steps in order (skipped, satisfied, run
// or tolerated), and the processes its steps left running ended at its end.
#include "local_run_session.hpp"
#include "redundancy/core/process.hpp"

namespace redundancy::github {

using std::chrono::milliseconds;

awaitable<void> run_session::run_job(const workflow_job& job) {
  if (!job.uses.empty()) {
    job_results_[job.id] = "skipped";
    skip(job.id, "the reusable workflow " + job.uses + " is not run locally", true);
    co_return;
  }
  bool needs_ok = true;
  bool needs_failed = false;
  for (const auto& n : job.needs) {
    const auto& r = job_results_[n];
    needs_ok = needs_ok && r == "success";
    needs_failed = needs_failed || r == "failure";
  }
  expression_context ctx = base_;
  ctx.matrix = job.matrix;
  ctx.needs_results = job_results_;
  ctx.job_failed = needs_failed;
  if (!needs_ok && !uses_status_function(job.if_expr)) {
    job_results_[job.id] = "skipped";
    skip(job.id, "a job it needs did not succeed", false);
    co_return;
  }
  if (!job.if_expr.empty()) {
    auto run_it = evaluate_condition(job.if_expr, ctx);
    if (!run_it) {
      job_results_[job.id] = "skipped";
      skip(job.id, run_it.error(), true);
      co_return;
    }
    if (!*run_it) {
      job_results_[job.id] = "skipped";
      skip(job.id, "if: " + job.if_expr + " is false", false);
      co_return;
    }
  }
  ctx.job_failed = false;  // from here on, success() and failure() are about this job's steps
  if (auto r = layer_env(w_.env, ctx); !r) {
    fail_job(job, job.id, r.error());
    co_return;
  }
  if (auto r = layer_env(job.env, ctx); !r) {
    fail_job(job, job.id, r.error());
    co_return;
  }
  const auto job_timeout = job.timeout_minutes ? milliseconds(static_cast<long long>(*job.timeout_minutes * 60000))
                                               : milliseconds(std::chrono::hours(6));
  const auto job_deadline = std::min(deadline_, clock::now() + job_timeout);
  emit("== job " + job.id + (job.matrix.empty() ? "" : " (first matrix combination)") + "\n");
  // Every process the job's steps start carries this id, also those that leave the step's process
  // group; at the job's end they are ended by it.
  tracked_job tracking;
  tracking_id_ = tracking.id();

  std::vector<std::string> extra_path;
  bool failed = false;
  for (std::size_t i = 0; i < job.steps.size(); ++i) {
    const workflow_step& step = job.steps[i];
    const std::string name = job.id + " / " + step.name;
    const step_plan* sp = nullptr;
    for (const auto& p : plan_.steps)
      if (p.step == &step) sp = &p;
    expression_context step_ctx = ctx;
    step_ctx.job_failed = failed;
    auto run_it = evaluate_condition(step.if_expr, step_ctx);
    if (!run_it) {
      skip(name, run_it.error(), true);
      mark_outcome(ctx, step, "skipped");
      continue;
    }
    if (!*run_it) {
      skip(name, step.if_expr.empty() ? "an earlier step failed" : "if: " + step.if_expr + " is false", false);
      mark_outcome(ctx, step, "skipped");
      continue;
    }
    if (!sp || sp->disposition == step_disposition::skipped) {
      skip(name, sp ? sp->reason : "not planned", true);
      mark_outcome(ctx, step, "skipped");
      continue;
    }
    if (sp->disposition == step_disposition::satisfied) {
      emit("-- " + name + ": " + sp->reason + "\n");
      record(name, true, "success: satisfied: " + sp->reason);
      mark_outcome(ctx, step, "success");
      continue;
    }
    if (auto r = layer_env(step.env, step_ctx); !r) {
      skip(name, r.error(), true);
      mark_outcome(ctx, step, "skipped");
      continue;
    }
    auto script = substitute(step.run, step_ctx);
    if (!script) {
      skip(name, script.error(), true);
      mark_outcome(ctx, step, "skipped");
      continue;
    }
    const bool ok = co_await run_step(job, step, i, *sp, *script, step_ctx, extra_path, job_deadline, ctx);
    bool tolerated = false;
    if (!ok && !step.continue_on_error.empty()) {
      auto coe = evaluate_condition("always() && (" + std::string(step.continue_on_error) + ")", step_ctx);
      tolerated = coe && *coe;
    }
    mark_outcome(ctx, step, ok ? "success" : "failure");
    if (!ok && tolerated) emit("-- " + name + ": failed, continuing (continue-on-error)\n");
    if (!ok && !tolerated) {
      failed = true;
      if (first_failure_.empty()) first_failure_ = name + " (" + last_describe_ + ")";
    }
    if (!ok && !tolerated) steps_.back().ok = false;
    if (!ok && tolerated) {
      steps_.back().ok = true;
      steps_.back().detail += " (continue-on-error)";
    }
  }
  bool job_tolerated = false;
  if (failed && !job.continue_on_error.empty()) {
    auto coe = evaluate_condition("always() && (" + job.continue_on_error + ")", ctx);
    job_tolerated = coe && *coe;
  }
  co_await end_job_processes(job, tracking);
  job_results_[job.id] = failed ? "failure" : "success";
  if (failed && !job_tolerated) any_failure_ = true;
  emit("== job " + job.id + ": " + job_results_[job.id] + "\n");
}

void run_session::fail_job(const workflow_job& job, const std::string& name, const std::string& why) {
  job_results_[job.id] = "failure";
  any_failure_ = true;
  if (first_failure_.empty()) first_failure_ = name + " (" + why + ")";
  emit("-- " + name + ": " + why + "\n");
  record(name, false, "failure: " + why);
}

// At the end of a job, GitHub ends the processes its steps left running; so does this runner.
awaitable<void> run_session::end_job_processes(const workflow_job& job, tracked_job& tracking) {
  unsigned ended = 0;
  for (const int group : job_groups_)
    if (co_await end_process_group(group, std::chrono::seconds(2))) ++ended;
  job_groups_.clear();
  if (ended)
    emit("-- job " + job.id + ": ended " + std::to_string(ended) + " process group(s) its steps left running\n");
  if (const auto escaped = co_await tracking.end(std::chrono::seconds(2)))
    emit("-- job " + job.id + ": ended " + std::to_string(escaped) +
         " process(es) that had left their step's process group (found by " + std::string(tracking_variable) + ")\n");
}

}  // namespace redundancy::github
