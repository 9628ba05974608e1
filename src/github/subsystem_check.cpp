// The github subsystem's checks: each watched workflow's validation, local coverage and runs on
// GitHub, and the subsystem's status from the worst of them.
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

// A file in the workflows folder that is not watched (a symlink out of it): shown, never run.
target_health refused_target(const workflow_listing::refused_file& r) {
  target_health t;
  t.name = r.file.filename().string();
  t.state = status::degraded;
  t.reason = r.reason;
  t.detail["kind"] = "workflow";
  t.detail["valid"] = false;
  t.detail["problems"] = boost::json::array{boost::json::value(r.reason)};
  t.detail["coverage"] = boost::json::object{{"runnable", 0}, {"total", 0}, {"skipped", boost::json::array{}}};
  t.detail["last_runs"] = boost::json::array{};
  t.detail["consecutive_failures"] = 0;
  t.detail["missed_ticks"] = 0;
  t.detail["last_backup"] = nullptr;
  t.detail["monitoring"] = "not watched";
  return t;
}

}  // namespace

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
    h.summary = "nothing to watch: no workflow files in " + dir.string() + " and no github.repository";
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
      if (const auto* p = o.if_contains("pushed_at"); p && p->is_string()) pushed_at_ = from_rfc3339(p->get_string());
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
  h.apart_from_targets = beyond_cap > 0 ? status::degraded : status::healthy;
  std::string summary = std::to_string(h.targets.size()) + " workflow" + (h.targets.size() == 1 ? "" : "s");
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
    t.detail["coverage"] = boost::json::object{{"runnable", 0}, {"total", 0}, {"skipped", boost::json::array{}}};
  t.detail["last_runs"] = boost::json::array{};
  t.detail["consecutive_failures"] = 0;
  t.detail["missed_ticks"] = 0;
  auto last_backup = memory_.last_backup(name);
  t.detail["last_backup"] = last_backup ? boost::json::value(*last_backup) : boost::json::value(nullptr);

  if (!w.wf.valid()) {
    t.state = status::unhealthy;
    t.reason = "invalid: " + w.wf.problems.front() +
               (w.wf.problems.size() > 1 ? " (and " + std::to_string(w.wf.problems.size() - 1) + " more)" : "");
    t.detail["monitoring"] = "not monitored while invalid";
    last_[name] = std::move(w);
    co_return t;
  }
  auto& a = api();
  if (!a) {
    t.state = status::healthy;
    t.detail["monitoring"] =
        !c_.github.repository ? "off: github.repository is not set" : "off: no token in $" + c_.github.token_env;
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
      if (const auto* s = obj->if_contains("state"); s && s->is_string()) o.state = std::string(s->get_string());
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
    last_runs.push_back(boost::json::object{
        {"id", r.id},
        {"event", r.event},
        {"status", r.status},
        {"conclusion", r.conclusion.empty() ? boost::json::value(nullptr) : boost::json::value(r.conclusion)},
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
  t.detail["backup_due"] = w.assessment.backup_wanted && w.assessment.failure_key != memory_.handled(name);
  t.state = w.assessment.state;
  t.reason = w.assessment.reason;
  last_[name] = std::move(w);
  co_return t;
}

}  // namespace redundancy::github
