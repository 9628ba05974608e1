// The daemon's configuration: plain structs with the documented defaults, loaded and validated once
// (and again on SIGHUP) from JSON plus REDUNDANCY_<SECTION>__<KEY> environment overrides.
#pragma once
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

struct log_config {
  std::string level{"info"};  // trace, debug, info, warning, error
  std::uint64_t max_file_bytes{10 * 1024 * 1024};
  unsigned max_files{5};
};

struct http_config {
  std::string listen{"127.0.0.1:8686"};
  std::optional<std::filesystem::path> token_file{};  // default <state_dir>/token
  std::vector<std::string> allowed_hosts{};
  std::optional<std::filesystem::path> web_root{};  // default: installed share folder, else web/
  // When listen is not a loopback address, every /api/ and /metrics path but these needs the token,
  // GET included. Exact paths.
  std::vector<std::string> public_routes{"/api/health", "/metrics"};
};

// pm2.cpu_action: what an app over pm2.cpu_threshold_pct for a streak of checks gets, a warning or a restart.
enum class pm2_cpu_action { warn, restart };
std::string_view to_string(pm2_cpu_action a);
std::optional<pm2_cpu_action> parse_pm2_cpu_action(std::string_view text);
// The names parse_pm2_cpu_action accepts, in the order the config's error lists them.
const std::vector<std::string>& pm2_cpu_action_names();

struct pm2_config {
  bool enabled{true};
  std::vector<std::string> command{"pm2"};  // a path or an argv
  std::optional<std::filesystem::path> home{};
  milliseconds interval{30s};
  milliseconds timeout{20s};
  unsigned max_restart_attempts{5};
  milliseconds restart_delay{5s};
  double memory_threshold_pct{80};
  double cpu_threshold_pct{90};
  std::string cpu_action{"warn"};  // a name of pm2_cpu_action: warn or restart
  std::uint64_t daemon_memory_max{512ull * 1024 * 1024};
  std::optional<std::vector<std::string>> daemon_restart_command{};
  std::uint64_t log_max_bytes{50ull * 1024 * 1024};
  unsigned log_keep{5};
  std::vector<std::filesystem::path> ecosystem_files{"ecosystem.pm2.cjs", "ecosystem.redundancy.cjs"};
  // Whether the file or the environment named ecosystem_files: a default file a project does not have
  // is no warning, a named one that is missing is. Set by the config reader, not a key.
  bool ecosystem_files_configured{false};
  std::vector<std::string> processes{};
  // How the check reads PM2's list: "auto" (rpc.sock when it answers, else `pm2 jlist`), "socket"
  // (rpc.sock only) or "cli" (`pm2 jlist` only). Except with "cli", pub.sock events trigger checks.
  std::string transport{"auto"};
  // After a recovery started expected apps from their ecosystem files, `pm2 save`, so that dump.pm2 (what
  // a reboot brings back) has them and the next check does not warn about the recovery's own work.
  bool save_after_recovery{true};
  // An app a person stopped (`pm2 stop`, as PM2's bus announces it) is left stopped until it runs again;
  // true treats it like any stopped app: down after one interval, then restarted.
  bool restart_manual_stops{false};
};

struct github_local_execution_config {
  bool enabled{true};
  milliseconds timeout{5min};
};

struct github_dispatch_config {
  bool enabled{true};
  std::optional<std::string> ref{};
  std::optional<std::string> event_type{};
};

struct github_config {
  bool enabled{true};
  milliseconds interval{1min};
  milliseconds timeout{30s};
  unsigned max_failures{3};
  std::optional<std::string> repository{};  // owner/name
  std::string api_url{"https://api.github.com"};
  std::string token_env{"GITHUB_TOKEN"};
  std::optional<std::filesystem::path> ca_file{};
  std::filesystem::path workflows_dir{".github/workflows"};
  std::vector<std::string> workflows{};
  milliseconds schedule_grace{1h};
  std::vector<std::string> backup{"local", "dispatch"};
  github_local_execution_config local_execution{};
  github_dispatch_config dispatch{};
};

struct netlify_config {
  bool enabled{true};
  milliseconds interval{2min};
  milliseconds timeout{30s};
  unsigned max_failures{3};
  std::filesystem::path functions_dir{"netlify/functions"};
  std::filesystem::path manifest{"netlify/functions/functions-manifest.json"};
  std::optional<std::string> site_url{};
  std::map<std::string, std::string> probe_paths{};  // function name -> path to probe
  std::vector<std::string> local_invoke{};
  std::optional<std::vector<std::string>> typescript_check{};
  bool auto_deploy{true};
  milliseconds deploy_timeout{5min};
  milliseconds min_deploy_interval{10min};
  std::vector<std::string> deploy_command{"netlify", "deploy", "--prod"};
  std::optional<std::string> build_hook_url{};  // secret
};

