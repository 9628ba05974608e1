// Workflow YAML to typed structs with yaml-cpp, collecting every problem with its file, line and
// path.
#include "redundancy/github/workflow.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "redundancy/github/cron.hpp"

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

namespace {

bool valid_job_id(std::string_view id) {
  if (id.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(id[0])) return false;
  return std::all_of(id.begin(), id.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9') || c == '-'; });
}

bool is_expression(std::string_view s) { return s.find("${{") != std::string_view::npos; }

bool is_number(std::string_view s) {
  if (s.empty()) return false;
  std::istringstream in{std::string(s)};
  double d = 0;
  in >> d;
  return !in.fail() && in.eof();
}

// Reads one workflow, remembering problems as it goes.
class reader {
 public:
  reader(workflow& w) : w_(w), file_name_(w.file.filename().string()) {}

  void problem(const YAML::Mark& mark, const std::string& path, const std::string& message) {
    problem_at(mark.line >= 0 ? mark.line + 1 : 1, path, message);
  }

  void problem_at(int line, const std::string& path, const std::string& message) {
    w_.problems.push_back(file_name_ + ":" + std::to_string(line) + ": " +
                          (path.empty() ? "" : path + ": ") + message);
  }

  void read(const YAML::Node& root) {
    if (!root.IsMap()) {
      problem(root.Mark(), "", "a workflow must be a map with 'on' and 'jobs'");
      return;
    }
    // Default-constructed yaml-cpp nodes are defined nulls, so presence is tracked separately.
    YAML::Node on;
    YAML::Node jobs;
    bool has_on = false;
    bool has_jobs = false;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string key = it->first.Scalar();
      // YAML 1.1 parsers read the key `on` as the boolean true; accept what they would have
      // written.
      if (key == "on" || key == "true") {
        on = it->second;
        has_on = true;
      } else if (key == "jobs") {
        jobs = it->second;
        has_jobs = true;
      } else if (key == "name")
        w_.name = scalar(it->second);
      else if (key == "env")
        w_.env = read_env(it->second, "env");
      else if (key == "defaults")
        read_defaults(it->second, "defaults", w_.default_shell, w_.default_working_directory);
    }
    if (w_.name.empty()) w_.name = w_.file.filename().string();
    if (!has_on)
      problem(root.Mark(), "on", "a workflow needs triggers ('on')");
    else
      read_on(on);
    if (!has_jobs) {
      problem(root.Mark(), "jobs", "a workflow needs 'jobs'");
      return;
    }
    if (!jobs.IsMap() || jobs.size() == 0) {
      problem(jobs.Mark(), "jobs", "must be a non-empty map of jobs");
      return;
    }
    // yaml-cpp keeps a repeated map key as a second entry; GitHub refuses such a file, and `needs`
    // could not say which of the two it means.
    std::set<std::string> ids;
    for (auto it = jobs.begin(); it != jobs.end(); ++it) {
      const std::string id = it->first.Scalar();
      if (!ids.insert(id).second) {
        problem(it->first.Mark(), "jobs." + id, "the job id appears twice in 'jobs'");
        continue;
      }
      read_job(id, it->first.Mark(), it->second);
    }
    check_needs();
  }

 private:
  static std::string scalar(const YAML::Node& n) {
    return n.IsScalar() ? n.Scalar() : std::string();
  }

  string_map read_env(const YAML::Node& n, const std::string& path) {
    string_map env;
    if (n.IsNull()) return env;
    if (!n.IsMap()) {
      if (!(n.IsScalar() && is_expression(n.Scalar())))
        problem(n.Mark(), path, "must be a map of variables");
      return env;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->second.IsScalar() && !it->second.IsNull()) {
        problem(it->second.Mark(), path + "." + it->first.Scalar(),
                "must be a string, number or boolean");
        continue;
      }
      env[it->first.Scalar()] = scalar(it->second);
    }
    return env;
  }

