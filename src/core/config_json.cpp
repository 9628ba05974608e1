// The effective config as JSON in the input schema, with secrets redacted for `config check` and
// logs.
#include <array>

#include "config_internal.hpp"
#include "redundancy/core/duration.hpp"

namespace redundancy {
namespace config_detail {
namespace {

namespace json = boost::json;

constexpr std::string_view redacted = "<redacted>";

// Prefixes of GitHub and Netlify tokens: such a string is a secret wherever it appears.
constexpr std::array<std::string_view, 7> token_prefixes{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "nfp_"};

// Words that make a flag or a query parameter carry a secret (--auth X, --token=X, ?key=X).
constexpr std::array<std::string_view, 5> secret_words{"token", "auth", "secret", "password", "key"};

bool names_secret(std::string_view name) {
  for (auto word : secret_words)
    if (name.find(word) != std::string_view::npos) return true;
  return false;
}

// One string with its token-like parts replaced: a whole token, a URL's user:password, and the
// values of secret-named query parameters and --flag=value forms.
std::string redact_text(std::string_view s) {
  for (auto token_prefix : token_prefixes)
    if (s.starts_with(token_prefix)) return std::string(redacted);
  if (s.starts_with("--")) {
    const auto equals = s.find('=');
    if (equals != std::string_view::npos && names_secret(s.substr(2, equals - 2)))
      return std::string(s.substr(0, equals + 1)) + std::string(redacted);
  }
  std::string out(s);
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto host_start = scheme + 3;
    const auto authority_end = out.find_first_of("/?#", host_start);
    const auto at = out.rfind('@', authority_end == std::string::npos ? out.size() : authority_end);
    if (at != std::string::npos && at >= host_start) out.replace(host_start, at - host_start, redacted);
  }
  if (auto query = out.find('?'); query != std::string::npos) {
    std::size_t pos = query + 1;
    while (pos < out.size()) {
      const auto end = std::min(out.find_first_of("&#", pos), out.size());
      const auto equals = out.find('=', pos);
      if (equals != std::string::npos && equals < end && names_secret(out.substr(pos, equals - pos))) {
        out.replace(equals + 1, end - equals - 1, redacted);
        pos = equals + 1 + redacted.size() + 1;
      } else {
        pos = end + 1;
      }
    }
  }
  return out;
}

json::value text(std::string_view s, bool redact) { return redact ? json::value(redact_text(s)) : json::value(s); }

json::value secret(const std::optional<std::string>& s, bool redact) {
  if (!s) return nullptr;
  return redact ? json::value(redacted) : json::value(*s);
}

template <class T, class F>
json::value nullable(const std::optional<T>& v, F to_value) {
  return v ? to_value(*v) : json::value(nullptr);
}

json::value path(const std::filesystem::path& p) { return json::value(p.string()); }

json::value duration(milliseconds d) { return json::value(format_duration(d)); }

json::array strings(const std::vector<std::string>& items, bool redact) {
  json::array out;
  for (const auto& item : items) out.push_back(text(item, redact));
  return out;
}

// An argv: besides token-like items, the item after a secret-named flag (`--auth X`) is a secret.
json::array command(const std::vector<std::string>& argv, bool redact) {
  json::array out;
  bool after_secret_flag = false;
  for (const auto& item : argv) {
    out.push_back(redact && after_secret_flag ? json::value(redacted) : text(item, redact));
    after_secret_flag = item.starts_with("--") && item.find('=') == std::string::npos && names_secret(item);
  }
  return out;
}

}  // namespace

json::object to_json(const config& c, bool redact) {
  const auto opt_path = [](const std::optional<std::filesystem::path>& p) { return nullable(p, path); };
  const auto opt_text = [redact](const std::optional<std::string>& s) {
    return nullable(s, [redact](const std::string& v) { return text(v, redact); });
  };
  const auto opt_command = [redact](const std::optional<std::vector<std::string>>& argv) {
    return nullable(argv, [redact](const std::vector<std::string>& v) { return json::value(command(v, redact)); });
  };

  json::array ecosystem_files;
  for (const auto& file : c.pm2.ecosystem_files) ecosystem_files.push_back(path(file));
  json::object probe_paths;
  for (const auto& [name, probe] : c.netlify.probe_paths) probe_paths[name] = text(probe, redact);
  json::array webhooks;
  const webhook_config plain{};
  for (const auto& hook : c.notify.webhooks) {
    json::value url = redact ? json::value(redacted) : json::value(hook.url);
    // A hook with every default reads back as the plain URL it was written as.
    if (!hook.name && hook.format == plain.format && hook.events == plain.events && hook.headers.empty() &&
        !hook.secret) {
      webhooks.push_back(std::move(url));
      continue;
    }
    json::object headers;
    for (const auto& [name, value] : hook.headers) headers[name] = redact ? json::value(redacted) : json::value(value);
    webhooks.push_back(json::object{{"url", std::move(url)},
                                    {"name", nullable(hook.name, [](const std::string& n) { return json::value(n); })},
                                    {"format", hook.format},
                                    {"events", strings(hook.events, false)},
                                    {"headers", std::move(headers)},
                                    {"secret", secret(hook.secret, redact)}});
  }

  return json::object{
      {"project_dir", path(c.project_dir)},
      {"state_dir", path(c.state_dir)},
      {"log_dir", path(c.log_dir)},
      {"log", {{"level", c.log.level}, {"max_file_bytes", c.log.max_file_bytes}, {"max_files", c.log.max_files}}},
      {"http",
       {{"listen", c.http.listen},
        {"token_file", opt_path(c.http.token_file)},
        {"allowed_hosts", strings(c.http.allowed_hosts, redact)},
        {"web_root", opt_path(c.http.web_root)},
        {"public_routes", strings(c.http.public_routes, redact)}}},
      {"pm2",
       {{"enabled", c.pm2.enabled},
        {"command", command(c.pm2.command, redact)},
        {"home", opt_path(c.pm2.home)},
        {"interval", duration(c.pm2.interval)},
        {"timeout", duration(c.pm2.timeout)},
        {"max_restart_attempts", c.pm2.max_restart_attempts},
        {"restart_delay", duration(c.pm2.restart_delay)},
        {"memory_threshold_pct", c.pm2.memory_threshold_pct},
        {"cpu_threshold_pct", c.pm2.cpu_threshold_pct},
        {"cpu_action", c.pm2.cpu_action},
        {"daemon_memory_max", c.pm2.daemon_memory_max},
        {"daemon_restart_command", opt_command(c.pm2.daemon_restart_command)},
        {"log_max_bytes", c.pm2.log_max_bytes},
        {"log_keep", c.pm2.log_keep},
        {"ecosystem_files", std::move(ecosystem_files)},
        {"processes", strings(c.pm2.processes, redact)},
        {"transport", c.pm2.transport},
        {"save_after_recovery", c.pm2.save_after_recovery},
        {"restart_manual_stops", c.pm2.restart_manual_stops}}},
      {"github",
       {{"enabled", c.github.enabled},
        {"interval", duration(c.github.interval)},
        {"timeout", duration(c.github.timeout)},
        {"max_failures", c.github.max_failures},
        {"repository", opt_text(c.github.repository)},
        {"api_url", text(c.github.api_url, redact)},
        {"token_env", c.github.token_env},
        {"ca_file", opt_path(c.github.ca_file)},
        {"workflows_dir", path(c.github.workflows_dir)},
        {"workflows", strings(c.github.workflows, redact)},
        {"schedule_grace", duration(c.github.schedule_grace)},
        {"backup", strings(c.github.backup, false)},
        {"local_execution",
         {{"enabled", c.github.local_execution.enabled}, {"timeout", duration(c.github.local_execution.timeout)}}},
        {"dispatch",
         {{"enabled", c.github.dispatch.enabled},
          {"ref", opt_text(c.github.dispatch.ref)},
          {"event_type", opt_text(c.github.dispatch.event_type)}}}}},
      {"netlify",
       {{"enabled", c.netlify.enabled},
        {"interval", duration(c.netlify.interval)},
        {"timeout", duration(c.netlify.timeout)},
        {"max_failures", c.netlify.max_failures},
        {"functions_dir", path(c.netlify.functions_dir)},
        {"manifest", path(c.netlify.manifest)},
        {"site_url", opt_text(c.netlify.site_url)},
        {"probe_paths", std::move(probe_paths)},
        {"local_invoke", strings(c.netlify.local_invoke, redact)},
        {"typescript_check", opt_command(c.netlify.typescript_check)},
        {"auto_deploy", c.netlify.auto_deploy},
        {"deploy_timeout", duration(c.netlify.deploy_timeout)},
        {"min_deploy_interval", duration(c.netlify.min_deploy_interval)},
        {"deploy_command", command(c.netlify.deploy_command, redact)},
        {"build_hook_url", secret(c.netlify.build_hook_url, redact)}}},
      {"orchestrator",
       {{"interval", duration(c.orchestrator.interval)},
        {"report_interval", duration(c.orchestrator.report_interval)},
        {"auto_recovery", c.orchestrator.auto_recovery},
        {"max_recovery_attempts", c.orchestrator.max_recovery_attempts},
        {"emergency_threshold", c.orchestrator.emergency_threshold},
        {"attempt_reset", duration(c.orchestrator.attempt_reset)},
        {"retention", duration(c.orchestrator.retention)}}},
      {"notify",
       {{"webhooks", std::move(webhooks)},
        {"repeat_every", duration(c.notify.repeat_every)},
        {"retry_delay", duration(c.notify.retry_delay)},
        {"give_up_after", duration(c.notify.give_up_after)},
        {"timeout", duration(c.notify.timeout)},
        {"group_window", duration(c.notify.group_window)}}},
  };
}

}  // namespace config_detail

boost::json::value to_redacted_json(const config& c) { return config_detail::to_json(c, true); }

namespace {
// Sections and sub-sections of the schema are objects; any other value (maps of user-chosen names
// among them) is compared whole.
bool is_section(std::string_view path) {
  return path.find('.') == std::string_view::npos || path == "github.local_execution" || path == "github.dispatch";
}

void diff(const boost::json::object& a, const boost::json::object& b, const std::string& path,
          std::vector<std::string>& out) {
  for (const auto& [key, value] : a) {
    const auto name = path.empty() ? std::string(key) : path + "." + std::string(key);
    const auto* other = b.if_contains(key);
    if (other && value.is_object() && other->is_object() && is_section(name))
      diff(value.get_object(), other->get_object(), name, out);
    else if (!other || value != *other)
      out.push_back(name);
  }
}
}  // namespace

std::vector<std::string> changed_keys(const config& before, const config& after) {
  std::vector<std::string> out;
  // Unredacted, so a changed secret is seen; only the names leave this function.
  diff(config_detail::to_json(before, false), config_detail::to_json(after, false), "", out);
  return out;
}

}  // namespace redundancy
