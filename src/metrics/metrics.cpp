// The daemon's Prometheus registry: families, updates from checks and actions, text serialization.
#include "redundancy/metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

namespace redundancy {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

constexpr std::array<std::string_view, 4> check_results{"ok", "failed", "error", "timeout"};
constexpr std::array<status, 6> all_statuses{status::healthy, status::degraded, status::unhealthy,
                                             status::unknown, status::disabled, status::paused};

// Checks run from milliseconds (a file read) to the subsystem's timeout (20-30 s by default, more
// when configured): buckets up to two minutes.
const Histogram::BucketBoundaries& duration_buckets() {
  static const Histogram::BucketBoundaries buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                   1,     2.5,  5,     10,   30,  60,   120};
  return buckets;
}

// A scheduled check normally starts within a millisecond of its due time; the soak fails a run in
// which one started more than 1 s late, so 1 is a bound.
const Histogram::BucketBoundaries& lateness_buckets() {
  static const Histogram::BucketBoundaries buckets{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

Family<Gauge>& gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

Family<Counter>& counter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

double healthy_value(status s) { return s == status::healthy || s == status::degraded ? 1.0 : 0.0; }

// Names from the outside world (app and workflow names) end up in label values: invalid UTF-8 would
// make the whole scrape unparsable, so each invalid byte becomes U+FFFD.
std::string utf8_label(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = byte < 0x80           ? 1
                         : (byte >> 5) == 0x6  ? 2
                         : (byte >> 4) == 0xe  ? 3
                         : (byte >> 3) == 0x1e ? 4
                                               : 0;
    bool valid = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (valid && length > 1) {
      // Reject overlong forms, surrogates and code points above U+10FFFF.
      std::uint32_t cp = byte & (0xff >> (length + 1));
      for (std::size_t k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
      constexpr std::array<std::uint32_t, 5> min_for_length{0, 0, 0x80, 0x800, 0x10000};
      valid = cp >= min_for_length[length] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return out;
}

void erase(Family<Gauge>& family, const Labels& labels) {
  if (family.Has(labels)) family.Remove(&family.Add(labels));
}

// Sets the series, or removes it when the value is absent (a key missing from a target's detail).
void set_or_erase(Family<Gauge>& family, const Labels& labels, std::optional<double> value) {
  if (value)
    family.Add(labels).Set(*value);
  else
    erase(family, labels);
}

std::optional<double> number_at(const boost::json::object& detail, std::string_view key) {
  const auto* value = detail.if_contains(key);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  return value->to_number<double>();
}

// True when the target is the kind of thing the subsystem's own metric describes ("app" for pm2):
// either the detail names that kind or it names none.
bool is_kind(const target_health& target, std::string_view kind) {
  const auto* value = target.detail.if_contains("kind");
  return value == nullptr || !value->is_string() || value->get_string() == kind;
}

prometheus::MetricFamily process_family(const char* name, const char* help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric sample;
  if (type == prometheus::MetricType::Counter)
    sample.counter.value = value;
  else
    sample.gauge.value = value;
  return prometheus::MetricFamily{.name = name, .help = help, .type = type, .metric = {sample}};
}

}  // namespace

struct metrics::impl {
  prometheus::Registry registry{};
  Family<Gauge>& build_info = gauge(registry, "redundancy_build_info", "Version of the running redundancy daemon.");
  Family<Gauge>& subsystem_healthy =
      gauge(registry, "redundancy_subsystem_healthy", "1 when the subsystem is healthy or degraded, else 0.");
  Family<Gauge>& subsystem_status =
      gauge(registry, "redundancy_subsystem_status", "1 for the subsystem's current status, 0 for the other statuses.");
  Family<Gauge>& target_healthy =
      gauge(registry, "redundancy_target_healthy", "1 when the target is healthy or degraded, else 0.");
  Family<Counter>& checks = counter(registry, "redundancy_checks_total", "Finished checks by result.");
  Family<Histogram>& check_duration = prometheus::BuildHistogram()
                                          .Name("redundancy_check_duration_seconds")
                                          .Help("How long each check took.")
                                          .Register(registry);
  Family<Histogram>& check_lateness = prometheus::BuildHistogram()
                                          .Name("redundancy_check_lateness_seconds")
                                          .Help("How long after its due time each scheduled check started.")
                                          .Register(registry);
  Family<Counter>& recoveries =
      counter(registry, "redundancy_recovery_actions_total", "Finished recovery actions by action and result.");
  Family<Gauge>& emergency_active = gauge(registry, "redundancy_emergency_active", "1 while emergency mode is active.");
  Family<Gauge>& emergency_attempts =
      gauge(registry, "redundancy_emergency_attempts", "Emergency attempts made since emergency mode was entered.");
  Family<Gauge>& pm2_online = gauge(registry, "redundancy_pm2_app_online", "1 when the PM2 app's status is online.");
  Family<Gauge>& pm2_restarts =
      gauge(registry, "redundancy_pm2_app_restarts", "Restart count PM2 reports for the app.");
  Family<Gauge>& pm2_memory = gauge(registry, "redundancy_pm2_app_memory_bytes", "Memory PM2 reports for the app.");
  Family<Gauge>& pm2_cpu = gauge(registry, "redundancy_pm2_app_cpu_percent", "CPU percent PM2 reports for the app.");
  Family<Gauge>& github_failures =
      gauge(registry, "redundancy_github_workflow_consecutive_failures", "Consecutive failed runs of the workflow.");
  Family<Gauge>& netlify_function = gauge(registry, "redundancy_netlify_function_healthy",
                                          "1 when the Netlify function is healthy or degraded, else 0.");
  // Per subsystem, the target names whose series are exported, to remove those of vanished targets.
  std::map<std::string, std::set<std::string>, std::less<>> targets{};
  std::set<std::string, std::less<>> subsystems_seen_by_checks{};

  // The subsystem-specific series of one target: set from its detail, or erased when it is gone.
  void set_domain_series(std::string_view subsystem, const std::string& name, const target_health* target) {
    if (subsystem == "pm2") {
      const Labels labels{{"app", name}};
      const bool app = target != nullptr && is_kind(*target, "app");
      std::optional<double> online;
      if (app)
        if (const auto* s = target->detail.if_contains("status"); s != nullptr && s->is_string())
          online = s->get_string() == "online" ? 1.0 : 0.0;
      set_or_erase(pm2_online, labels, online);
      set_or_erase(pm2_restarts, labels, app ? number_at(target->detail, "restarts") : std::nullopt);
      set_or_erase(pm2_memory, labels, app ? number_at(target->detail, "memory_bytes") : std::nullopt);
      set_or_erase(pm2_cpu, labels, app ? number_at(target->detail, "cpu_percent") : std::nullopt);
    } else if (subsystem == "github") {
      const bool workflow = target != nullptr && is_kind(*target, "workflow");
      set_or_erase(github_failures, {{"workflow", name}},
                   workflow ? number_at(target->detail, "consecutive_failures") : std::nullopt);
    } else if (subsystem == "netlify") {
      const bool function = target != nullptr && is_kind(*target, "function");
      set_or_erase(netlify_function, {{"function", name}},
                   function ? std::optional{healthy_value(target->state)} : std::nullopt);
    }
  }
};

metrics::metrics() : impl_{std::make_unique<impl>()} {
  impl_->build_info.Add({{"version", REDUNDANCY_VERSION}}).Set(1);
  impl_->emergency_active.Add({}).Set(0);
  impl_->emergency_attempts.Add({}).Set(0);
}

metrics::~metrics() = default;

void metrics::observe_check(std::string_view subsystem, std::string_view result, std::chrono::duration<double> took) {
  if (std::find(check_results.begin(), check_results.end(), result) == check_results.end())
    throw std::invalid_argument("metrics: check result must be ok, failed, error or timeout, not '" +
                                std::string{result} + "'");
  const std::string name = utf8_label(subsystem);
  if (impl_->subsystems_seen_by_checks.insert(name).second)
    for (const auto r : check_results) impl_->checks.Add({{"subsystem", name}, {"result", std::string{r}}});
  impl_->checks.Add({{"subsystem", name}, {"result", std::string{result}}}).Increment();
  impl_->check_duration.Add({{"subsystem", name}}, duration_buckets()).Observe(std::max(0.0, took.count()));
}

void metrics::observe_lateness(std::string_view subsystem, std::chrono::duration<double> late) {
  impl_->check_lateness.Add({{"subsystem", utf8_label(subsystem)}}, lateness_buckets())
      .Observe(std::max(0.0, late.count()));
}

void metrics::update_subsystem(std::string_view subsystem_view, const health& h) {
  auto& m = *impl_;
  const std::string subsystem = utf8_label(subsystem_view);
  m.subsystem_healthy.Add({{"subsystem", subsystem}}).Set(healthy_value(h.state));
  for (const auto s : all_statuses)
    m.subsystem_status.Add({{"subsystem", subsystem}, {"status", std::string{to_string(s)}}}).Set(s == h.state ? 1 : 0);

  std::set<std::string> current;
  for (const auto& target : h.targets) {
    const std::string name = utf8_label(target.name);
    current.insert(name);
    m.target_healthy.Add({{"subsystem", subsystem}, {"target", name}}).Set(healthy_value(target.state));
    m.set_domain_series(subsystem, name, &target);
  }
  auto& previous = m.targets[subsystem];
  for (const auto& gone : previous) {
    if (current.contains(gone)) continue;
    erase(m.target_healthy, {{"subsystem", subsystem}, {"target", gone}});
    m.set_domain_series(subsystem, gone, nullptr);
  }
  previous = std::move(current);
}

void metrics::count_recovery(std::string_view subsystem, std::string_view action, std::string_view result) {
  impl_->recoveries
      .Add({{"subsystem", utf8_label(subsystem)}, {"action", utf8_label(action)}, {"result", utf8_label(result)}})
      .Increment();
}

void metrics::set_emergency(bool active, unsigned attempts) {
  impl_->emergency_active.Add({}).Set(active ? 1 : 0);
  impl_->emergency_attempts.Add({}).Set(attempts);
}

std::string metrics::serialize() {
  auto families = impl_->registry.Collect();
  // The registry keeps series in hash order: sorted, scrapes of the same state read the same.
  for (auto& family : families)
    std::sort(family.metric.begin(), family.metric.end(),
              [](const auto& a, const auto& b) { return a.label < b.label; });
  const auto stats = read_process_stats();
  using prometheus::MetricType;
  const auto add = [&](const char* name, const char* help, MetricType type, const std::optional<double>& value) {
    if (value) families.push_back(process_family(name, help, type, *value));
  };
  add("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", MetricType::Counter,
      stats.cpu_seconds);
  add("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge, stats.resident_bytes);
  add("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge, stats.virtual_bytes);
  add("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, stats.open_fds);
  add("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, stats.max_fds);
  add("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
      stats.start_time_seconds);
  return prometheus::TextSerializer{}.Serialize(families);
}

}  // namespace redundancy
