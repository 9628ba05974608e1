// What the config means for the daemon's parts, and the judgements a reload makes (daemon_parts.hpp).
#include "daemon_parts.hpp"

#include "redundancy/core/log.hpp"
#include "redundancy/http/token.hpp"

#include <cstdlib>
#include <stdexcept>

namespace redundancy {

log_settings log_settings_for(const config& c) {
  return {
      .dir = c.log_dir,
      .level = severity_from_string(c.log.level).value_or(severity::info),
      .max_file_bytes = c.log.max_file_bytes,
      .max_files = c.log.max_files,
      .to_stderr = true,
      .journal = std::getenv("JOURNAL_STREAM") != nullptr,
  };
}

std::optional<std::filesystem::path> web_root_for(const config& c) {
  if (c.http.web_root) return *c.http.web_root;
  std::error_code ec;
  const auto binary_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec) {
    const auto installed = binary_dir.parent_path() / "share" / "redundancy" / "web";
    if (std::filesystem::exists(installed / "index.html", ec)) return installed;
    if (std::filesystem::exists(binary_dir / "CMakeCache.txt", ec)) return REDUNDANCY_SOURCE_WEB_ROOT;
  }
  RLOG("http", warning) << "no dashboard: no share/redundancy/web beside " << binary_dir.string()
                        << " and http.web_root is not set";
  return std::nullopt;
}

std::string token_for(const config& c) {
  auto token = http::load_token(c.http.token_file.value_or(c.state_dir / "token"));
  if (!token) {
    RLOG("http", error) << "no API token, every POST will be refused: " << token.error();
    return {};
  }
  RLOG("http", info) << "API token from " << token->source << (token->created ? " (created)" : "");
  return token->token;
}

http::server_settings server_settings_for(const config& c, std::string token) {
  http::server_settings s;
  s.listen = c.http.listen;
  s.token = std::move(token);
  s.allowed_hosts = c.http.allowed_hosts;
  s.web_root = web_root_for(c);
  s.public_routes = c.http.public_routes;
  return s;
}

std::vector<std::string> secrets_of(const config& c, const std::string& token) {
  std::vector<std::string> secrets{token};
  for (const auto& hook : c.notify.webhooks) {
    secrets.push_back(hook.url);
    for (const auto& [name, value] : hook.headers) secrets.push_back(value);
    if (hook.secret) secrets.push_back(*hook.secret);
  }
  if (c.netlify.build_hook_url) secrets.push_back(*c.netlify.build_hook_url);
  for (const auto& name : {c.github.token_env, std::string("REDUNDANCY_TOKEN"), std::string("NETLIFY_AUTH_TOKEN")})
    if (const char* value = std::getenv(name.c_str())) secrets.emplace_back(value);
  return secrets;
}

bool needs_restart(std::string_view key) { return key == "project_dir" || key == "state_dir"; }

bool changes_subsystem(const std::vector<std::string>& changed, const std::string& name) {
  for (const auto& key : changed)
    if (key.starts_with(name + ".") || (name == "github" && key == "log_dir")) return true;
  return false;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

boost::json::array json_strings(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

store open_history(const config& c, std::optional<std::string>& problem) {
  const auto file = c.state_dir / "redundancy.db";
  // A corrupt file is moved aside and replaced (loudly: an event and health's history.notice); only a
  // file that cannot be opened at all leaves the daemon on an in-memory store.
  auto opened = store::open_replacing_corrupt(file);
  if (opened) {
    const auto interrupted = opened->mark_unfinished_interrupted();
    if (interrupted)
      RLOG("orchestrator", warning) << interrupted << " unfinished actions of the previous run marked interrupted";
    return std::move(*opened);
  }
  problem = opened.error();
  RLOG("orchestrator", error) << "history unavailable, keeping it in memory only: " << opened.error();
  auto memory = store::open(":memory:");
  if (!memory) throw std::runtime_error("cannot open an in-memory SQLite store: " + memory.error());
  return std::move(*memory);
}

}  // namespace redundancy
