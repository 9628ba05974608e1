// Workflow validation: the valid fixture parses into the expected structs, each kind of invalid one
// is reported with file, line and YAML path.
#define BOOST_TEST_MODULE github_workflow
#include "redundancy/github/workflow.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>

#include "test_paths.hpp"

using namespace redundancy::github;

namespace {

const std::filesystem::path fixtures = std::filesystem::path(REDUNDANCY_SOURCE_DIR) / "test/fixtures/github/workflows";

workflow load(const char* name) { return load_workflow(fixtures / name); }

std::string all(const workflow& w) {
  std::string s;
  for (const auto& p : w.problems) s += p + "\n";
  return s;
}

bool has(const workflow& w, std::string_view text) {
  return std::any_of(w.problems.begin(), w.problems.end(),
                     [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

}  // namespace

BOOST_AUTO_TEST_CASE(valid_workflow_parses_into_structs) {
  const auto w = load("valid-sync.yml");
  BOOST_TEST(w.valid(), all(w));
  BOOST_TEST(w.name == "Sync health");
  BOOST_TEST(w.has_event("schedule"));
  BOOST_TEST(w.has_event("workflow_dispatch"));
  BOOST_TEST(w.schedules.size() == 1u);
  BOOST_TEST(w.schedules[0] == "*/30 * * * *");
  BOOST_REQUIRE(w.inputs.size() == 1u);
  BOOST_TEST(w.inputs[0].default_value == "full");
  BOOST_REQUIRE(w.jobs.size() == 3u);
  BOOST_TEST(*w.jobs[0].timeout_minutes == 10.0);
  BOOST_TEST(w.jobs[1].needs == std::vector<std::string>{"build"});
  BOOST_TEST(w.jobs[1].matrix.at("node") == "20");
  BOOST_TEST(w.jobs[1].steps[0].line == 24);
  BOOST_TEST(w.jobs[2].uses == "./.github/workflows/other.yml");
  const auto order = jobs_in_needs_order(w);
  BOOST_REQUIRE(order.size() == 3u);
  BOOST_TEST(order[0]->id == "build");
  BOOST_TEST(order[2]->id == "reusable");
}

BOOST_AUTO_TEST_CASE(on_written_as_yaml_1_1_true_is_accepted) {
  const auto w = parse_workflow("true: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n", "t.yml");
  BOOST_TEST(w.valid(), all(w));
  BOOST_TEST(w.has_event("push"));
}

BOOST_AUTO_TEST_CASE(syntax_error_has_line_and_column) {
  const auto w = load("invalid-syntax.yml");
  BOOST_REQUIRE(w.problems.size() == 1u);
  BOOST_TEST(w.problems[0].rfind("invalid-syntax.yml:", 0) == 0u, w.problems[0]);
  BOOST_TEST(has(w, "invalid-syntax.yml:7:6: YAML syntax error: end of map not found"), all(w));
  BOOST_TEST(w.jobs.empty());
}

BOOST_AUTO_TEST_CASE(missing_on) {
  const auto w = load("invalid-no-on.yml");
  BOOST_TEST(has(w, "invalid-no-on.yml:1: on: a workflow needs triggers ('on')"), all(w));
}

BOOST_AUTO_TEST_CASE(empty_jobs) {
  const auto w = load("invalid-jobs-empty.yml");
  BOOST_TEST(has(w, "invalid-jobs-empty.yml:2: jobs: must be a non-empty map of jobs"), all(w));
}

BOOST_AUTO_TEST_CASE(steps_need_exactly_one_of_run_and_uses) {
  const auto w = load("invalid-step.yml");
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w, "invalid-step.yml:8: jobs.sync.steps[2]: a step needs 'run' or 'uses'"), all(w));
  BOOST_TEST(has(w, "invalid-step.yml:9: jobs.sync.steps[3]: a step has both 'run' and 'uses'"), all(w));
}

BOOST_AUTO_TEST_CASE(jobs_need_runs_on_and_steps) {
  const auto w = load("invalid-job.yml");
  BOOST_TEST(w.problems.size() == 3u, all(w));
  BOOST_TEST(has(w, "invalid-job.yml:3: jobs.norunner: a job needs 'runs-on'"), all(w));
  BOOST_TEST(has(w, "invalid-job.yml:6: jobs.nosteps: a job needs 'steps'"), all(w));
  BOOST_TEST(has(w, "invalid-job.yml:10: jobs.emptysteps.steps: must be a non-empty list"), all(w));
}

BOOST_AUTO_TEST_CASE(needs_must_name_jobs) {
  const auto w = load("invalid-needs.yml");
  BOOST_TEST(has(w, "invalid-needs.yml:3: jobs.a.needs: 'ghost' is not a job of this workflow"), all(w));
}

BOOST_AUTO_TEST_CASE(needs_must_not_cycle) {
  const auto w = load("invalid-cycle.yml");
  BOOST_TEST(w.problems.size() == 1u, all(w));
  BOOST_TEST(has(w, "invalid-cycle.yml:8: jobs.b.needs: the jobs' needs form a cycle: a -> c -> b -> a"), all(w));
}

BOOST_AUTO_TEST_CASE(a_job_id_given_twice_is_a_problem_and_the_needs_order_stays_whole) {
  // Found by fuzz_workflow: yaml-cpp keeps both entries of a repeated key, and the second job of the
  // same id was never placed in the needs order.
  const auto w = parse_workflow(
      "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [run: one]\n"
      "  a:\n    runs-on: x\n    steps: [run: two]\n",
      "twice.yml");
  BOOST_TEST(has(w, "twice.yml:6: jobs.a: the job id appears twice in 'jobs'"), all(w));
  BOOST_TEST(w.jobs.size() == 1u);
  BOOST_TEST(jobs_in_needs_order(w).size() == w.jobs.size());
}

BOOST_AUTO_TEST_CASE(timeout_minutes_must_be_numbers) {
  const auto w = load("invalid-timeout.yml");
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w, "invalid-timeout.yml:5: jobs.a.timeout-minutes: must be a number of minutes, got 'soon'"), all(w));
  BOOST_TEST(has(w, "invalid-timeout.yml:8: jobs.a.steps[0].timeout-minutes: must be a number"), all(w));
}