  void read_defaults(const YAML::Node& n, const std::string& path, std::string& shell,
                     std::string& wd) {
    if (!n.IsMap()) {
      problem(n.Mark(), path, "must be a map");
      return;
    }
    const YAML::Node run = n["run"];
    if (!run) return;
    if (!run.IsMap()) {
      problem(run.Mark(), path + ".run", "must be a map");
      return;
    }
    if (run["shell"]) shell = scalar(run["shell"]);
    if (run["working-directory"]) wd = scalar(run["working-directory"]);
  }

  void read_timeout(const YAML::Node& n, const std::string& path, std::optional<double>& out) {
    const std::string s = scalar(n);
    if (is_number(s))
      out = std::stod(s);
    else if (!is_expression(s))
      problem(n.Mark(), path, "must be a number of minutes, got '" + s + "'");
  }

  void read_on(const YAML::Node& on) {
    if (on.IsScalar()) {
      w_.events.push_back(on.Scalar());
      return;
    }
    if (on.IsSequence()) {
      for (const auto& e : on) {
        if (e.IsScalar())
          w_.events.push_back(e.Scalar());
        else
          problem(e.Mark(), "on", "each event in the list must be a name");
      }
      if (w_.events.empty()) problem(on.Mark(), "on", "names no event");
      return;
    }
    if (!on.IsMap() || on.size() == 0) {
      problem(on.Mark(), "on", "must be an event name, a list or a map of events");
      return;
    }
    for (auto it = on.begin(); it != on.end(); ++it) {
      const std::string event = it->first.Scalar();
      w_.events.push_back(event);
      const YAML::Node body = it->second;
      if (event == "schedule") read_schedule(body);
      if (event == "workflow_dispatch" && body.IsMap() && body["inputs"] &&
          body["inputs"].IsMap()) {
        for (auto in = body["inputs"].begin(); in != body["inputs"].end(); ++in) {
          workflow_input input{.name = in->first.Scalar(), .default_value = {}};
          if (in->second.IsMap() && in->second["default"])
            input.default_value = scalar(in->second["default"]);
          w_.inputs.push_back(input);
        }
      }
      if (event == "repository_dispatch" && body.IsMap() && body["types"]) {
        const YAML::Node types = body["types"];
        if (types.IsScalar()) w_.repository_dispatch_types.push_back(types.Scalar());
        for (const auto& t : types)
          if (t.IsScalar()) w_.repository_dispatch_types.push_back(t.Scalar());
      }
    }
  }

  void read_schedule(const YAML::Node& body) {
    if (!body.IsSequence() || body.size() == 0) {
      problem(body.Mark(), "on.schedule", "must be a list of '- cron: ...' entries");
      return;
    }
    for (std::size_t i = 0; i < body.size(); ++i) {
      const std::string path = "on.schedule[" + std::to_string(i) + "]";
      const YAML::Node entry = body[i];
      if (!entry.IsMap() || !entry["cron"] || !entry["cron"].IsScalar()) {
        problem(entry.Mark(), path, "needs a 'cron' string");
        continue;
      }
      const std::string text = entry["cron"].Scalar();
      auto parsed = parse_cron(text);
      if (!parsed)
        problem(entry["cron"].Mark(), path + ".cron", "'" + text + "': " + parsed.error());
      else
        w_.schedules.push_back(text);
    }
  }

