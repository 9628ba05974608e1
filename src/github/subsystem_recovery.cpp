// The github subsystem's repairs: a dispatch to GitHub, backups (a local run or a dispatch) of
// failing workflows, the emergency run of every workflow, and manual triggers.
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

// Each step of a local run in the action, after the run's own line: "sync.yml: build / test",
// "success: exit 0 in 1.20s".
void append_run_steps(action_result& into, const std::string& workflow, const action_result& run) {
  for (const auto& st : run.steps)
    into.steps.push_back({.name = workflow + ": " + st.name, .ok = st.ok, .detail = st.detail});
}

}  // namespace

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
    step.detail = !c_.github.repository ? "github.repository is not set" : "no token in $" + c_.github.token_env;
    co_return step;
  }
  if (wf.has_event("workflow_dispatch")) {
    const std::string ref = deploy_branch().empty() ? "main" : deploy_branch();
    boost::json::value body = boost::json::object{{"ref", ref}};
    auto answer = co_await a->post("/repos/" + a->repository() + "/actions/workflows/" + name + "/dispatches",
                                   std::move(body), 204);
    step.ok = answer.ok;
    step.detail = answer.ok ? "workflow_dispatch sent for " + ref : answer.error;
  } else if (c_.github.dispatch.event_type) {
    boost::json::value body = boost::json::object{{"event_type", *c_.github.dispatch.event_type},
                                                  {"client_payload", boost::json::object{{"workflow", name}}}};
    auto answer = co_await a->post("/repos/" + a->repository() + "/dispatches", std::move(body), 204);
    step.ok = answer.ok;
    step.detail = answer.ok ? "repository_dispatch '" + *c_.github.dispatch.event_type + "' sent" : answer.error;
  } else {
    step.detail = "the workflow has no workflow_dispatch trigger and github.dispatch.event_type is not set";
  }
  RLOG("github", info) << step.name << ": " << step.detail;
  co_return step;
}

awaitable<action_result> github_subsystem::backup(const workflow& wf, std::vector<std::string> modes) {
  action_result result;
  result.ok = true;
  const std::string name = wf.file.filename().string();
  std::vector<std::string> parts;
  for (const auto& mode : modes) {
    if (mode == "local") {
      if (!c_.github.local_execution.enabled) {
        result.steps.push_back(
            {.name = "local " + name, .ok = true, .detail = "skipped: github.local_execution.enabled is false"});
        continue;
      }
      if (!wf.runs_on_deploy_branch_events()) {
        result.steps.push_back(
            {.name = "local " + name, .ok = true, .detail = "skipped: " + wf.not_run_locally_reason()});
        parts.push_back("local: skipped");
        continue;
      }
      auto report = co_await run_local(c_, wf);
      result.steps.push_back({.name = "local " + name, .ok = report.result.ok, .detail = report.result.summary});
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
  if (result.output_tail.size() > tail_keep) result.output_tail.erase(0, result.output_tail.size() - tail_keep);
  std::string joined;
  for (const auto& p : parts) joined += (joined.empty() ? "" : "; ") + p;
  result.summary = name + " backup " + (result.ok ? "done" : "failed") + (joined.empty() ? "" : ": " + joined);
  co_return result;
}

namespace {

boost::json::object backup_record(sys_time at, const std::vector<std::string>& modes, const action_result& r) {
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
    RLOG("github", warning) << name << ": " << w.assessment.reason << "; backing up (" << w.assessment.failure_key
                            << ")";
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

awaitable<action_result> github_subsystem::emergency(target_names left_alone) {
  auto self = shared_from_this();
  action_result all;
  all.ok = true;
  unsigned ran = 0;
  unsigned failed = 0;
  for (const auto& file : files()) {
    if (left_alone.contains(file.filename().string())) {
      all.steps.push_back({.name = "local " + file.filename().string(), .ok = true, .detail = "skipped: paused"});
      continue;
    }
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
    all.steps.push_back(
        {.name = "local " + file.filename().string(), .ok = report.result.ok, .detail = report.result.summary});
    append_run_steps(all, file.filename().string(), report.result);
    all.output_tail += report.result.output_tail;
  }
  constexpr std::size_t tail_keep = 8 * 1024;
  if (all.output_tail.size() > tail_keep) all.output_tail.erase(0, all.output_tail.size() - tail_keep);
  all.summary = ran == 0 ? "no valid workflow to run locally"
                         : "ran " + std::to_string(ran) + " workflows locally, " + std::to_string(failed) + " failed";
  if (ran == 0) all.ok = !files().empty() ? false : true;
  co_return all;
}

awaitable<action_result> github_subsystem::run_trigger(std::vector<workflow> targets, std::vector<std::string> modes) {
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

}  // namespace redundancy::github