BOOST_AUTO_TEST_CASE(cron_needs_five_valid_fields) {
  const auto w = load("invalid-cron.yml");
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w,
                 "invalid-cron.yml:3: on.schedule[0].cron: '0 24 * * *': field 2 (hour): 24 is out "
                 "of range 0-23"),
             all(w));
  BOOST_TEST(has(w, "invalid-cron.yml:4: on.schedule[1].cron: '*/5 * * *': expected 5 fields"), all(w));
  BOOST_TEST(w.schedules == std::vector<std::string>{"0 6 * * MON-FRI"});
}

BOOST_AUTO_TEST_CASE(workflow_files_lists_yaml_sorted_or_the_configured_ones) {
  const auto found = workflow_files(fixtures, {});
  BOOST_TEST(found.size() == 10u);
  BOOST_TEST(found.front().filename() == "invalid-cron.yml");
  const auto listed = workflow_files(fixtures, {"valid-sync.yml"});
  BOOST_REQUIRE(listed.size() == 1u);
  BOOST_TEST(listed[0] == fixtures / "valid-sync.yml");
  BOOST_TEST(workflow_files(fixtures / "missing", {}).empty());
}

BOOST_AUTO_TEST_CASE(a_symlink_out_of_the_folder_is_refused_with_the_reason) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "redundancy-wf-XXXXXX").string();
  BOOST_REQUIRE(::mkdtemp(tmpl.data()));
  const std::filesystem::path root = tmpl;
  const auto dir = root / "workflows";
  std::filesystem::create_directories(dir);
  std::ofstream(root / "evil.yml") << "on: push\n";
  std::ofstream(dir / "a.yml") << "on: push\n";
  std::filesystem::create_symlink(root / "evil.yml", dir / "evil.yml");
  std::filesystem::create_symlink(dir / "a.yml", dir / "same.yml");  // inside: watched
  const auto listing = list_workflows(dir, {});
  BOOST_TEST(listing.files == (std::vector<std::filesystem::path>{dir / "a.yml", dir / "same.yml"}));
  BOOST_REQUIRE(listing.refused.size() == 1u);
  BOOST_TEST(listing.refused[0].file == dir / "evil.yml");
  BOOST_TEST(listing.refused[0].reason ==
             "a symlink to " + (root / "evil.yml").string() + ", outside " + dir.string() + ": not watched");
  const auto listed = list_workflows(dir, {"evil.yml", (root / "evil.yml").string()});
  BOOST_TEST(listed.files.empty());
  BOOST_TEST(listed.refused.size() == 2u);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}

BOOST_AUTO_TEST_CASE(only_the_deploy_branchs_own_events_are_run_locally) {
  auto events = [](const char* on) {
    return parse_workflow(std::string("on: ") + on + "\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n",
                          "w.yml");
  };
  for (const char* on : {"push", "schedule", "workflow_dispatch", "repository_dispatch", "[pull_request, push]"})
    BOOST_TEST(events(on).runs_on_deploy_branch_events(), on);
  for (const char* on : {"pull_request", "pull_request_target", "[issue_comment, release]"}) {
    BOOST_TEST(!events(on).runs_on_deploy_branch_events(), on);
    BOOST_TEST(events(on).not_run_locally_reason().find("it runs only on ") == 0u);
  }
}
