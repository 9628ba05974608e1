// The github subsystem: checks (validation, coverage, runs on GitHub), backups, emergency,
// triggers.
#include "redundancy/github/subsystem.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <set>

#include "redundancy/core/limits.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/github/local_runner.hpp"

namespace redundancy::github {
namespace {

int severity_rank(status s) {
  switch (s) {
    case status::unhealthy:
      return 4;
    case status::unknown:
      return 3;
    case status::degraded:
      return 2;
    default:
      return 1;
  }
}

// Each step of a local run in the action, after the run's own line: "sync.yml: build / test",
// "success: exit 0 in 1.20s".
void append_run_steps(action_result& into, const std::string& workflow, const action_result& run) {
  for (const auto& st : run.steps)
    into.steps.push_back({.name = workflow + ": " + st.name, .ok = st.ok, .detail = st.detail});
}

// A file in the workflows folder that is not watched (a symlink out of it): shown, never run.
target_health refused_target(const workflow_listing::refused_file& r) {
  target_health t;
  t.name = r.file.filename().string();
  t.state = status::degraded;
  t.reason = r.reason;
  t.detail["kind"] = "workflow";
  t.detail["valid"] = false;
  t.detail["problems"] = boost::json::array{boost::json::value(r.reason)};
  t.detail["coverage"] =
      boost::json::object{{"runnable", 0}, {"total", 0}, {"skipped", boost::json::array{}}};
  t.detail["last_runs"] = boost::json::array{};
  t.detail["consecutive_failures"] = 0;
  t.detail["missed_ticks"] = 0;
  t.detail["last_backup"] = nullptr;
  t.detail["monitoring"] = "not watched";
  return t;
}

std::string env_or_empty(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

}  // namespace

github_subsystem::github_subsystem(const config& c)
    : c_(c), memory_(c.state_dir / "github-backups.json") {}

std::vector<std::filesystem::path> github_subsystem::files() const {
  return workflow_files(c_.project_dir / c_.github.workflows_dir, c_.github.workflows);
}

std::unique_ptr<github_api>& github_subsystem::api() {
  const std::string token = env_or_empty(c_.github.token_env);
  if (!c_.github.repository || token.empty())
    api_.reset();
  else if (!api_ || token != api_token_) {
    // A rotated token invalidates every cached ETag, so the client (and its cache) starts afresh.
    api_ = std::make_unique<github_api>(c_.github, token);
    api_token_ = token;
  }
  return api_;
}

awaitable<health> github_subsystem::check() {
  health h;
  h.checked_at = now_();
  unreachable_.clear();
  const auto dir = c_.project_dir / c_.github.workflows_dir;
  const auto listing = list_workflows(dir, c_.github.workflows);
  auto found = listing.files;
  // A folder is not bounded by the config's check: beyond the cap, files are counted, not watched.
  const std::size_t beyond_cap = found.size() > max_targets ? found.size() - max_targets : 0;
  found.resize(std::min(found.size(), max_targets));
  if (found.empty() && listing.refused.empty() && !c_.github.repository) {
    h.state = status::disabled;
    h.summary =
        "nothing to watch: no workflow files in " + dir.string() + " and no github.repository";
    last_.clear();
    co_return h;
  }
  if (auto& a = api()) {
    auto repo = co_await a->get("/repos/" + a->repository());
    if (!repo.ok && !repo.rate_limited && repo.status == 0) unreachable_ = repo.error;
    if (repo.ok && repo.body.is_object()) {
      const auto& o = repo.body.get_object();
      if (const auto* b = o.if_contains("default_branch"); b && b->is_string())
        default_branch_ = std::string(b->get_string());
      if (const auto* p = o.if_contains("pushed_at"); p && p->is_string())
        pushed_at_ = from_rfc3339(p->get_string());
    }
  }
  for (const auto& file : found) {
    h.targets.push_back(co_await check_workflow(file));
  }
  for (const auto& r : listing.refused) h.targets.push_back(refused_target(r));
  if (found.empty() && listing.refused.empty()) {
    h.state = status::degraded;
    h.summary = "no workflow files in " + dir.string();
    co_return h;
  }
  const target_health* worst = nullptr;
  std::map<status, unsigned> counts;
  for (const auto& t : h.targets) {
    ++counts[t.state];
    if (!worst || severity_rank(t.state) > severity_rank(worst->state)) worst = &t;
  }
  h.state = worst->state == status::disabled ? status::healthy : worst->state;
  std::string summary =
      std::to_string(h.targets.size()) + " workflow" + (h.targets.size() == 1 ? "" : "s");
  for (status s : {status::unhealthy, status::unknown, status::degraded})
    if (counts[s]) summary += ", " + std::to_string(counts[s]) + " " + std::string(to_string(s));
  if (h.state != status::healthy) summary += " (" + worst->name + ": " + worst->reason + ")";
  if (beyond_cap > 0) {
    if (h.state == status::healthy) h.state = status::degraded;
    summary += "; " + std::to_string(beyond_cap) + " more workflow files not watched: at most " +
               std::to_string(max_targets) + " are";
  }
  h.summary = summary;
  co_return h;
}

std::string github_subsystem::deploy_branch() const {
  return c_.github.dispatch.ref.value_or(default_branch_);
}

awaitable<target_health> github_subsystem::check_workflow(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  watched w{.file = file, .wf = load_workflow(file), .assessment = {}};
  target_health t;
  t.name = name;
  t.detail["kind"] = "workflow";
  boost::json::array problems;
  for (const auto& p : w.wf.problems) problems.emplace_back(p);
  t.detail["valid"] = w.wf.valid();
  t.detail["problems"] = std::move(problems);
  if (w.wf.valid())
    t.detail["coverage"] = coverage_json(make_plan(w.wf));
  else
    t.detail["coverage"] =
        boost::json::object{{"runnable", 0}, {"total", 0}, {"skipped", boost::json::array{}}};
  t.detail["last_runs"] = boost::json::array{};
  t.detail["consecutive_failures"] = 0;
  t.detail["missed_ticks"] = 0;
  auto last_backup = memory_.last_backup(name);
  t.detail["last_backup"] =
      last_backup ? boost::json::value(*last_backup) : boost::json::value(nullptr);

  if (!w.wf.valid()) {
    t.state = status::unhealthy;
    t.reason =
        "invalid: " + w.wf.problems.front() +
        (w.wf.problems.size() > 1 ? " (and " + std::to_string(w.wf.problems.size() - 1) + " more)"
                                  : "");
    t.detail["monitoring"] = "not monitored while invalid";
    last_[name] = std::move(w);
    co_return t;
  }
  auto& a = api();
  if (!a) {
    t.state = status::healthy;
    t.detail["monitoring"] = !c_.github.repository ? "off: github.repository is not set"
                                                   : "off: no token in $" + c_.github.token_env;
    last_[name] = std::move(w);
    co_return t;
  }
  t.detail["monitoring"] = "on";
  if (!unreachable_.empty()) {
    // One unreachable GitHub per check: the other workflows do not wait for their own timeouts.
    t.state = status::unknown;
    t.reason = unreachable_;
    w.assessment.state = status::unknown;
    last_[name] = std::move(w);
    co_return t;
  }
  const std::string base = "/repos/" + a->repository() + "/actions/workflows/" + name;
  constexpr unsigned per_page = 30;
  auto runs_answer = co_await a->get(base + "/runs?per_page=" + std::to_string(per_page));
  std::optional<std::vector<workflow_run>> runs;
  std::string error = runs_answer.error;
  if (runs_answer.ok) {
    auto parsed = parse_runs(runs_answer.body);
    if (parsed)
      runs = std::move(*parsed);
    else
      error = "GitHub's run list is not understood: " + parsed.error();
  }
  workflow_observation o;
  if (runs) {
    auto info = co_await a->get(base);
    if (!info.ok) {
      error = info.error;
      runs.reset();
    } else if (const auto* obj = info.body.if_object()) {
      if (const auto* s = obj->if_contains("state"); s && s->is_string())
        o.state = std::string(s->get_string());
      if (const auto* s = obj->if_contains("created_at"); s && s->is_string())
        o.workflow_created = from_rfc3339(s->get_string());
      if (const auto* s = obj->if_contains("updated_at"); s && s->is_string())
        o.workflow_updated = std::string(s->get_string());
    }
  }
  if (!runs && !runs_answer.ok && !runs_answer.rate_limited && runs_answer.status == 0)
    unreachable_ = runs_answer.error;
  if (!runs) {
    // Not knowing is not failing: no recovery, no backup.
    t.state = status::unknown;
    t.reason = error;
    w.assessment.state = status::unknown;
    last_[name] = std::move(w);
    co_return t;
  }
  o.page_full = runs->size() >= per_page;
  o.runs = std::move(*runs);
  o.repository_pushed = pushed_at_;
  w.assessment = assess(w.wf, o,
                        assessment_settings{.max_failures = c_.github.max_failures,
                                            .schedule_grace = c_.github.schedule_grace,
                                            .lookback = std::chrono::hours(24),
                                            .now = now_(),
                                            .deploy_branch = deploy_branch()});
  boost::json::array last_runs;
  for (std::size_t i = 0; i < o.runs.size() && i < 5; ++i) {
    const auto& r = o.runs[i];
    last_runs.push_back(
        boost::json::object{{"id", r.id},
                            {"event", r.event},
                            {"status", r.status},
                            {"conclusion", r.conclusion.empty() ? boost::json::value(nullptr)
                                                                : boost::json::value(r.conclusion)},
                            {"started_at", r.started_at},
                            {"url", r.url}});
  }
  t.detail["last_runs"] = std::move(last_runs);
  t.detail["consecutive_failures"] = w.assessment.consecutive_failures;
  t.detail["missed_ticks"] = w.assessment.missed_ticks;
  t.detail["state"] = o.state;
  boost::json::array warnings;
  for (const auto& s : w.assessment.warnings) warnings.emplace_back(s);
  t.detail["warnings"] = std::move(warnings);
  t.detail["backup_due"] =
      w.assessment.backup_wanted && w.assessment.failure_key != memory_.handled(name);
  t.state = w.assessment.state;
  t.reason = w.assessment.reason;
  last_[name] = std::move(w);
  co_return t;
}

awaitable<action_step> github_subsystem::dispatch(const workflow& wf) {
  const std::string name = wf.file.filename().string();
  action_step step{.name = "dispatch " + name, .ok = false, .detail = {}};
  if (!c_.github.dispatch.enabled) {
    step.ok = true;
    step.detail = "skipped: github.dispatch.enabled is false";
    co_return step;
  }
  auto& a = api();
  if (!a) {
    step.detail = !c_.github.repository ? "github.repository is not set"
                                        : "no token in $" + c_.github.token_env;
    co_return step;
  }
  if (wf.has_event("workflow_dispatch")) {
    const std::string ref = deploy_branch().empty() ? "main" : deploy_branch();
    boost::json::value body = boost::json::object{{"ref", ref}};
    auto answer =
        co_await a->post("/repos/" + a->repository() + "/actions/workflows/" + name + "/dispatches",
                         std::move(body), 204);
    step.ok = answer.ok;
    step.detail = answer.ok ? "workflow_dispatch sent for " + ref : answer.error;
  } else if (c_.github.dispatch.event_type) {
    boost::json::value body =
        boost::json::object{{"event_type", *c_.github.dispatch.event_type},
                            {"client_payload", boost::json::object{{"workflow", name}}}};
    auto answer =
        co_await a->post("/repos/" + a->repository() + "/dispatches", std::move(body), 204);
    step.ok = answer.ok;
    step.detail = answer.ok ? "repository_dispatch '" + *c_.github.dispatch.event_type + "' sent"
                            : answer.error;
  } else {
    step.detail =
        "the workflow has no workflow_dispatch trigger and github.dispatch.event_type is not set";
  }
  RLOG("github", info) << step.name << ": " << step.detail;
  co_return step;
}

awaitable<action_result> github_subsystem::backup(const workflow& wf,
                                                  std::vector<std::string> modes) {
  action_result result;
  result.ok = true;
  const std::string name = wf.file.filename().string();
  std::vector<std::string> parts;
  for (const auto& mode : modes) {
    if (mode == "local") {
      if (!c_.github.local_execution.enabled) {
        result.steps.push_back({.name = "local " + name,
                                .ok = true,
                                .detail = "skipped: github.local_execution.enabled is false"});
        continue;
      }
      if (!wf.runs_on_deploy_branch_events()) {
        result.steps.push_back({.name = "local " + name,
                                .ok = true,
                                .detail = "skipped: " + wf.not_run_locally_reason()});
        parts.push_back("local: skipped");
        continue;
      }
      auto report = co_await run_local(c_, wf);
      result.steps.push_back(
          {.name = "local " + name, .ok = report.result.ok, .detail = report.result.summary});
      append_run_steps(result, name, report.result);
      result.output_tail += report.result.output_tail;
      result.ok = result.ok && report.result.ok;
      parts.push_back("local: " + std::string(to_string(report.conclusion)));
    } else if (mode == "dispatch") {
      auto step = co_await dispatch(wf);
      result.ok = result.ok && step.ok;
      parts.push_back("dispatch: " + std::string(step.ok ? "sent" : "failed") +
                      (step.ok ? "" : " (" + step.detail + ")"));
      result.steps.push_back(std::move(step));
    }
  }
  constexpr std::size_t tail_keep = 8 * 1024;
  if (result.output_tail.size() > tail_keep)
    result.output_tail.erase(0, result.output_tail.size() - tail_keep);
  std::string joined;
  for (const auto& p : parts) joined += (joined.empty() ? "" : "; ") + p;
  result.summary =
      name + " backup " + (result.ok ? "done" : "failed") + (joined.empty() ? "" : ": " + joined);
  co_return result;
}

namespace {

boost::json::object backup_record(sys_time at, const std::vector<std::string>& modes,
                                  const action_result& r) {
  std::string mode;
  for (const auto& m : modes) mode += (mode.empty() ? "" : "+") + m;
  return {{"at", to_rfc3339(at)}, {"mode", mode}, {"ok", r.ok}, {"summary", r.summary}};
}

}  // namespace

awaitable<action_result> github_subsystem::recover(const health& last) {
  // Keep this object alive while the backups run, even if the daemon replaces it meanwhile.
  auto self = shared_from_this();
  // Read `last` before the first suspension: the caller's copy need not outlive this coroutine.
  std::set<std::string> paused;
  for (const auto& t : last.targets)
    if (t.state == status::paused) paused.insert(t.name);
  action_result all;
  all.ok = true;
  std::vector<std::string> done;
  std::vector<std::string> waiting;
  const auto snapshot = last_;  // a check may replace last_ while a backup runs
  for (const auto& [name, w] : snapshot) {
    if (paused.count(name)) continue;
    if (!w.wf.valid()) {
      waiting.push_back(name + " is invalid and needs a fix");
      continue;
    }
    if (!w.assessment.backup_wanted) continue;
    if (w.assessment.failure_key == memory_.handled(name)) {
      waiting.push_back(name + " was already backed up for " + w.assessment.failure_key);
      continue;
    }
    RLOG("github", warning) << name << ": " << w.assessment.reason << "; backing up ("
                            << w.assessment.failure_key << ")";
    const auto key = w.assessment.failure_key;
    auto r = co_await backup(w.wf, c_.github.backup);
    memory_.remember(name, key, backup_record(now_(), c_.github.backup, r));
    all.ok = all.ok && r.ok;
    all.steps.insert(all.steps.end(), r.steps.begin(), r.steps.end());
    all.output_tail += r.output_tail;
    done.push_back(r.summary);
  }
  std::string summary;
  for (const auto& d : done) summary += (summary.empty() ? "" : "; ") + d;
  if (done.empty()) {
    summary = "no backup due";
    for (std::size_t i = 0; i < waiting.size(); ++i) summary += (i ? "; " : ": ") + waiting[i];
  }
  all.summary = summary;
  co_return all;
}

awaitable<action_result> github_subsystem::emergency() {
  auto self = shared_from_this();
  action_result all;
  all.ok = true;
  unsigned ran = 0;
  unsigned failed = 0;
  for (const auto& file : files()) {
    const workflow wf = load_workflow(file);
    if (!wf.valid()) {
      all.steps.push_back({.name = "local " + file.filename().string(),
                           .ok = true,
                           .detail = "skipped: invalid workflows are never run"});
      continue;
    }
    if (!wf.runs_on_deploy_branch_events()) {
      all.steps.push_back({.name = "local " + file.filename().string(),
                           .ok = true,
                           .detail = "skipped: " + wf.not_run_locally_reason()});
      continue;
    }
    auto report = co_await run_local(c_, wf);
    ++ran;
    if (!report.result.ok) ++failed;
    all.ok = all.ok && report.result.ok;
    all.steps.push_back({.name = "local " + file.filename().string(),
                         .ok = report.result.ok,
                         .detail = report.result.summary});
    append_run_steps(all, file.filename().string(), report.result);
    all.output_tail += report.result.output_tail;
  }
  constexpr std::size_t tail_keep = 8 * 1024;
  if (all.output_tail.size() > tail_keep)
    all.output_tail.erase(0, all.output_tail.size() - tail_keep);
  all.summary = ran == 0 ? "no valid workflow to run locally"
                         : "ran " + std::to_string(ran) + " workflows locally, " +
                               std::to_string(failed) + " failed";
  if (ran == 0) all.ok = !files().empty() ? false : true;
  co_return all;
}

awaitable<action_result> github_subsystem::run_trigger(std::vector<workflow> targets,
                                                       std::vector<std::string> modes) {
  auto self = shared_from_this();
  action_result all;
  all.ok = true;
  std::string summary;
  for (const auto& wf : targets) {
    auto r = co_await backup(wf, modes);
    memory_.remember_backup(wf.file.filename().string(), backup_record(now_(), modes, r));
    all.ok = all.ok && r.ok;
    all.steps.insert(all.steps.end(), r.steps.begin(), r.steps.end());
    all.output_tail += r.output_tail;
    summary += (summary.empty() ? "" : "; ") + r.summary;
  }
  all.summary = summary;
  co_return all;
}

std::optional<std::string> github_subsystem::unknown_target(std::string_view verb,
                                                            const boost::json::object& args) const {
  if (verb != "trigger") return std::nullopt;
  const auto* wname = args.if_contains("workflow");
  if (!wname || !wname->is_string()) return std::nullopt;  // absent: all; not a string: a 400
  auto file = find_workflow_file(c_, wname->get_string());
  if (file) return std::nullopt;
  return file.error();
}

boost::system::result<subsystem::manual_work, std::string> github_subsystem::manual(
    std::string_view verb, const boost::json::object& args) {
  using answer = boost::system::result<manual_work, std::string>;
  if (verb != "trigger") return subsystem::manual(verb, args);
  std::vector<std::string> modes = c_.github.backup;
  if (const auto* m = args.if_contains("mode"); m && !m->is_null()) {
    if (!m->is_string() || (m->get_string() != "local" && m->get_string() != "dispatch"))
      return answer(boost::system::in_place_error,
                    std::string("mode: expected \"local\" or \"dispatch\""));
    modes = {std::string(m->get_string())};
  }
  std::vector<workflow> targets;
  if (const auto* wname = args.if_contains("workflow"); wname && !wname->is_null()) {
    if (!wname->is_string())
      return answer(boost::system::in_place_error, std::string("workflow: expected a file name"));
    auto file = find_workflow_file(c_, wname->get_string());
    if (!file) return answer(boost::system::in_place_error, file.error());
    auto wf = load_workflow(*file);
    if (!wf.valid())
      return answer(
          boost::system::in_place_error,
          file->filename().string() + " is invalid and is never run: " + wf.problems.front());
    if (modes == std::vector<std::string>{"local"} && !wf.runs_on_deploy_branch_events())
      return answer(boost::system::in_place_error,
                    file->filename().string() + ": " + wf.not_run_locally_reason());
    targets.push_back(std::move(wf));
  } else {
    for (const auto& file : files()) {
      auto wf = load_workflow(file);
      if (wf.valid()) targets.push_back(std::move(wf));
    }
    if (targets.empty())
      return answer(boost::system::in_place_error, std::string("no valid workflow to trigger"));
  }
  // A plain lambda around a member coroutine: the coroutine's frame owns its copies of the
  // arguments.
  auto self = shared_from_this();
  manual_work work = [self, targets = std::move(targets), modes]() {
    return self->run_trigger(targets, modes);
  };
  return answer(boost::system::in_place_value, std::move(work));
}

}  // namespace redundancy::github
