// The workflow reader's jobs: each job's keys, its first matrix combination, its steps, and the
// needs between jobs (unknown ones and cycles).
#include <algorithm>
#include <functional>
#include <map>

#include "workflow_reader.hpp"

namespace redundancy::github::workflow_detail {

namespace {

bool valid_job_id(std::string_view id) {
  if (id.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace

void reader::read_matrix(const YAML::Node& strategy, workflow_job& job, const std::string& path) {
  if (!strategy.IsMap() || !strategy["matrix"]) return;
  const YAML::Node matrix = strategy["matrix"];
  if (!matrix.IsMap()) return;  // an expression: there is no first combination to take
  for (auto it = matrix.begin(); it != matrix.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (key == "exclude") continue;
    if (key == "include") {
      if (job.matrix.empty() && it->second.IsSequence() && it->second.size() > 0 && it->second[0].IsMap())
        for (auto kv = it->second[0].begin(); kv != it->second[0].end(); ++kv)
          job.matrix[kv->first.Scalar()] = scalar(kv->second);
      continue;
    }
    if (it->second.IsSequence()) {
      if (it->second.size() == 0)
        problem(it->second.Mark(), path + ".strategy.matrix." + key, "is an empty list");
      else
        job.matrix[key] = scalar(it->second[0]);
    } else {
      job.matrix[key] = scalar(it->second);
    }
  }
}

void reader::read_job(const std::string& id, const YAML::Mark& mark, const YAML::Node& n) {
  const std::string path = "jobs." + id;
  workflow_job job;
  job.id = id;
  job.line = mark.line + 1;
  if (!valid_job_id(id))
    problem(mark, path, "a job id must start with a letter or '_' and hold only letters, digits, '-' and '_'");
  if (!n.IsMap()) {
    problem(n.Mark(), path, "a job must be a map");
    w_.jobs.push_back(job);
    return;
  }
  YAML::Node steps;
  bool has_steps = false;
  bool runs_on = false;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.Scalar();
    const YAML::Node v = it->second;
    if (key == "runs-on")
      runs_on = true;
    else if (key == "uses")
      job.uses = scalar(v);
    else if (key == "name")
      job.name = scalar(v);
    else if (key == "steps") {
      steps = v;
      has_steps = true;
    } else if (key == "if")
      job.if_expr = scalar(v);
    else if (key == "env")
      job.env = read_env(v, path + ".env");
    else if (key == "defaults")
      read_defaults(v, path + ".defaults", job.default_shell, job.default_working_directory);
    else if (key == "timeout-minutes")
      read_timeout(v, path + ".timeout-minutes", job.timeout_minutes);
    else if (key == "continue-on-error")
      job.continue_on_error = scalar(v);
    else if (key == "strategy")
      read_matrix(v, job, path);
    else if (key == "needs") {
      if (v.IsScalar())
        job.needs.push_back(v.Scalar());
      else if (v.IsSequence())
        for (const auto& need : v) {
          if (need.IsScalar())
            job.needs.push_back(need.Scalar());
          else
            problem(need.Mark(), path + ".needs", "each entry must be a job id");
        }
      else
        problem(v.Mark(), path + ".needs", "must be a job id or a list of job ids");
    }
  }
  if (job.name.empty()) job.name = id;
  if (!job.uses.empty()) {
    if (has_steps) problem(steps.Mark(), path + ".steps", "a job that calls a reusable workflow ('uses') has no steps");
  } else {
    if (!runs_on) problem(mark, path, "a job needs 'runs-on' (or 'uses' for a reusable workflow)");
    if (!has_steps)
      problem(mark, path, "a job needs 'steps'");
    else if (!steps.IsSequence() || steps.size() == 0)
      problem(steps.Mark(), path + ".steps", "must be a non-empty list");
    else
      for (std::size_t i = 0; i < steps.size(); ++i)
        read_step(steps[i], path + ".steps[" + std::to_string(i) + "]", job);
  }
  w_.jobs.push_back(std::move(job));
}

void reader::read_step(const YAML::Node& n, const std::string& path, workflow_job& job) {
  workflow_step step;
  step.line = n.Mark().line + 1;
  if (!n.IsMap()) {
    problem(n.Mark(), path, "a step must be a map");
    return;
  }
  bool has_run = false;
  bool has_uses = false;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.Scalar();
    const YAML::Node v = it->second;
    if (key == "run") {
      has_run = true;
      step.run = scalar(v);
      if (!v.IsScalar()) problem(v.Mark(), path + ".run", "must be a string");
    } else if (key == "uses") {
      has_uses = true;
      step.uses = scalar(v);
      if (!v.IsScalar() || step.uses.empty()) problem(v.Mark(), path + ".uses", "must name an action");
    } else if (key == "id")
      step.id = scalar(v);
    else if (key == "name")
      step.name = scalar(v);
    else if (key == "with")
      step.with = read_env(v, path + ".with", true);
    else if (key == "env")
      step.env = read_env(v, path + ".env");
    else if (key == "shell")
      step.shell = scalar(v);
    else if (key == "working-directory")
      step.working_directory = scalar(v);
    else if (key == "if")
      step.if_expr = scalar(v);
    else if (key == "continue-on-error")
      step.continue_on_error = scalar(v);
    else if (key == "timeout-minutes")
      read_timeout(v, path + ".timeout-minutes", step.timeout_minutes);
  }
  if (has_run && has_uses)
    problem(n.Mark(), path, "a step has both 'run' and 'uses'; it needs exactly one");
  else if (!has_run && !has_uses)
    problem(n.Mark(), path, "a step needs 'run' or 'uses'");
  if (step.name.empty()) {
    if (has_uses)
      step.name = "Run " + step.uses;
    else
      step.name = step.run.substr(0, step.run.find('\n'));
  }
  job.steps.push_back(std::move(step));
}

void reader::check_needs() {
  std::map<std::string, const workflow_job*> by_id;
  for (const auto& j : w_.jobs) by_id[j.id] = &j;
  bool unknown = false;
  for (const auto& j : w_.jobs)
    for (const auto& need : j.needs)
      if (!by_id.count(need)) {
        problem_at(j.line, "jobs." + j.id + ".needs", "'" + need + "' is not a job of this workflow");
        unknown = true;
      }
  if (unknown) return;
  // Depth-first search; a job met again while still on the stack closes a cycle.
  std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> stack;
  std::set<std::string> reported;
  std::function<void(const workflow_job&)> visit = [&](const workflow_job& j) {
    state[j.id] = 1;
    stack.push_back(j.id);
    for (const auto& need : j.needs) {
      if (state[need] == 1) {
        auto from = std::find(stack.begin(), stack.end(), need);
        std::string cycle;
        for (auto it = from; it != stack.end(); ++it) cycle += *it + " -> ";
        cycle += need;
        if (reported.insert(need).second)
          problem_at(j.line, "jobs." + j.id + ".needs", "the jobs' needs form a cycle: " + cycle);
      } else if (state[need] == 0) {
        visit(*by_id[need]);
      }
    }
    stack.pop_back();
    state[j.id] = 2;
  };
  for (const auto& j : w_.jobs)
    if (state[j.id] == 0) visit(j);
}

}  // namespace redundancy::github::workflow_detail
