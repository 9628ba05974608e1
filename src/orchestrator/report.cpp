// The health report: availability from the status history, the daemon's figures, the daily file.
#include "redundancy/orchestrator/report.hpp"

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/health.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/process_stats.hpp"

#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>

namespace redundancy {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view report_prefix = "health-report-";
constexpr std::string_view report_suffix = ".json";

// Targets a report lists per subsystem, the least healthy first: every target's row and details
// made 250,000 apps a report of 99 MB, and what a person reads in it are the broken ones.
constexpr std::size_t report_targets_max = 1'000;

bool is_healthy_row(const boost::json::value& t) {
  const auto* o = t.if_object();
  const auto* state = o ? o->if_contains("status") : nullptr;
  return state && state->is_string() && state->get_string() == "healthy";
}

// Keeps report_targets_max rows of targets, those not healthy first, and says how many there were.
void bound_targets(boost::json::object& sub, boost::json::array& targets) {
  if (targets.size() <= report_targets_max) return;
  const auto total = targets.size();
  std::stable_partition(targets.begin(), targets.end(), [](const auto& t) { return !is_healthy_row(t); });
  targets.resize(report_targets_max);
  sub["targets_total"] = total;
  sub["targets_truncated"] = "the first " + std::to_string(report_targets_max) + " of " + std::to_string(total) +
                             " targets, those not healthy first; GET /api/status has every one";
}

bool is_status_kind(std::string_view kind) { return kind == "status_changed" || kind == "status_observed"; }

std::string key_of(const event& e) { return e.target.empty() ? e.subsystem : e.subsystem + "/" + e.target; }

// What a key was last seen as, and since when; no state means the daemon was not watching.
struct seen {
  std::optional<status> state{};
  sys_time since{};
};

boost::json::value ratio_or_null(const availability_map& figures, const std::string& key) {
  auto it = figures.find(key);
  if (it == figures.end()) return nullptr;
  auto ratio = it->second.ratio();
  if (!ratio) return nullptr;
  return *ratio;
}

boost::json::value optional_number(std::optional<double> v) {
  if (!v) return nullptr;
  return *v;
}

}  // namespace

std::optional<double> availability_figure::ratio() const {
  if (known <= milliseconds::zero()) return std::nullopt;
  return static_cast<double>(available.count()) / static_cast<double>(known.count());
}

availability_map compute_availability(const std::vector<event>& history, sys_time from, sys_time to) {
  std::vector<const event*> ordered;
  for (const auto& e : history) ordered.push_back(&e);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const event* a, const event* b) { return a->ts != b->ts ? a->ts < b->ts : a->id < b->id; });

  availability_map out;
  std::map<std::string, seen, std::less<>> current;
  // Adds the stretch [s.since, until), clipped to the window, to the key's figures.
  auto account = [&](const std::string& key, const seen& s, sys_time until) {
    if (!s.state) return;
    const auto begin = std::max(s.since, from);
    const auto end = std::min(until, to);
    if (end <= begin) return;
    const auto stretch = std::chrono::duration_cast<milliseconds>(end - begin);
    auto& figure = out[key];
    if (*s.state == status::healthy || *s.state == status::degraded) {
      figure.available += stretch;
      figure.known += stretch;
    } else if (*s.state == status::unhealthy) {
      figure.known += stretch;
    }
  };

  for (const auto* e : ordered) {
    if (e->ts >= to) break;
    if (e->kind == "daemon_started") {
      // A new life of the daemon: what was seen before says nothing about the time it was down.
      for (auto& [key, s] : current) {
        account(key, s, e->ts);
        s = seen{.state = std::nullopt, .since = e->ts};
      }
      continue;
    }
    if (!is_status_kind(e->kind)) continue;
    const auto key = key_of(*e);
    out.try_emplace(key);
    auto& s = current[key];
    account(key, s, e->ts);
    std::optional<status> state;
    if (auto it = e->data.find("status"); it != e->data.end() && it->value().is_string())
      state = status_from_string(it->value().as_string());
    s = seen{.state = state, .since = e->ts};
  }
  for (const auto& [key, s] : current) account(key, s, to);
  return out;
}

