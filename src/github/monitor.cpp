// Parsing GitHub's run lists and judging a workflow from them, without I/O.
#include "redundancy/github/monitor.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "redundancy/core/time.hpp"
#include "redundancy/github/cron.hpp"

namespace redundancy::github {

boost::system::result<std::vector<workflow_run>, std::string> parse_runs(const boost::json::value& body) {
  const auto* root = body.if_object();
  if (!root) return std::string("expected an object");
  const auto* list = root->if_contains("workflow_runs");
  if (!list || !list->is_array()) return std::string("workflow_runs: expected an array");
  std::vector<workflow_run> runs;
  std::size_t i = 0;
  for (const auto& item : list->get_array()) {
    const std::string path = "workflow_runs[" + std::to_string(i++) + "]";
    const auto* o = item.if_object();
    if (!o) return path + ": expected an object";
    workflow_run r;
    const auto* id = o->if_contains("id");
    if (!id || !(id->is_int64() || id->is_uint64()) || (id->is_int64() && id->get_int64() < 0))
      return path + ".id: expected a number";
    r.id = id->is_uint64() ? id->get_uint64() : static_cast<std::uint64_t>(id->get_int64());
    auto text = [&](const char* key, std::string& out, bool required) -> std::optional<std::string> {
      const auto* v = o->if_contains(key);
      if (v && v->is_string())
        out = std::string(v->get_string());
      else if (v && !v->is_null())
        return path + "." + key + ": expected a string";
      else if (required)
        return path + "." + key + ": missing";
      return std::nullopt;
    };
    std::string created;
    for (auto err :
         {text("event", r.event, false), text("status", r.status, true), text("conclusion", r.conclusion, false),
          text("created_at", created, true), text("head_branch", r.head_branch, false),
          text("run_started_at", r.started_at, false), text("html_url", r.url, false)})
      if (err) return *err;
    auto t = from_rfc3339(created);
    if (!t) return path + ".created_at: expected an RFC 3339 time, got '" + created + "'";
    r.created_at = *t;
    runs.push_back(std::move(r));
  }
  std::stable_sort(runs.begin(), runs.end(),
                   [](const workflow_run& a, const workflow_run& b) { return a.created_at > b.created_at; });
  return runs;
}

namespace {

bool failed(const workflow_run& r) {
  return r.status == "completed" &&
         (r.conclusion == "failure" || r.conclusion == "timed_out" || r.conclusion == "startup_failure");
}

bool succeeded(const workflow_run& r) { return r.status == "completed" && r.conclusion == "success"; }

}  // namespace

bool counts_for_deploy_branch(const workflow_run& r, const std::string& deploy_branch) {
  const bool own_event = r.event.empty() || r.event == "push" || r.event == "schedule" ||
                         r.event == "workflow_dispatch" || r.event == "repository_dispatch";
  return own_event && (deploy_branch.empty() || r.head_branch.empty() || r.head_branch == deploy_branch);
}

workflow_assessment assess(const workflow& w, const workflow_observation& o, const assessment_settings& s) {
  using namespace std::chrono;
  workflow_assessment a;

  // Failed runs since the newest success, newest first.
  std::optional<sys_time> last_success;
  std::vector<const workflow_run*> failures;
  for (const auto& r : o.runs) {
    if (!counts_for_deploy_branch(r, s.deploy_branch)) continue;
    if (succeeded(r)) {
      last_success = r.created_at;
      break;
    }
    if (failed(r)) failures.push_back(&r);
  }

  // Schedule ticks with no schedule-event run within the grace, since the newest success.
  if (!w.schedules.empty()) {
    sys_time start = s.now - s.lookback;
    if (o.workflow_created) start = std::max(start, *o.workflow_created);
    if (last_success) start = std::max(start, *last_success);
    if (o.page_full && !o.runs.empty()) start = std::max(start, o.runs.back().created_at);
    const sys_time end = s.now - s.schedule_grace;
    std::vector<sys_time> missed;
    for (const auto& text : w.schedules) {
      auto cron = parse_cron(text);
      if (!cron || end <= start) continue;
      for (const auto tick : cron->ticks_between(ceil<minutes>(start) - minutes{1}, floor<minutes>(end), 2000)) {
        const sys_time t{tick};
        if (t <= start) continue;
        const bool ran = std::any_of(o.runs.begin(), o.runs.end(), [&](const workflow_run& r) {
          return r.event == "schedule" && r.created_at >= t && r.created_at <= t + s.schedule_grace;
        });
        if (!ran) missed.push_back(t);
      }
    }
    std::sort(missed.begin(), missed.end());
    missed.erase(std::unique(missed.begin(), missed.end()), missed.end());
    a.missed = missed;
    a.missed_ticks = static_cast<unsigned>(missed.size());
  }
  a.consecutive_failures = static_cast<unsigned>(failures.size()) + a.missed_ticks;

  // The newest failure names this streak.
  sys_time newest{};
  if (!failures.empty()) {
    newest = failures.front()->created_at;
    a.failure_key = "run:" + std::to_string(failures.front()->id);
  }
  if (!a.missed.empty() && (a.failure_key.empty() || a.missed.back() > newest)) {
    a.failure_key = "tick:" + std::to_string(duration_cast<seconds>(a.missed.back().time_since_epoch()).count());
  }

  const bool scheduled = !w.schedules.empty();
  if (scheduled && o.repository_pushed && s.now - *o.repository_pushed > hours(24 * 50)) {
    const auto days_idle = duration_cast<hours>(s.now - *o.repository_pushed).count() / 24;
    a.warnings.push_back("no push for " + std::to_string(days_idle) +
                         " days: GitHub disables scheduled workflows after 60 days without activity");
  }

  std::string failures_text;
  if (a.consecutive_failures > 0) {
    failures_text =
        std::to_string(a.consecutive_failures) + " consecutive failure" + (a.consecutive_failures == 1 ? "" : "s");
    std::vector<std::string> parts;
    if (!failures.empty())
      parts.push_back("newest: run " + std::to_string(failures.front()->id) + " " + failures.front()->conclusion);
    if (a.missed_ticks > 0)
      parts.push_back(std::to_string(a.missed_ticks) + " missed schedule tick" + (a.missed_ticks == 1 ? "" : "s"));
    for (std::size_t i = 0; i < parts.size(); ++i) failures_text += (i ? ", " : " (") + parts[i];
    if (!parts.empty()) failures_text += ")";
  }

  if (o.state == "disabled_inactivity" || o.state == "disabled_manually") {
    a.state = status::unhealthy;
    a.reason = "GitHub disabled the workflow (" + o.state + ")";
    if (scheduled) {
      a.backup_wanted = true;
      a.failure_key = "disabled:" + o.state + ":" + o.workflow_updated;
    }
    return a;
  }
  if (a.consecutive_failures >= s.max_failures && a.consecutive_failures > 0) {
    a.state = status::unhealthy;
    a.reason = failures_text;
    a.backup_wanted = true;
    return a;
  }
  if (a.consecutive_failures > 0) {
    a.state = status::degraded;
    a.reason = failures_text;
    return a;
  }
  if (!a.warnings.empty()) {
    a.state = status::degraded;
    a.reason = a.warnings.front();
  }
  return a;
}

}  // namespace redundancy::github
