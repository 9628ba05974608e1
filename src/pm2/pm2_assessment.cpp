// The check: the expected apps judged against PM2's list (each app's restart_fsm), the others listed,
// the quieter dangers (the dump, the daemon's memory), and the overall state with its summary.
#include "redundancy/pm2/pm2_subsystem.hpp"

#include "pm2_subsystem_internal.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>
#include <cmath>

namespace redundancy::pm2 {
namespace {

// The status of an app from its instances: online only when every instance is; otherwise the worst.
app_status combined_status(const std::vector<const app_entry*>& instances) {
  constexpr std::array<app_status, 6> worst_first{app_status::errored,         app_status::stopped,
                                                  app_status::stopping,        app_status::other,
                                                  app_status::waiting_restart, app_status::launching};
  for (auto s : worst_first)
    for (auto* i : instances)
      if (i->status == s) return s;
  for (auto* i : instances)
    if (i->status != app_status::online) return i->status;
  return app_status::online;
}

status target_status(app_state s) {
  switch (s) {
    case app_state::healthy:
      return status::healthy;
    case app_state::starting:
    case app_state::cpu_warning:
    case app_state::stopped_by_hand:
      return status::degraded;
    case app_state::down:
    case app_state::overloaded:
    case app_state::given_up:
      return status::unhealthy;
  }
  return status::unhealthy;
}

// Measures of one app (all instances) for the target's detail.
struct measures {
  int pid{0};
  double cpu{0};
  std::uint64_t memory{0};
  std::uint64_t restarts{0};
  std::int64_t uptime{0};
  double memory_pct{0};  // the highest instance, against its max_memory_restart or the RAM
  double cpu_max{0};
  std::string status_text{"absent"};
};

measures measure(const std::vector<const app_entry*>& instances, std::uint64_t ram) {
  measures m;
  bool first = true;
  auto now = std::chrono::system_clock::now();
  for (auto* i : instances) {
    if (m.pid == 0) m.pid = i->pid;
    m.cpu += i->cpu_percent;
    m.cpu_max = std::max(m.cpu_max, i->cpu_percent);
    m.memory += i->memory_bytes;
    m.restarts += i->restart_time;
    auto up = i->uptime(now).count();
    m.uptime = first ? up : std::min(m.uptime, up);
    first = false;
    auto limit = i->max_memory_restart.value_or(ram);
    if (limit > 0)
      m.memory_pct = std::max(m.memory_pct, 100.0 * static_cast<double>(i->memory_bytes) / static_cast<double>(limit));
  }
  if (!instances.empty()) m.status_text = std::string(to_string(combined_status(instances)));
  if (!instances.empty() && combined_status(instances) == app_status::other)
    m.status_text = instances.front()->status_text;
  return m;
}

boost::json::object app_detail(const measures& m, bool expected, const std::optional<std::filesystem::path>& file) {
  boost::json::object d;
  d["kind"] = "app";
  d["status"] = m.status_text;
  d["pid"] = m.pid;
  d["cpu_percent"] = m.cpu;
  d["memory_bytes"] = m.memory;
  d["memory_percent"] = std::round(m.memory_pct * 10) / 10;
  d["restarts"] = m.restarts;
  d["uptime_seconds"] = m.uptime;
  d["expected"] = expected;
  d["ecosystem_file"] = file ? boost::json::value(file->string()) : boost::json::value(nullptr);
  return d;
}

}  // namespace

awaitable<health> pm2_subsystem::check() {
  health h;
  findings found;
  auto now = fsm_clock::now();
  co_await gather_expected(h, found);
  auto probe = co_await read_list(found);
  judge_apps(h, found, now);
  const auto target_warnings = found.warnings.size();
  warn_about_dangers(probe, found);
  h.counterpart = probe.pid > 0 ? "PM2 daemon pid " + std::to_string(probe.pid) : "no PM2 daemon";
  const auto& problems = found.problems;
  const auto& warnings = found.warnings;

  // The overall state, worst first.
  bool files_failed =
      std::any_of(files_.begin(), files_.end(), [](const auto& f) { return f.mtime && !f.error.empty(); });
  if (state_ == pm2_state::bad_output && !files_failed)
    h.state = status::unknown;
  else if (state_ != pm2_state::ok && state_ != pm2_state::bad_output)
    h.state = status::unhealthy;
  else if (found.any_unhealthy || files_failed)
    h.state = status::unhealthy;
  else if (expected_.empty() && warnings.empty())
    h.state = status::disabled;
  else if (found.any_degraded || !warnings.empty())
    h.state = status::degraded;
  else
    h.state = status::healthy;
  // The same without the apps' own states: the daemon, the files, and the warnings that are no app's.
  if (state_ == pm2_state::ok)
    h.apart_from_targets = files_failed                        ? status::unhealthy
                           : warnings.size() > target_warnings ? status::degraded
                                                               : status::healthy;

  std::vector<std::string> all = problems;
  all.insert(all.end(), warnings.begin(), warnings.end());
  if (h.state == status::disabled) {
    h.summary = "no PM2 app expected: pm2.processes is empty and no ecosystem file defines an app";
  } else if (all.empty()) {
    unsigned online = 0;
    for (const auto& t : h.targets)
      if (t.detail.contains("expected") && t.detail.at("expected").as_bool() && t.state == status::healthy) ++online;
    h.summary = std::to_string(online) + " of " + std::to_string(expected_.size()) + " expected apps online" +
                (source_ == list_source::rpc ? " (read over rpc.sock)" : " (read with pm2 jlist)");
  } else {
    for (const auto& line : all) h.summary += (h.summary.empty() ? "" : "; ") + line;
  }
  h.checked_at = std::chrono::system_clock::now();
  last_ = h;
  co_return h;
}

void pm2_subsystem::judge_apps(health& h, findings& found, fsm_clock::time_point now) {
  auto& problems = found.problems;
  auto& warnings = found.warnings;
  // Every app: the expected ones judged and remembered, the others listed and measured only.
  const auto ram = detail::total_ram();
  bool logrotate = false;
  std::map<std::string, std::vector<const app_entry*>> by_name;
  for (const auto& e : list_) {
    by_name[e.name].push_back(&e);
    if (e.name == "pm2-logrotate" && e.status == app_status::online) logrotate = true;
  }
  const bool measure_logs = logs_due(now);
  for (auto& [name, app] : expected_) {
    auto found_app = by_name.find(name);
    std::vector<const app_entry*> instances =
        found_app == by_name.end() ? std::vector<const app_entry*>{} : found_app->second;
    auto m = measure(instances, ram);
    target_health t{.name = name, .state = status::unknown, .reason = {}, .detail = app_detail(m, true, app.file)};
    t.detail["source"] = to_string(source_);
    if (state_ == pm2_state::ok) {
      const auto status = instances.empty() ? app_status::other : combined_status(instances);
      const bool stopped = status == app_status::stopped || status == app_status::stopping;
      // Running again (started by a person, or gone): the stop on purpose is over.
      if (!stopped) manual_stops_.remove(name);
      observation seen{.listed = !instances.empty(),
                       .status = status,
                       .memory_over = m.memory_pct >= pm2_.memory_threshold_pct,
                       .cpu_over = m.cpu_max >= pm2_.cpu_threshold_pct,
                       .stopped_by_hand = stopped && stopped_by_hand(name)};
      auto s = app.fsm.observe(seen, now);
      t.state = target_status(s);
      t.reason = app.fsm.reason();
      t.detail["state"] = to_string(s);
      if (t.state == status::unhealthy) problems.push_back(name + ": " + t.reason);
      if (t.state == status::degraded) warnings.push_back(name + ": " + t.reason);
      if (measure_logs && !logrotate) measure_logs_of(name, instances);
    } else {
      t.state = state_ == pm2_state::bad_output ? status::unknown : status::unhealthy;
      t.reason = "PM2 is not usable (" + std::string(to_string(state_)) + ")";
    }
    t.detail["attempts_left"] = app.fsm.attempts_left(now);
    t.detail["given_up"] = app.fsm.given_up();
    found.any_unhealthy |= t.state == status::unhealthy;
    found.any_degraded |= t.state == status::degraded;
    h.targets.push_back(std::move(t));
  }
  for (const auto& [name, instances] : by_name) {
    if (expected_.count(name)) continue;
    auto m = measure(instances, ram);
    target_health t{.name = name, .state = status::healthy, .reason = {}, .detail = app_detail(m, false, std::nullopt)};
    t.detail["source"] = to_string(source_);
    if (combined_status(instances) != app_status::online) {
      // Not ours to judge: shown, never counted, never touched.
      t.state = status::disabled;
      t.reason = "not expected (not in pm2.processes or an ecosystem file): " + m.status_text + ", left alone";
    }
    h.targets.push_back(std::move(t));
  }
}

void pm2_subsystem::warn_about_dangers(const daemon_probe& probe, findings& found) {
  auto& warnings = found.warnings;
  warnings.insert(warnings.end(), log_warnings_.begin(), log_warnings_.end());
  // The quieter dangers: what a reboot would lose, and the daemon's own leaks.
  if (state_ == pm2_state::ok && !expected_.empty()) {
    auto dump = pm2_home_ / "dump.pm2";
    std::error_code ec;
    auto size = std::filesystem::file_size(dump, ec);
    if (ec) {
      warnings.push_back("dump.pm2 missing: after a reboot `pm2 resurrect` brings nothing back (run `pm2 save`)");
    } else if (size == 0) {
      warnings.push_back("dump.pm2 is empty: after a reboot no app comes back (run `pm2 save`)");
    } else {
      std::set<std::string> saved;
      boost::system::error_code jec;
      auto doc = boost::json::parse(detail::read_small_file(dump), jec);
      if (!jec && doc.is_array())
        for (const auto& v : doc.get_array())
          if (v.is_object())
            if (auto n = v.get_object().if_contains("name"); n && n->is_string())
              saved.insert(std::string(n->get_string()));
      std::string missing;
      for (const auto& [name, app] : expected_)
        if (!saved.count(name)) missing += (missing.empty() ? "" : ", ") + name;
      if (jec || !doc.is_array())
        warnings.push_back("dump.pm2 is not readable: after a reboot no app comes back (run `pm2 save`)");
      else if (!missing.empty())
        warnings.push_back("dump.pm2 lacks " + missing + ": after a reboot they will not come back (run `pm2 save`)");
    }
  }
  if (probe.running && probe.pid > 0)
    if (auto rss = detail::rss_of(probe.pid); rss && *rss > pm2_.daemon_memory_max)
      warnings.push_back("PM2 daemon uses " + detail::mib(*rss) + " (over " + detail::mib(pm2_.daemon_memory_max) +
                         ")");
}

}  // namespace redundancy::pm2
