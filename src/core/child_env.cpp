// The environment of every child, built in this one place: an allow-list per kind of child, taken from
// the daemon's environment, so that a secret the daemon was started with (REDUNDANCY_TOKEN,
// GITHUB_TOKEN, a cloud key) reaches no tool, no PM2 app and no workflow step that was not meant to have it.
#include "redundancy/core/process.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace redundancy {
namespace {

// What any program needs to find itself, its user, its locale, its temp folder and the network.
// A trailing '*' is a prefix.
constexpr std::string_view base_names[] = {
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TERM",
    "TMPDIR",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_RUNTIME_DIR",
};
// node's own settings: NODE_OPTIONS, NODE_PATH, NODE_EXTRA_CA_CERTS, NODE_ENV.
constexpr std::string_view node_names[] = {"NODE_*"};
// npm's settings as the environment gives them (a registry, a proxy, offline mode).
constexpr std::string_view npm_names[] = {"npm_config_*", "NPM_CONFIG_*"};
// PM2_HOME and the like; the subsystem sets PM2_HOME itself anyway.
constexpr std::string_view pm2_names[] = {"PM2_*"};
// The Netlify CLI's login and site (NETLIFY_AUTH_TOKEN, NETLIFY_SITE_ID): the deploy needs them.
constexpr std::string_view netlify_names[] = {"NETLIFY_*"};

// Ours as a systemd service; they must never reach a child, even when asked for: they are for the daemon alone.
constexpr std::string_view service_only_names[] = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"};
// The daemon's own variables: the API token (REDUNDANCY_TOKEN), the CLI's REDUNDANCY_URL, and the rest.
constexpr std::string_view own_prefix = "REDUNDANCY_";

std::vector<std::string>& withheld() {
  static std::vector<std::string> names;
  return names;
}

template <std::size_t N>
bool matches(std::string_view name, const std::string_view (&patterns)[N]) {
  return std::any_of(std::begin(patterns), std::end(patterns), [&](std::string_view pattern) {
    return pattern.ends_with('*') ? name.starts_with(pattern.substr(0, pattern.size() - 1)) : name == pattern;
  });
}

bool allowed(std::string_view name, child_env kind) {
  if (matches(name, base_names)) return true;
  switch (kind) {
    case child_env::base:
      return false;
    case child_env::node:
      return matches(name, node_names);
    case child_env::npm:
      return matches(name, node_names) || matches(name, npm_names);
    case child_env::pm2:
      return matches(name, node_names) || matches(name, pm2_names);
    case child_env::netlify_cli:
      return matches(name, node_names) || matches(name, npm_names) || matches(name, netlify_names);
  }
  return false;
}

}  // namespace

std::map<std::string, std::string> child_environment(const std::map<std::string, std::string>& parent,
                                                     const process_spec& spec) {
  std::map<std::string, std::string> env;
  const auto& never = withheld();
  for (const auto& [key, value] : parent) {
    if (key.starts_with(own_prefix) || matches(key, service_only_names) || !allowed(key, spec.inherit)) continue;
    if (std::find(never.begin(), never.end(), key) != never.end()) continue;
    env.emplace(key, value);
  }
  for (const auto& [key, value] : spec.env)
    if (!matches(key, service_only_names)) env[key] = value;
  for (const auto& key : spec.unset_env) env.erase(key);
  return env;
}

void withhold_from_children(std::vector<std::string> names) {
  std::erase_if(names, [](const std::string& n) { return n.empty(); });
  withheld() = std::move(names);
}

}  // namespace redundancy
