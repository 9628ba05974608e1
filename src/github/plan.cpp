// Deciding, step by step, what the local runner can execute, and the `github plan` answer.
#include "redundancy/github/plan.hpp"

#include <unistd.h>

#include <boost/json/array.hpp>
#include <cstdlib>
#include <sstream>

namespace redundancy::github {

boost::system::result<std::vector<std::string>, std::string> shell_command(std::string_view shell) {
  if (shell.empty()) return std::vector<std::string>{"bash", "-e", "{0}"};
  if (shell == "bash") return std::vector<std::string>{"bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"};
  if (shell == "sh") return std::vector<std::string>{"sh", "-e", "{0}"};
  if (shell == "python") {
    if (find_on_path("python")) return std::vector<std::string>{"python", "{0}"};
    return std::vector<std::string>{"python3", "{0}"};
  }
  if (shell == "pwsh") return std::vector<std::string>{"pwsh", "-command", ". '{0}'"};
  if (shell.find("{0}") == std::string_view::npos)
    return "unsupported shell '" + std::string(shell) + "' (a custom shell needs '{0}' for the script)";
  std::vector<std::string> argv;
  std::istringstream words{std::string(shell)};
  for (std::string w; words >> w;) argv.push_back(w);
  return argv;
}

std::optional<std::filesystem::path> find_on_path(std::string_view name, std::string_view path) {
  if (name.find('/') != std::string_view::npos) {
    std::filesystem::path p{name};
    if (::access(p.c_str(), X_OK) == 0) return p;
    return std::nullopt;
  }
  std::string dirs{path};
  if (dirs.empty()) {
    const char* env = std::getenv("PATH");
    dirs = env ? env : "/usr/local/bin:/usr/bin:/bin";
  }
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = dirs.substr(start, end - start);
    if (!dir.empty()) {
      std::filesystem::path candidate = std::filesystem::path(dir) / std::string(name);
      std::error_code ec;
      if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

namespace {

std::string action_name(std::string_view uses) { return std::string(uses.substr(0, uses.find('@'))); }

step_plan plan_uses(const workflow_job& job, const workflow_step& step) {
  step_plan p{.job = &job, .step = &step, .disposition = step_disposition::skipped, .reason = {}, .command = {}};
  const auto action = action_name(step.uses);
  if (action == "actions/checkout") {
    p.disposition = step_disposition::satisfied;
    p.reason = "the project checkout is the workspace";
  } else if (action == "actions/setup-node") {
    if (find_on_path("node")) {
      p.disposition = step_disposition::satisfied;
      p.reason = "node is on PATH";
    } else {
      p.reason = "node is not on PATH";
    }
  } else if (action == "actions/setup-python") {
    if (find_on_path("python3") || find_on_path("python")) {
      p.disposition = step_disposition::satisfied;
      p.reason = "python is on PATH";
    } else {
      p.reason = "python is not on PATH";
    }
  } else {
    p.reason = "the action " + step.uses + " is not run locally";
  }
  return p;
}

}  // namespace

namespace {

// What each step would do if the workflow ran here, whatever its events.
workflow_plan make_step_plan(const workflow& w) {
  workflow_plan plan;
  for (const workflow_job* job : jobs_in_needs_order(w)) {
    if (!job->uses.empty()) {
      plan.skipped.push_back(job->id + ": the reusable workflow " + job->uses + " is not run locally");
      ++plan.total;
      continue;
    }
    for (const auto& step : job->steps) {
      ++plan.total;
      step_plan p;
      if (!step.uses.empty()) {
        p = plan_uses(*job, step);
      } else {
        p = step_plan{.job = job, .step = &step, .disposition = step_disposition::run, .reason = {}, .command = {}};
        const std::string& shell = !step.shell.empty()           ? step.shell
                                   : !job->default_shell.empty() ? job->default_shell
                                                                 : w.default_shell;
        auto cmd = shell_command(shell);
        if (!cmd) {
          p.disposition = step_disposition::skipped;
          p.reason = cmd.error();
        } else if (!find_on_path(cmd->front())) {
          p.disposition = step_disposition::skipped;
          p.reason = cmd->front() + " is not on PATH";
        } else {
          p.command = *cmd;
        }
      }
      if (p.disposition == step_disposition::skipped)
        plan.skipped.push_back(job->id + " / " + step.name + ": " + p.reason);
      else
        ++plan.runnable;
      plan.steps.push_back(std::move(p));
    }
  }
  return plan;
}

}  // namespace

workflow_plan make_plan(const workflow& w) {
  workflow_plan plan = make_step_plan(w);
  plan.not_run_locally = w.not_run_locally_reason();
  if (plan.not_run_locally.empty()) return plan;
  for (auto& sp : plan.steps) {
    sp.disposition = step_disposition::skipped;
    sp.reason = plan.not_run_locally;
    sp.command.clear();
  }
  plan.runnable = 0;
  plan.skipped = {w.file.filename().string() + ": " + plan.not_run_locally};
  return plan;
}

boost::system::result<std::filesystem::path, std::string> find_workflow_file(const config& c,
                                                                             std::string_view workflow) {
  using found = boost::system::result<std::filesystem::path, std::string>;  // a path converts from a string
  const auto dir = c.project_dir / c.github.workflows_dir;
  const auto listing = list_workflows(dir, c.github.workflows);
  // Only a bare name can be a watched workflow's name: a path ("/tmp/evil.yml", "../x.yml") never
  // is, whatever it points at.
  const std::filesystem::path given{workflow};
  const bool bare =
      !workflow.empty() && workflow.find('/') == std::string_view::npos && workflow != "." && workflow != "..";
  const auto named = [&](const std::filesystem::path& f) { return f.filename() == given || f.stem() == given; };
  if (bare) {
    for (const auto& f : listing.files)
      if (named(f)) return found(boost::system::in_place_value, f);
    for (const auto& r : listing.refused)
      if (named(r.file))
        return found(boost::system::in_place_error, "workflow '" + std::string(workflow) + "' is " + r.reason);
  }
  std::string known;
  for (const auto& f : listing.files) known += (known.empty() ? "" : ", ") + f.filename().string();
  return found(boost::system::in_place_error,
               "no workflow '" + std::string(workflow) + "' in " + dir.string() +
                   (known.empty() ? ": none is watched" : "; the watched workflows are " + known));
}

boost::json::object coverage_json(const workflow_plan& p) {
  boost::json::array skipped;
  for (const auto& s : p.skipped) skipped.emplace_back(s);
  boost::json::object out{{"runnable", p.runnable}, {"total", p.total}, {"skipped", std::move(skipped)}};
  if (!p.not_run_locally.empty()) out["not_run_locally"] = p.not_run_locally;
  return out;
}

namespace {

const char* to_string(step_disposition d) {
  switch (d) {
    case step_disposition::run:
      return "run";
    case step_disposition::satisfied:
      return "satisfied";
    case step_disposition::skipped:
      return "skipped";
  }
  return "skipped";
}

}  // namespace

boost::json::object plan_workflow(const config& c, std::string_view name) {
  auto file = find_workflow_file(c, name);
  if (!file) return {{"workflow", name}, {"error", file.error()}};
  const workflow w = load_workflow(*file);
  boost::json::array problems;
  for (const auto& p : w.problems) problems.emplace_back(p);
  boost::json::object out{{"workflow", file->filename().string()},
                          {"name", w.name},
                          {"file", file->string()},
                          {"valid", w.valid()},
                          {"problems", std::move(problems)}};
  if (!w.valid()) {
    out["coverage"] = boost::json::object{{"runnable", 0}, {"total", 0}, {"skipped", boost::json::array{}}};
    out["jobs"] = boost::json::array{};
    return out;
  }
  const workflow_plan plan = make_plan(w);
  out["coverage"] = coverage_json(plan);
  out["local"] = plan.not_run_locally.empty();
  if (!plan.not_run_locally.empty()) out["not_run_locally"] = plan.not_run_locally;
  boost::json::array jobs;
  for (const workflow_job* job : jobs_in_needs_order(w)) {
    boost::json::array needs;
    for (const auto& n : job->needs) needs.emplace_back(n);
    boost::json::object matrix;
    for (const auto& [k, v] : job->matrix) matrix[k] = v;
    boost::json::object j{
        {"id", job->id}, {"needs", std::move(needs)}, {"if", job->if_expr}, {"matrix", std::move(matrix)}};
    if (!job->uses.empty()) {
      j["uses"] = job->uses;
      j["action"] = "skipped";
      j["reason"] = "reusable workflows are not run locally";
    }
    boost::json::array steps;
    for (const auto& sp : plan.steps) {
      if (sp.job != job) continue;
      std::string shell;
      for (const auto& a : sp.command) shell += (shell.empty() ? "" : " ") + a;
      steps.push_back(boost::json::object{{"name", sp.step->name},
                                          {"line", sp.step->line},
                                          {"action", to_string(sp.disposition)},
                                          {"reason", sp.reason},
                                          {"shell", shell},
                                          {"if", sp.step->if_expr}});
    }
    j["steps"] = std::move(steps);
    jobs.push_back(std::move(j));
  }
  out["jobs"] = std::move(jobs);
  return out;
}

}  // namespace redundancy::github
