// The client commands' table: each subcommand, its options and the API call it makes (the session
// in client_session.cpp makes it; daemon_address.cpp finds the daemon).
#include "redundancy/cli/client_commands.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <iostream>

#include "client_call.hpp"
#include "redundancy/cli/cli.hpp"

namespace redundancy::cli {
namespace {

namespace json = boost::json;
using opts = client_commands::options;
using client_detail::api_call;
using client_detail::reply_kind;

// Percent-encodes a query value or a path segment.
std::string encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

api_call post(std::string path, json::object body, std::string what) {
  return {.method = "POST",
          .path = std::move(path),
          .body = std::move(body),
          .kind = reply_kind::action,
          .what = std::move(what)};
}

api_call check_call(const std::string& subsystem) {
  json::object body;
  if (!subsystem.empty()) body["subsystem"] = subsystem;
  return post("/api/check", std::move(body), subsystem.empty() ? "check all" : "check " + subsystem);
}

}  // namespace

client_commands::client_commands(CLI::App& app, std::optional<std::filesystem::path>& config_file)
    : config_file_(config_file) {
  auto& o = options_;
  // Every client command takes the connection options itself, so they read naturally after it.
  auto add = [&](CLI::App* parent, std::string name, std::string help, bool is_action,
                 std::function<api_call(const opts&)> make) {
    auto* sub = parent->add_subcommand(std::move(name), std::move(help));
    sub->add_option("--url", o.url, "the daemon's base URL (else $REDUNDANCY_URL, else the config's http.listen)");
    sub->add_option("--config", config_file, "config file");
    sub->add_flag("--json", o.json, "print the daemon's JSON as it is");
    if (is_action) sub->add_flag("--wait", o.wait, "wait until the action finishes; exit 1 if it failed");
    commands_.push_back({.sub = sub, .run = [make](const opts& given, const config& cfg, const env_lookup& env) {
                           return client_detail::perform(make(given), given, cfg, env);
                         }});
    return sub;
  };

  add(&app, "status", "the daemon's full status: subsystems, targets, emergency", false,
      [](const opts&) { return api_call{.path = "/api/status", .kind = reply_kind::status}; });
  add(&app, "health", "overall health; exit 0 when healthy or degraded, 1 otherwise", false,
      [](const opts&) { return api_call{.path = "/api/health", .kind = reply_kind::health}; });
  check_ = add(&app, "check", "check every subsystem now, or one", true,
               [](const opts& g) { return check_call(g.subsystem); });
  check_->add_option("subsystem", o.subsystem, "pm2, github or netlify");
  add(&app, "emergency", "start an emergency recovery of every subsystem", true,
      [](const opts&) { return post("/api/emergency", {}, "emergency"); });
  add(&app, "report", "the health report", false,
      [](const opts&) { return api_call{.path = "/api/report", .kind = reply_kind::report}; });
  auto* events = add(&app, "events", "recent events, newest first", false, [](const opts& g) {
    std::string query;
    if (g.limit) query += "&limit=" + std::to_string(g.limit);
    if (!g.subsystem.empty()) query += "&subsystem=" + encode(g.subsystem);
    if (!query.empty()) query[0] = '?';
    return api_call{.path = "/api/events" + query, .kind = reply_kind::events};
  });
  events->add_option("--limit", o.limit, "at most this many events (1 to 1000)")->check(CLI::Range(1u, 1000u));
  events->add_option("--subsystem", o.subsystem, "only this subsystem's events");

  auto* pause =
      add(&app, "pause", "stop checking and repairing a subsystem or target for a while", false, [](const opts& g) {
        json::object body{{"target", g.target}, {"for", g.duration}};
        if (!g.reason.empty()) body["reason"] = g.reason;
        return api_call{.method = "POST",
                        .path = "/api/pause",
                        .body = std::move(body),
                        .kind = reply_kind::pause,
                        .what = "pause " + g.target};
      });
  pause->add_option("target", o.target, "a subsystem (pm2) or one target (pm2/api)")->required();
  pause->add_option("--for", o.duration, "how long, e.g. 30m")->required();
  pause->add_option("--reason", o.reason, "why, shown in status and events");
  auto* resume = add(&app, "resume", "end a pause", false, [](const opts& g) {
    json::object body{{"target", g.target}};
    return api_call{.method = "POST",
                    .path = "/api/resume",
                    .body = std::move(body),
                    .kind = reply_kind::pause,
                    .what = "resume " + g.target};
  });
  resume->add_option("target", o.target, "a subsystem (pm2) or one target (pm2/api)")->required();

  for (const char* name : {"pm2", "github", "netlify"}) {
    const std::string subsystem = name;
    auto* group = app.add_subcommand(subsystem, "the " + subsystem + " subsystem");
    group->require_subcommand(1);
    add(group, "status", subsystem + "'s status and targets", false, [subsystem](const opts&) {
      return api_call{.path = "/api/subsystems/" + subsystem, .kind = reply_kind::subsystem};
    });
    add(group, "check", "check " + subsystem + " now", true,
        [subsystem](const opts&) { return check_call(subsystem); });
  }
  auto* pm2 = app.get_subcommand("pm2");
  auto* restart =
      add(pm2, "restart", "restart one app, or PM2's emergency restart without one", true, [](const opts& g) {
        json::object body;
        if (!g.target.empty()) body["app"] = g.target;
        return post("/api/pm2/restart", std::move(body),
                    g.target.empty() ? "pm2 emergency restart" : "restart " + g.target);
      });
  restart->add_option("app", o.target, "the PM2 app's name");

  auto* github = app.get_subcommand("github");
  auto* trigger = add(github, "trigger", "run one workflow (or all) through the local runner or a dispatch", true,
                      [](const opts& g) {
                        json::object body;
                        if (!g.target.empty()) body["workflow"] = g.target;
                        if (g.local) body["mode"] = "local";
                        if (g.dispatch) body["mode"] = "dispatch";
                        return post("/api/github/trigger", std::move(body),
                                    "trigger " + (g.target.empty() ? std::string("all workflows") : g.target));
                      });
  trigger->add_option("workflow", o.target, "the workflow file, e.g. ci.yml");
  auto* local = trigger->add_flag("--local", o.local, "run it with the local runner");
  trigger->add_flag("--dispatch", o.dispatch, "ask GitHub to run it (workflow_dispatch)")->excludes(local);

  auto* netlify = app.get_subcommand("netlify");
  add(netlify, "regenerate", "regenerate the functions manifest", true,
      [](const opts&) { return post("/api/netlify/regenerate", {}, "netlify regenerate"); });
  add(netlify, "deploy", "deploy the site", true,
      [](const opts&) { return post("/api/netlify/deploy", {}, "netlify deploy"); });
}

std::optional<int> client_commands::run_parsed() {
  for (const auto& c : commands_) {
    if (!c.sub->parsed()) continue;
    const auto env = current_environment();
    auto loaded = load_config(config_file_, env);
    if (!loaded) {
      std::cerr << "redundancy: " << loaded.error() << "\n";
      return exit_code::usage;
    }
    return c.run(options_, *loaded, env);
  }
  return std::nullopt;
}

}  // namespace redundancy::cli
