// The config schema as code: which key of which section is read with which check.
#include "config_mapper.hpp"
#include "redundancy/core/duration.hpp"
#include "redundancy/core/limits.hpp"

namespace redundancy::config_detail {
namespace {

// Ceilings of durations, each within max_duration (the 10-year bound of anything from outside).
// A check less often than weekly watches nothing, a timeout or a delay over a day is a hang.
constexpr milliseconds interval_max = 7 * 24h;
constexpr milliseconds timeout_max = 24h;
constexpr milliseconds delay_max = 24h;
constexpr milliseconds period_max = 365 * 24h;

// Ranges of counts and sizes. Attempts and failures: more than 100 in a row is never giving up.
constexpr unsigned count_max = 100;
constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = 1024 * kib;
constexpr std::uint64_t tib = 1024 * 1024 * mib;
// Lists that are not targets (hosts, ecosystem files, webhooks): a handful is normal.
constexpr std::size_t list_max = 100;

void map_log(section& s, log_config& c) {
  map_key(s, "level", c.level, one_of({"trace", "debug", "info", "warning", "error"}));
  map_key(s, "max_file_bytes", c.max_file_bytes, whole<std::uint64_t>(64 * kib, tib));
  map_key(s, "max_files", c.max_files, whole<unsigned>(1, count_max));
}

// An API path as a request names it: absolute, no query, no spaces.
bool read_route(mapper& m, const json::value& v, const std::string& path, std::string& out) {
  if (!is_string(m, v, path)) return false;
  const std::string_view route = v.get_string();
  if (!route.starts_with('/') || route.find_first_of("?# \t") != std::string_view::npos) {
    m.fail(path, "expected an absolute path like \"/api/health\", got " + describe(v));
    return false;
  }
  out = std::string(route);
  return true;
}

void map_http(section& s, http_config& c) {
  map_key<std::string>(s, "listen", c.listen, read_listen);
  map_key(s, "token_file", c.token_file, nullable<std::filesystem::path>(read_path));
  map_key(s, "allowed_hosts", c.allowed_hosts, at_most(list_max, "hosts", strings));
  map_key(s, "web_root", c.web_root, nullable<std::filesystem::path>(read_path));
  map_key(s, "public_routes", c.public_routes, array_of<std::string>(read_route));
}

void map_pm2(section& s, pm2_config& c) {
  map_key<bool>(s, "enabled", c.enabled, read_bool);
  map_key<std::vector<std::string>>(s, "command", c.command, read_command);
  map_key(s, "home", c.home, nullable<std::filesystem::path>(read_path));
  map_key(s, "interval", c.interval, duration(interval_max));
  map_key(s, "timeout", c.timeout, duration(timeout_max));
  map_key(s, "max_restart_attempts", c.max_restart_attempts, whole<unsigned>(1, count_max));
  map_key(s, "restart_delay", c.restart_delay, duration(delay_max, true));
  map_key<double>(s, "memory_threshold_pct", c.memory_threshold_pct, read_percent);
  map_key<double>(s, "cpu_threshold_pct", c.cpu_threshold_pct, read_percent);
  map_key(s, "cpu_action", c.cpu_action, one_of_list(pm2_cpu_action_names()));
  map_key(s, "daemon_memory_max", c.daemon_memory_max, whole<std::uint64_t>(16 * mib, tib));
  map_key(s, "daemon_restart_command", c.daemon_restart_command, nullable<std::vector<std::string>>(read_command));
  map_key(s, "log_max_bytes", c.log_max_bytes, whole<std::uint64_t>(64 * kib, tib));
  map_key(s, "log_keep", c.log_keep, whole<unsigned>(1, count_max));
  c.ecosystem_files_configured = s.field("ecosystem_files") != nullptr;
  map_key(s, "ecosystem_files", c.ecosystem_files,
          at_most(list_max, "files", array_of<std::filesystem::path>(read_path)));
  map_key(s, "processes", c.processes, at_most(max_targets, "apps", strings));
  map_key(s, "transport", c.transport, one_of({"auto", "socket", "cli"}));
  map_key<bool>(s, "save_after_recovery", c.save_after_recovery, read_bool);
  map_key<bool>(s, "restart_manual_stops", c.restart_manual_stops, read_bool);
}

void map_github(section& s, github_config& c) {
  map_key<bool>(s, "enabled", c.enabled, read_bool);
  map_key(s, "interval", c.interval, duration(interval_max));
  map_key(s, "timeout", c.timeout, duration(timeout_max));
  map_key(s, "max_failures", c.max_failures, whole<unsigned>(1, count_max));
  map_key(s, "repository", c.repository, nullable<std::string>(read_repository));
  map_key(s, "api_url", c.api_url, url(false));
  map_key<std::string>(s, "token_env", c.token_env, read_env_name);
  map_key(s, "ca_file", c.ca_file, nullable<std::filesystem::path>(read_path));
  map_key<std::filesystem::path>(s, "workflows_dir", c.workflows_dir, read_path);
  map_key(s, "workflows", c.workflows, at_most(max_targets, "workflows", strings));
  map_key(s, "schedule_grace", c.schedule_grace, duration(period_max, true));
  map_key(s, "backup", c.backup, array_of<std::string>(one_of({"local", "dispatch"})));
  map_section(s, "local_execution", [&](section& sub) {
    map_key<bool>(sub, "enabled", c.local_execution.enabled, read_bool);
    map_key(sub, "timeout", c.local_execution.timeout, duration(timeout_max));
  });
  map_section(s, "dispatch", [&](section& sub) {
    map_key<bool>(sub, "enabled", c.dispatch.enabled, read_bool);
    map_key(sub, "ref", c.dispatch.ref, nullable<std::string>(read_string));
    map_key(sub, "event_type", c.dispatch.event_type, nullable<std::string>(read_string));
  });
}

void map_netlify(section& s, netlify_config& c) {
  map_key<bool>(s, "enabled", c.enabled, read_bool);
  map_key(s, "interval", c.interval, duration(interval_max));
  map_key(s, "timeout", c.timeout, duration(timeout_max));
  map_key(s, "max_failures", c.max_failures, whole<unsigned>(1, count_max));
  map_key<std::filesystem::path>(s, "functions_dir", c.functions_dir, read_path);
  map_key<std::filesystem::path>(s, "manifest", c.manifest, read_path);
  map_key(s, "site_url", c.site_url, nullable<std::string>(url(false)));
  map_key<std::map<std::string, std::string>>(
      s, "probe_paths", c.probe_paths,
      at_most<std::map<std::string, std::string>>(max_targets, "functions", read_string_map));
  map_key(s, "local_invoke", c.local_invoke, at_most(max_targets, "functions", strings));
  map_key(s, "typescript_check", c.typescript_check, nullable<std::vector<std::string>>(read_command));
  map_key<bool>(s, "auto_deploy", c.auto_deploy, read_bool);
  map_key(s, "deploy_timeout", c.deploy_timeout, duration(timeout_max));
  map_key(s, "min_deploy_interval", c.min_deploy_interval, duration(period_max, true));
  map_key<std::vector<std::string>>(s, "deploy_command", c.deploy_command, read_command);
  map_key(s, "build_hook_url", c.build_hook_url, nullable<std::string>(url(true)));
}

void map_orchestrator(section& s, orchestrator_config& c) {
  map_key(s, "interval", c.interval, duration(interval_max));
  map_key(s, "report_interval", c.report_interval, duration(interval_max));
  map_key<bool>(s, "auto_recovery", c.auto_recovery, read_bool);
  map_key(s, "max_recovery_attempts", c.max_recovery_attempts, whole<unsigned>(1, count_max));
  // One per subsystem at most: the count of unhealthy subsystems that starts emergency mode.
  map_key(s, "emergency_threshold", c.emergency_threshold, whole<unsigned>(1, 3));
  map_key(s, "attempt_reset", c.attempt_reset, duration(period_max));
  map_key(s, "retention", c.retention, duration(max_duration));
}

// A webhook: a URL string, or an object with the URL and its options.
bool read_webhook(mapper& m, const json::value& v, const std::string& path, webhook_config& out) {
  webhook_config hook;
  bool ok = true;
  if (v.is_string()) {
    ok = url(true)(m, v, path, hook.url);
  } else if (v.is_object()) {
    const auto errors_before = m.count();
    map_object(m, v, path, [&](section& s) {
      if (!s.field("url")) m.fail(s.child("url"), "missing: every webhook needs a URL");
      map_key(s, "url", hook.url, url(true));
      map_key(s, "name", hook.name, nullable<std::string>(read_string));
      map_key(s, "format", hook.format, one_of({"json", "slack"}));
      map_key(s, "events", hook.events, array_of<std::string>(one_of_list(notification_kinds())));
      map_key(s, "headers", hook.headers, secret_string_map);
      map_key(s, "secret", hook.secret, nullable<std::string>(secret_string));
    });
    ok = m.count() == errors_before;
  } else {
    m.fail(path, "expected a URL or an object with \"url\", got " + describe(v, true));
    return false;
  }
  // The HTTP client takes no user info, and it would be a secret shown with the host.
  if (ok) {
    const auto rest = hook.url.substr(hook.url.find("://") + 3);
    if (rest.substr(0, rest.find_first_of("/?#")).find('@') != std::string::npos) {
      m.fail(path, "user:password@ in a webhook URL is not supported; put credentials in \"headers\"");
      ok = false;
    }
  }
  if (ok) out = std::move(hook);
  return ok;
}

void map_notify(section& s, notify_config& c) {
  map_key(s, "webhooks", c.webhooks, at_most(list_max, "webhooks", array_of<webhook_config>(read_webhook)));
  map_key(s, "repeat_every", c.repeat_every, duration(period_max, true));
  map_key(s, "retry_delay", c.retry_delay, duration(delay_max));
  map_key(s, "give_up_after", c.give_up_after, duration(period_max));
  map_key(s, "timeout", c.timeout, duration(timeout_max));
  map_key(s, "group_window", c.group_window, duration(delay_max, true));
  // Names identify webhooks in the outbox, logs and events: two alike would mix their messages.
  if (const auto* v = s.field("webhooks"); v && v->is_array()) {
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < c.webhooks.size(); ++i) {
      if (!c.webhooks[i].name) continue;
      auto [it, fresh] = seen.emplace(*c.webhooks[i].name, i);
      if (!fresh)
        s.errors().fail(
            s.child("webhooks") + "[" + std::to_string(i) + "].name",
            "\"" + *c.webhooks[i].name + "\" is already the name of webhooks[" + std::to_string(it->second) + "]");
    }
  }
}

}  // namespace

