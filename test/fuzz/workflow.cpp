// Fuzz target: the workflow parser (its own checks and GitHub's schema, expressions included) and what
// runs on a valid workflow: the needs order, the local plan, and `${{ }}` substitution and `if:`
// evaluation of every step, as the local runner would do them.
// Properties: never throws; every problem names the file; the needs order lists every job once.
#include "redundancy/github/workflow.hpp"
#include "fuzz/fuzz_check.hpp"
#include "redundancy/github/expressions.hpp"
#include "redundancy/github/plan.hpp"

#include <set>

using namespace redundancy::github;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto w = parse_workflow(redundancy::fuzz::as_text(data, size), "fuzz.yml");
  for (const auto& problem : w.problems) FUZZ_REQUIRE(problem.starts_with("fuzz.yml"));
  if (!w.valid()) return 0;

  const auto order = jobs_in_needs_order(w);
  FUZZ_REQUIRE(order.size() == w.jobs.size());
  std::set<const workflow_job*> seen(order.begin(), order.end());
  FUZZ_REQUIRE(seen.size() == w.jobs.size());

  const auto plan = make_plan(w);
  FUZZ_REQUIRE(plan.runnable <= plan.total);

  expression_context ctx;
  ctx.env = w.env;
  ctx.github = {{"workflow", w.name}, {"event_name", "workflow_dispatch"}};
  for (const auto& input : w.inputs) ctx.inputs[input.name] = input.default_value;
  for (const auto* job : order) {
    ctx.matrix = job->matrix;
    (void)evaluate_condition(job->if_expr, ctx);
    for (const auto& step : job->steps) {
      (void)substitute(step.run, ctx);
      (void)evaluate_condition(step.if_expr, ctx);
      for (const auto& [name, value] : step.with) (void)substitute(value, ctx);
    }
  }
  return 0;
}