struct orchestrator_config {
  milliseconds interval{1min};
  milliseconds report_interval{5min};
  bool auto_recovery{true};
  unsigned max_recovery_attempts{3};
  unsigned emergency_threshold{2};
  milliseconds attempt_reset{1h};
  milliseconds retention{30 * 24h};
};

// The notification kinds a webhook can ask for (notify.webhooks[].events).
//   down, recovered: a subsystem or target became unhealthy / is no longer unhealthy
//   still_down: the reminder every repeat_every while something stays down
//   given_up: a target's automatic recovery gave up
//   emergency_entered, emergency_left, emergency_given_up: emergency mode
//   delivery_given_up: another webhook could not be reached for give_up_after
inline const std::vector<std::string>& notification_kinds() {
  static const std::vector<std::string> kinds{
      "down",           "recovered",          "still_down",       "given_up", "emergency_entered",
      "emergency_left", "emergency_given_up", "delivery_given_up"};
  return kinds;
}

// One webhook. Written in the config as a plain URL string (every default) or as an object.
struct webhook_config {
  std::string url{};                  // secret: never shown or logged
  std::optional<std::string> name{};  // shown in logs and events; default "<host>-<6 hex of the URL's hash>"
  std::string format{"json"};         // json, or slack ({"text": ...}, also Discord's /slack endpoint)
  std::vector<std::string> events{
      "down",           "recovered",          "still_down",       "given_up", "emergency_entered",
      "emergency_left", "emergency_given_up", "delivery_given_up"};
  std::map<std::string, std::string> headers{};  // extra request headers; values are secrets
  std::optional<std::string> secret{};           // HMAC-SHA256 key: X-Redundancy-Signature: sha256=<hex of the body>
};

struct notify_config {
  std::vector<webhook_config> webhooks{};
  milliseconds repeat_every{1h};    // reminder while something stays down; 0 for never
  milliseconds retry_delay{10s};    // first retry after a failed delivery, doubling up to 1 h
  milliseconds give_up_after{24h};  // a message still undelivered this long after it was made is dropped
  milliseconds timeout{10s};        // one delivery request
  milliseconds group_window{30s};   // at most one message per webhook per window; a burst becomes one
};

struct config {
  std::filesystem::path project_dir{"."};
  std::filesystem::path state_dir{"automation"};
  std::filesystem::path log_dir{"automation/logs"};
  log_config log{};
  http_config http{};
  pm2_config pm2{};
  github_config github{};
  netlify_config netlify{};
  orchestrator_config orchestrator{};
  notify_config notify{};

  // Where this config came from ("built-in defaults" or the file's path), for messages.
  std::string source{"built-in defaults"};
};

// Environment lookup, injectable so tests do not touch the real environment.
using env_lookup = std::map<std::string, std::string>;
env_lookup current_environment();

// Parses JSON text (comments and trailing commas allowed), applies REDUNDANCY_<SECTION>__<KEY>
// overrides from env, validates, and resolves relative paths against project_dir (itself resolved
// against the file's folder). The error names the source and the JSON path:
// `redundancy.json: pm2.interval: expected a duration like "30s", got "fast"`.
boost::system::result<config, std::string> parse_config(std::string_view text, std::string_view source,
                                                        const env_lookup& env);

// Finds the file (--config, $REDUNDANCY_CONFIG, ./redundancy.json, /etc/redundancy/redundancy.json)
// and parses it; built-in defaults (with overrides) when none exists. An explicit file that cannot
// be read is an error.
boost::system::result<config, std::string> load_config(const std::optional<std::filesystem::path>& explicit_file,
                                                       const env_lookup& env);

// The effective config as JSON with every secret replaced by "<redacted>".
boost::json::value to_redacted_json(const config& c);

// The keys whose values differ between two configs, as dotted paths in the file's schema
// ("netlify.functions_dir", "github.local_execution.timeout"; a list or a map of user names as one key,
// "notify.webhooks"), in schema order. Only names: a changed secret is listed, never its value.
std::vector<std::string> changed_keys(const config& before, const config& after);

}  // namespace redundancy