void map_config(const json::object& root, const override_origins& origins, config& c, error_list& errors) {
  mapper m{origins, errors};
  section s{m, root, ""};
  map_key<std::filesystem::path>(s, "project_dir", c.project_dir, read_path);
  map_key<std::filesystem::path>(s, "state_dir", c.state_dir, read_path);
  map_key<std::filesystem::path>(s, "log_dir", c.log_dir, read_path);
  map_section(s, "log", [&](section& sub) { map_log(sub, c.log); });
  map_section(s, "http", [&](section& sub) { map_http(sub, c.http); });
  map_section(s, "pm2", [&](section& sub) { map_pm2(sub, c.pm2); });
  map_section(s, "github", [&](section& sub) { map_github(sub, c.github); });
  map_section(s, "netlify", [&](section& sub) { map_netlify(sub, c.netlify); });
  map_section(s, "orchestrator", [&](section& sub) { map_orchestrator(sub, c.orchestrator); });
  map_section(s, "notify", [&](section& sub) { map_notify(sub, c.notify); });
  s.finish();
}

}  // namespace redundancy::config_detail

namespace redundancy {

std::string_view to_string(pm2_cpu_action a) {
  switch (a) {
    case pm2_cpu_action::warn:
      return "warn";
    case pm2_cpu_action::restart:
      return "restart";
  }
  return "warn";
}

std::optional<pm2_cpu_action> parse_pm2_cpu_action(std::string_view text) {
  for (auto a : {pm2_cpu_action::warn, pm2_cpu_action::restart})
    if (text == to_string(a)) return a;
  return std::nullopt;
}

const std::vector<std::string>& pm2_cpu_action_names() {
  static const std::vector<std::string> names{std::string(to_string(pm2_cpu_action::warn)),
                                              std::string(to_string(pm2_cpu_action::restart))};
  return names;
}

}  // namespace redundancy
