// The workflow reader's top level: problems with their file and line, the file's keys, env,
// defaults, timeouts, triggers ('on', with workflow_dispatch inputs) and schedules.
#include <set>
#include <sstream>

#include "redundancy/github/cron.hpp"
#include "workflow_reader.hpp"

namespace redundancy::github::workflow_detail {

namespace {

bool is_number(std::string_view s) {
  if (s.empty()) return false;
  std::istringstream in{std::string(s)};
  double d = 0;
  in >> d;
  return !in.fail() && in.eof();
}

}  // namespace

void reader::problem(const YAML::Mark& mark, const std::string& path, const std::string& message) {
  problem_at(mark.line >= 0 ? mark.line + 1 : 1, path, message);
}

void reader::problem_at(int line, const std::string& path, const std::string& message) {
  lines_.insert(line);
  paths_.insert(path);
  w_.problems.push_back(file_name_ + ":" + std::to_string(line) + ": " + (path.empty() ? "" : path + ": ") + message);
}

void reader::read(const YAML::Node& root) {
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
      w_.env = read_env(it->second, "env", true);
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

std::string reader::scalar(const YAML::Node& n) { return n.IsScalar() ? n.Scalar() : std::string(); }

string_map reader::read_env(const YAML::Node& n, const std::string& path, bool whole_expression_allowed) {
  string_map env;
  if (n.IsNull()) return env;
  if (!n.IsMap()) {
    if (!(n.IsScalar() && is_expression(n.Scalar())))
      problem(n.Mark(), path, "must be a map of variables");
    else if (!whole_expression_allowed)
      // GitHub's schema lets it through, its converter then refuses it ("The type 'MappingToken' was
      // expected"): only the workflow's own env may be one expression.
      problem(n.Mark(), path,
              "must be a map of variables, not one expression ('" + n.Scalar() +
                  "'): give each variable its own expression");
    return env;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->second.IsScalar() && !it->second.IsNull()) {
      problem(it->second.Mark(), path + "." + it->first.Scalar(), "must be a string, number or boolean");
      continue;
    }
    env[it->first.Scalar()] = scalar(it->second);
  }
  return env;
}

void reader::read_defaults(const YAML::Node& n, const std::string& path, std::string& shell, std::string& wd) {
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

void reader::read_timeout(const YAML::Node& n, const std::string& path, std::optional<double>& out) {
  const std::string s = scalar(n);
  if (is_number(s))
    out = std::stod(s);
  else if (!is_expression(s))
    problem(n.Mark(), path, "must be a number of minutes, got '" + s + "'");
}

void reader::read_on(const YAML::Node& on) {
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
    if (event == "workflow_dispatch" && body.IsMap() && body["inputs"] && body["inputs"].IsMap()) {
      for (auto in = body["inputs"].begin(); in != body["inputs"].end(); ++in) {
        workflow_input input{.name = in->first.Scalar(), .default_value = {}};
        if (in->second.IsMap() && in->second["default"]) input.default_value = scalar(in->second["default"]);
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

void reader::read_schedule(const YAML::Node& body) {
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

}  // namespace redundancy::github::workflow_detail