  void read_matrix(const YAML::Node& strategy, workflow_job& job, const std::string& path) {
    if (!strategy.IsMap() || !strategy["matrix"]) return;
    const YAML::Node matrix = strategy["matrix"];
    if (!matrix.IsMap()) return;  // an expression: there is no first combination to take
    for (auto it = matrix.begin(); it != matrix.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (key == "exclude") continue;
      if (key == "include") {
        if (job.matrix.empty() && it->second.IsSequence() && it->second.size() > 0 &&
            it->second[0].IsMap())
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

  void read_job(const std::string& id, const YAML::Mark& mark, const YAML::Node& n) {
    const std::string path = "jobs." + id;
    workflow_job job;
    job.id = id;
    job.line = mark.line + 1;
    if (!valid_job_id(id))
      problem(
          mark, path,
          "a job id must start with a letter or '_' and hold only letters, digits, '-' and '_'");
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
      if (has_steps)
        problem(steps.Mark(), path + ".steps",
                "a job that calls a reusable workflow ('uses') has no steps");
    } else {
      if (!runs_on)
        problem(mark, path, "a job needs 'runs-on' (or 'uses' for a reusable workflow)");
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

  void read_step(const YAML::Node& n, const std::string& path, workflow_job& job) {
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
        if (!v.IsScalar() || step.uses.empty())
          problem(v.Mark(), path + ".uses", "must name an action");
      } else if (key == "id")
        step.id = scalar(v);
      else if (key == "name")
        step.name = scalar(v);
      else if (key == "with")
        step.with = read_env(v, path + ".with");
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

  void check_needs() {
    std::map<std::string, const workflow_job*> by_id;
    for (const auto& j : w_.jobs) by_id[j.id] = &j;
    bool unknown = false;
    for (const auto& j : w_.jobs)
      for (const auto& need : j.needs)
        if (!by_id.count(need)) {
          problem_at(j.line, "jobs." + j.id + ".needs",
                     "'" + need + "' is not a job of this workflow");
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

  workflow& w_;
  std::string file_name_;
};

}  // namespace

workflow parse_workflow(std::string_view text, const std::filesystem::path& file) {
  workflow w;
  w.file = file;
  reader r{w};
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    r.read(root);
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
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    workflow w;
    w.file = file;
    w.name = file.filename().string();
    w.problems.push_back(file.filename().string() + ":1: cannot read " + file.string());
    return w;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_workflow(text.str(), file);
}

namespace {

// True when `inner` is `outer` or below it, both already canonical.
bool lies_within(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

// Why `file` is not to be watched, or nothing when it may be: it must resolve into `dir`.
std::optional<std::string> outside_reason(const std::filesystem::path& file,
                                          const std::filesystem::path& dir) {
  std::error_code ec;
  const auto real_dir = std::filesystem::weakly_canonical(dir, ec);
  if (ec) return std::nullopt;  // no folder: nothing of it is read anyway
  const auto real = std::filesystem::weakly_canonical(file, ec);
  if (ec) return "cannot be resolved: " + ec.message();
  if (lies_within(real, real_dir)) return std::nullopt;
  const bool link = std::filesystem::is_symlink(file, ec);
  return std::string(link ? "a symlink to " : "") + real.string() + ", outside " +
         real_dir.string() + ": not watched";
}

}  // namespace

workflow_listing list_workflows(const std::filesystem::path& dir,
                                const std::vector<std::string>& listed) {
  workflow_listing out;
  std::vector<std::filesystem::path> candidates;
  if (!listed.empty()) {
    for (const auto& name : listed) {
      std::filesystem::path p{name};
      candidates.push_back(p.is_absolute() ? p : dir / p.filename());
    }
  } else {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file(ec) && (ext == ".yml" || ext == ".yaml"))
        candidates.push_back(entry.path());
      else if (entry.is_symlink(ec) && (ext == ".yml" || ext == ".yaml"))
        candidates.push_back(entry.path());  // a dangling or odd link: refused below, with why
    }
    std::sort(candidates.begin(), candidates.end());
  }
  for (auto& file : candidates) {
    if (auto why = outside_reason(file, dir))
      out.refused.push_back({.file = std::move(file), .reason = std::move(*why)});
    else
      out.files.push_back(std::move(file));
  }
  return out;
}

std::vector<std::filesystem::path> workflow_files(const std::filesystem::path& dir,
                                                  const std::vector<std::string>& listed) {
  return list_workflows(dir, listed).files;
}

std::vector<const workflow_job*> jobs_in_needs_order(const workflow& w) {
  std::vector<const workflow_job*> order;
  std::set<std::string> placed;
  // Repeatedly take, in file order, the first job whose needs are all placed; stops on a cycle.
  while (order.size() < w.jobs.size()) {
    bool progressed = false;
    for (const auto& j : w.jobs) {
      if (placed.count(j.id)) continue;
      if (std::all_of(j.needs.begin(), j.needs.end(),
                      [&](const std::string& n) { return placed.count(n) > 0; })) {
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
