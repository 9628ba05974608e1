// Workflow YAML to typed structs with yaml-cpp, collecting every problem with its file, line and
// path (the reader is in workflow_reader.cpp and workflow_job_reader.cpp), and the jobs in needs
// order.
#include "redundancy/github/workflow.hpp"

#include <algorithm>

#include "redundancy/core/small_file.hpp"
#include "redundancy/github/workflow_schema_check.hpp"
#include "workflow_reader.hpp"

namespace redundancy::github {

bool workflow::has_event(std::string_view e) const {
  return std::find(events.begin(), events.end(), e) != events.end();
}

bool workflow::runs_on_deploy_branch_events() const {
  return std::any_of(events.begin(), events.end(), [](const std::string& e) {
    return e == "push" || e == "schedule" || e == "workflow_dispatch" || e == "repository_dispatch";
  });
}

std::string workflow::not_run_locally_reason() const {
  if (runs_on_deploy_branch_events()) return {};
  std::string names;
  for (const auto& e : events) names += (names.empty() ? "" : ", ") + e;
  return "it runs only on " + (names.empty() ? std::string("no event") : names) +
         ", not on the deploy branch's own events (push, schedule, workflow_dispatch, "
         "repository_dispatch), so it is never run locally";
}

const workflow_job* workflow::find_job(std::string_view id) const {
  for (const auto& j : jobs)
    if (j.id == id) return &j;
  return nullptr;
}

using workflow_detail::reader;

namespace {

// GitHub's own rules (its published schema), after the reader's: a place the reader already faulted
// keeps the reader's message alone, unless the schema's names what was meant (`Runs-On` for
// `runs-on`, where the reader only sees `runs-on` missing).
void add_schema_problems(const YAML::Node& root, const reader& r, workflow& w) {
  const std::string file_name = w.file.filename().string();
  try {
    for (const auto& p : check_against_schema(root, workflow_schema::github())) {
      if (r.reported(p.line, p.path) && !p.suggests) continue;
      w.problems.push_back(file_name + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " +
                           (p.path.empty() ? "" : p.path + ": ") + p.message);
    }
  } catch (const std::exception& e) {  // only an embedded schema that cannot be read, a build defect
    w.problems.push_back(file_name + ":1: GitHub's workflow schema could not be used: " + e.what());
  }
}

}  // namespace

workflow parse_workflow(std::string_view text, const std::filesystem::path& file) {
  workflow w;
  w.file = file;
  reader r{w};
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    r.read(root);
    add_schema_problems(root, r, w);
  } catch (const YAML::ParserException& e) {
    w.jobs.clear();
    w.problems.push_back(file.filename().string() + ":" + std::to_string(e.mark.line + 1) + ":" +
                         std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    r.problem(e.mark, "", std::string("unreadable YAML: ") + e.msg);
  }
  if (w.name.empty()) w.name = file.filename().string();
  return w;
}

workflow load_workflow(const std::filesystem::path& file) {
  const auto text = read_small_file(file);
  if (!text) {
    workflow w;
    w.file = file;
    w.name = file.filename().string();
    w.problems.push_back(file.filename().string() + ":1: cannot read " + file.string());
    return w;
  }
  return parse_workflow(*text, file);
}

std::vector<const workflow_job*> jobs_in_needs_order(const workflow& w) {
  std::vector<const workflow_job*> order;
  std::set<std::string> placed;
  // Repeatedly take, in file order, the first job whose needs are all placed; stops on a cycle.
  while (order.size() < w.jobs.size()) {
    bool progressed = false;
    for (const auto& j : w.jobs) {
      if (placed.count(j.id)) continue;
      if (std::all_of(j.needs.begin(), j.needs.end(), [&](const std::string& n) { return placed.count(n) > 0; })) {
        order.push_back(&j);
        placed.insert(j.id);
        progressed = true;
        break;
      }
    }
    if (!progressed) break;
  }
  return order;
}

}  // namespace redundancy::github