daemon_figures read_daemon_figures(sys_time started_at) {
  const auto stats = read_process_stats();
  return {.pid = static_cast<long>(::getpid()),
          .started_at = started_at,
          .rss_bytes = stats.resident_bytes,
          .cpu_seconds = stats.cpu_seconds};
}

boost::json::object build_report(report_inputs in) {
  using namespace std::chrono_literals;
  const auto day = compute_availability(in.history, in.now - 24h, in.now);
  const auto week = compute_availability(in.history, in.now - 7 * 24h, in.now);
  auto figures = [&](const std::string& key) {
    return boost::json::object{{"24h", ratio_or_null(day, key)}, {"7d", ratio_or_null(week, key)}};
  };

  auto o = std::move(in.status);
  o["generated_at"] = to_rfc3339(in.now);
  o["period"] = {{"from", to_rfc3339(in.now - 24h)}, {"to", to_rfc3339(in.now)}};
  if (auto* subsystems = o.if_contains("subsystems"); subsystems && subsystems->is_object()) {
    for (auto& [name, value] : subsystems->as_object()) {
      if (!value.is_object()) continue;
      auto& sub = value.as_object();
      const std::string subsystem_name(name);
      sub["availability"] = figures(subsystem_name);
      if (auto* targets = sub.if_contains("targets"); targets && targets->is_array()) {
        bound_targets(sub, targets->as_array());
        // bound_targets may have added keys to sub, which moves its values: the list is looked up again.
        for (auto& t : sub.at("targets").as_array())
          if (t.is_object())
            if (auto* target_name = t.as_object().if_contains("name"); target_name && target_name->is_string())
              t.as_object()["availability"] = figures(subsystem_name + "/" + std::string(target_name->as_string()));
      }
    }
  }
  boost::json::array events;
  for (const auto& e : in.last_day) events.push_back(to_json(e));
  o["events"] = std::move(events);
  boost::json::array actions;
  for (const auto& a : in.last_day_actions) actions.push_back(to_json(a));
  o["actions"] = std::move(actions);
  const auto uptime = std::chrono::duration<double>(in.now - in.daemon.started_at).count();
  o["daemon"] = {{"version", REDUNDANCY_VERSION},
                 {"pid", in.daemon.pid},
                 {"started_at", to_rfc3339(in.daemon.started_at)},
                 {"uptime_seconds", std::max(0.0, uptime)},
                 {"rss_bytes", optional_number(in.daemon.rss_bytes)},
                 {"cpu_seconds", optional_number(in.daemon.cpu_seconds)}};
  return o;
}

std::string report_file_name(sys_time t) {
  const auto day = to_rfc3339(t).substr(0, 10);  // "2024-05-01"
  return std::string(report_prefix) + day + std::string(report_suffix);
}

std::optional<std::string> write_report_file(const std::filesystem::path& log_dir, const boost::json::object& report,
                                             sys_time now, sys_time keep_after) {
  if (auto error = write_file_atomically(log_dir / report_file_name(now), boost::json::serialize(report) + "\n", 0640))
    return error;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(log_dir, ec)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with(report_prefix) || !name.ends_with(report_suffix)) continue;
    const auto day_text = name.substr(report_prefix.size(), name.size() - report_prefix.size() - report_suffix.size());
    const auto day = from_rfc3339(day_text + "T00:00:00Z");
    if (!day || *day + std::chrono::hours(24) > keep_after) continue;
    std::error_code removed;
    std::filesystem::remove(entry.path(), removed);
    if (removed)
      RLOG("orchestrator", warning) << "cannot remove old report " << entry.path().string() << ": "
                                    << removed.message();
    else
      RLOG("orchestrator", info) << "removed old report " << entry.path().string();
  }
  return std::nullopt;
}

}  // namespace redundancy
