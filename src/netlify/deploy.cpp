// Deploy gate, deploy runs (command or build hook) and the persisted record of the last one.
#include "redundancy/netlify/deploy.hpp"

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/process.hpp"
#include "redundancy/core/small_file.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/netlify/checks.hpp"
#include "redundancy/netlify/discovery.hpp"
#include "redundancy/netlify/manifest.hpp"
#include "redundancy/netlify/probe.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>

namespace redundancy::netlify {
namespace json = boost::json;

namespace {

std::int64_t to_ms(sys_time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string describe_wait(std::chrono::milliseconds d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s >= 120) return std::to_string((s + 59) / 60) + "m";
  return std::to_string(s < 1 ? 1 : s) + "s";
}

std::string joined_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

}  // namespace

json::object to_json(const deploy_record& r) {
  return {{"at", to_rfc3339_seconds(r.at)},
          {"ok", r.ok},
          {"method", r.method},
          {"summary", r.summary},
          {"output_tail", r.output_tail}};
}

std::optional<deploy_record> load_deploy_record(const std::filesystem::path& file) {
  const auto text = read_small_file(file);
  if (!text) return std::nullopt;
  std::error_code ec;
  const auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* at = o.if_contains("at_ms");
  if (at == nullptr || !at->is_int64()) return std::nullopt;
  deploy_record r;
  r.at = sys_time{std::chrono::milliseconds{at->as_int64()}};
  if (const auto* ok = o.if_contains("ok"); ok != nullptr && ok->is_bool()) r.ok = ok->as_bool();
  for (auto [key, field] :
       {std::pair{"method", &r.method}, std::pair{"summary", &r.summary}, std::pair{"output_tail", &r.output_tail}})
    if (const auto* s = o.if_contains(key); s != nullptr && s->is_string()) *field = std::string{s->get_string()};
  return r;
}

std::optional<std::string> save_deploy_record(const std::filesystem::path& file, const deploy_record& r) {
  auto o = to_json(r);
  o["at_ms"] = to_ms(r.at);
  return write_file_atomically(file, json::serialize(o) + "\n", 0600);
}

deploy_gate gate_deploy(const std::optional<deploy_record>& last, std::chrono::milliseconds min_interval,
                        const std::vector<std::string>& syntax_failures, bool force, sys_time now) {
  if (!syntax_failures.empty()) {
    std::string list;
    for (const auto& f : syntax_failures) list += (list.empty() ? "" : "; ") + f;
    return {false, "not deploying while a function fails its syntax check: " + list};
  }
  if (!force && last) {
    const auto next = last->at + min_interval;
    if (now < next)
      return {false, "the last deploy was at " + to_rfc3339_seconds(last->at) + "; the next is allowed at " +
                         to_rfc3339_seconds(std::chrono::time_point_cast<sys_time::duration>(next)) + " (in " +
                         describe_wait(std::chrono::duration_cast<std::chrono::milliseconds>(next - now)) + ")"};
  }
  return {true, {}};
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (auto at = text.find(s); at != std::string::npos; at = text.find(s, at + 10))
      text.replace(at, s.size(), "<redacted>");
  }
  return text;
}

awaitable<deploy_record> run_deploy(const netlify_config& settings, const std::filesystem::path& project_dir) {
  deploy_record r;
  r.at = std::chrono::system_clock::now();
  if (settings.build_hook_url && !settings.build_hook_url->empty()) {
    r.method = "build_hook";
    RLOG("netlify", info) << "deploy: posting to the build hook";
    const auto hook = co_await post_build_hook(*settings.build_hook_url, settings.deploy_timeout);
    r.ok = hook.ok;
    r.summary = hook.detail;
    co_return r;
  }
  r.method = "command";
  process_spec spec;
  spec.argv = settings.deploy_command;
  spec.cwd = project_dir;
  spec.timeout = settings.deploy_timeout;
  spec.output_cap = 256 * 1024;
  // The Netlify CLI's own variables (NETLIFY_AUTH_TOKEN, NETLIFY_SITE_ID) pass; nothing else secret does.
  spec.inherit = child_env::netlify_cli;
  std::vector<std::string> secrets;
  if (const char* value = std::getenv("NETLIFY_AUTH_TOKEN"); value && *value) secrets.emplace_back(value);
  const std::string shown = joined_argv(settings.deploy_command);
  RLOG("netlify", info) << "deploy: running " << shown;
  const auto result = co_await run_process(std::move(spec));
  r.ok = result.ok();
  r.summary = shown + ": " + (result.started() ? result.describe() : result.error);
  r.output_tail = redact(tail_of(result.out + (result.err.empty() ? "" : "\n" + result.err), 4096), secrets);
  co_return r;
}

}  // namespace redundancy::netlify
