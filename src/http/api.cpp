// The API's handlers: each reads the orchestrator's in-memory state or queues an action, never waits.
#include "redundancy/http/api.hpp"

#include "redundancy/core/duration.hpp"
#include "redundancy/core/proc_statm.hpp"
#include "redundancy/core/scheduler.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/metrics/metrics.hpp"
#include "redundancy/orchestrator/actions.hpp"
#include "redundancy/orchestrator/orchestrator.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/json/parse.hpp>

#include <unistd.h>

#include <charconv>

namespace redundancy {
namespace {

using http::json_error;
using http::json_response;
using http::request;
using http::response;
using http::route_params;

// The body as a JSON object: empty means {}; anything else that is not an object is an error.
boost::system::result<boost::json::object, std::string> body_object(const request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return boost::json::object{};
  boost::system::error_code ec;
  auto v = boost::json::parse(req.body, ec);
  if (ec) return "the body is not valid JSON: " + ec.message();
  if (!v.is_object()) return std::string("the body must be a JSON object");
  return std::move(v.as_object());
}

std::optional<std::string> string_field(const boost::json::object& o, std::string_view key, std::string& error) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) {
    error = std::string(key) + ": expected a string";
    return std::nullopt;
  }
  return std::string(it->value().as_string());
}

response accepted(std::int64_t id) { return json_response(202, {{"action_id", id}}); }

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return id;
}

// Waits until the subsystem has finished a check that started after this call.
awaitable<action_result> wait_for_check(scheduler& checks, std::string name) {
  std::vector<std::string> checked;
  for (const auto& [each, s] : checks.states())
    if (name.empty() || each == name) checked.push_back(each);
  co_await checks.fresh_checks(name);
  action_result result{.ok = true, .summary = {}, .steps = {}, .output_tail = {}};
  for (const auto& each : checked) {
    const auto* s = checks.state(each);
    if (s == nullptr) continue;  // removed by a reload while we waited
    result.steps.push_back({.name = "check " + each,
                            .ok = s->last_outcome == check_outcome::ok,
                            .detail = std::string(to_string(s->last.state)) + ": " + s->last.summary});
  }
  result.summary = name.empty() ? "checked every subsystem" : "checked " + name;
  co_return result;
}

class api {
 public:
  explicit api(api_context c) : c_(c) {}

  response health(const request&, const route_params&) {
    const auto overall = c_.policy.overall();
    const bool ok = overall == overall_status::healthy || overall == overall_status::degraded;
    return json_response(ok ? 200 : 503, c_.policy.health_json());
  }

  response status(const request&, const route_params&) {
    auto body = c_.policy.status_json();
    body["daemon"] = boost::json::object{{"version", REDUNDANCY_VERSION},
                                         {"pid", ::getpid()},
                                         {"started_at", to_rfc3339(c_.started_at)},
                                         {"rss_bytes", read_statm().value_or(process_memory{}).resident_bytes}};
    return json_response(200, body);
  }

  response subsystem(const request&, const route_params& p) {
    const auto* s = c_.checks.state(p.at("name"));
    if (!s) return json_error(404, "not_found", "no subsystem named '" + p.at("name") + "' is enabled");
    auto body = c_.policy.subsystem_json(*s, true);
    body["name"] = p.at("name");
    return json_response(200, body);
  }

  response check(const request& req, const route_params&) {
    auto body = body_object(req);
    if (!body) return json_error(400, "bad_request", body.error());
    std::string error;
    const auto name = string_field(*body, "subsystem", error).value_or("");
    if (!error.empty()) return json_error(400, "bad_request", error);
    if (!name.empty() && !c_.checks.state(name))
      return json_error(404, "not_found", "no subsystem named '" + name + "' is enabled");
    auto& checks = c_.checks;
    // Checks have a lane of their own: asking for one never waits behind a five-minute deploy.
    return accepted(c_.actions.submit({.kind = "check",
                                       .subsystem = name.empty() ? std::string("orchestrator") : name,
                                       .target = {},
                                       .requested_by = "api",
                                       .lane = "check:" + name,
                                       .work = [&checks, name]() { return wait_for_check(checks, name); }}));
  }

  response emergency(const request&, const route_params&) {
    const auto submitted = c_.policy.request_emergency("api");
    if (submitted.conflict) {
      auto r = json_error(409, "conflict", "an emergency recovery is already running");
      auto body = boost::json::parse(r.body).as_object();
      body["action_id"] = submitted.id;
      return json_response(409, body);
    }
    return accepted(submitted.id);
  }

  // POST /api/pm2/restart, /api/github/trigger, /api/netlify/regenerate, /api/netlify/deploy.
  response manual(const request& req, std::string subsystem_name, std::string verb) {
    const auto* s = c_.checks.state(subsystem_name);
    if (!s) return json_error(404, "not_enabled", "the " + subsystem_name + " subsystem is not enabled");
    auto body = body_object(req);
    if (!body) return json_error(400, "bad_request", body.error());
    if (auto unknown = s->target->unknown_target(verb, *body)) return json_error(404, "not_found", *unknown);
    std::string target;
    for (const auto* key : {"app", "workflow"})
      if (auto it = body->find(key); it != body->end() && it->value().is_string())
        target = std::string(it->value().as_string());
    // A pause keeps automation and people's buttons away alike; pm2 itself stays at hand.
    std::vector<std::string> held{subsystem_name};
    if (!target.empty()) held.push_back(subsystem_name + "/" + target);
    for (const auto& name : held)
      if (const auto p = c_.policy.paused(name))
        return json_error(409, "paused",
                          name + " is paused until " + to_rfc3339(p->until) + ": resume it first (POST /api/resume)");
    auto work = s->target->manual(verb, *body, c_.policy.paused_targets(subsystem_name));
    if (!work) return json_error(400, "bad_request", work.error());
    return accepted(c_.actions.submit({.kind = verb,
                                       .subsystem = subsystem_name,
                                       .target = target,
                                       .requested_by = "api",
                                       .lane = {},
                                       .work = std::move(*work)}));
  }

  response pause(const request& req, const route_params&) {
    auto body = body_object(req);
    if (!body) return json_error(400, "bad_request", body.error());
    std::string error;
    const auto target = string_field(*body, "target", error);
    const auto for_text = string_field(*body, "for", error);
    const auto reason = string_field(*body, "reason", error).value_or("");
    if (!error.empty()) return json_error(400, "bad_request", error);
    if (!target) return json_error(400, "bad_request", "target: required, e.g. \"pm2\" or \"pm2/api\"");
    const auto how_long = parse_duration(for_text.value_or("1h"));
    if (!how_long) return json_error(400, "bad_request", "for: expected a duration like \"30m\"");
    if (*how_long > max_duration)
      return json_error(
          400, "bad_request",
          "for: expected a duration of at most " + format_duration(max_duration) + ", got \"" + *for_text + "\"");
    if (auto refused = c_.policy.pause(*target, *how_long, reason)) return json_error(400, "bad_request", *refused);
    return json_response(200, {{"target", *target}, {"paused_until", to_rfc3339(c_.policy.paused(*target)->until)}});
  }

  response resume(const request& req, const route_params&) {
    auto body = body_object(req);
    if (!body) return json_error(400, "bad_request", body.error());
    std::string error;
    const auto target = string_field(*body, "target", error);
    if (!error.empty() || !target) return json_error(400, "bad_request", error.empty() ? "target: required" : error);
    if (auto refused = c_.policy.resume(*target)) return json_error(400, "bad_request", *refused);
    return json_response(200, {{"target", *target}, {"paused_until", nullptr}});
  }

  response actions(const request& req, const route_params&) {
    std::size_t limit = 50;
    if (auto it = req.query.find("limit"); it != req.query.end()) {
      auto parsed = parse_id(it->second);
      if (!parsed || *parsed < 1 || *parsed > 1000) return json_error(400, "bad_request", "limit: 1 to 1000");
      limit = static_cast<std::size_t>(*parsed);
    }
    std::optional<std::string> subsystem;
    if (auto it = req.query.find("subsystem"); it != req.query.end()) subsystem = it->second;
    boost::json::array list;
    for (const auto& a : c_.history.actions(limit, subsystem)) list.push_back(to_json(a));
    return json_response(200, {{"actions", std::move(list)}});
  }

  response action(const request&, const route_params& p) {
    const auto id = parse_id(p.at("id"));
    if (!id) return json_error(400, "bad_request", "id: expected a number");
    const auto found = c_.history.action(*id);
    if (!found) return json_error(404, "not_found", "no action " + p.at("id"));
    return json_response(200, to_json(*found));
  }

  response events(const request& req, const route_params&) {
    event_query q;
    if (auto it = req.query.find("limit"); it != req.query.end()) {
      auto parsed = parse_id(it->second);
      if (!parsed || *parsed < 1 || *parsed > 1000) return json_error(400, "bad_request", "limit: 1 to 1000");
      q.limit = static_cast<std::size_t>(*parsed);
    }
    if (auto it = req.query.find("since"); it != req.query.end()) {
      q.since = from_rfc3339(it->second);
      if (!q.since) return json_error(400, "bad_request", "since: expected an RFC 3339 time");
    }
    if (auto it = req.query.find("subsystem"); it != req.query.end()) q.subsystem = it->second;
    boost::json::array list;
    // Through the orchestrator: while the store refuses writes, the events it keeps in memory too.
    for (const auto& e : c_.policy.events(q)) list.push_back(to_json(e));
    return json_response(200, {{"events", std::move(list)}});
  }

  response report(const request&, const route_params&) { return json_response(200, c_.policy.report_json()); }

  response prometheus(const request&, const route_params&) {
    return {.status = 200,
            .content_type = std::string(metrics::content_type),
            .body = c_.numbers.serialize(),
            .headers = {}};
  }

 private:
  api_context c_;
};

}  // namespace

void add_api_routes(http::router& routes, api_context context) {
  auto a = std::make_shared<api>(context);
  auto bind = [a](response (api::*fn)(const request&, const route_params&)) {
    return [a, fn](const request& r, const route_params& p) { return ((*a).*fn)(r, p); };
  };
  auto manual = [a](std::string subsystem, std::string verb) {
    return [a, subsystem, verb](const request& r, const route_params&) { return a->manual(r, subsystem, verb); };
  };
  routes.add("GET", "/api/health", bind(&api::health));
  routes.add("GET", "/api/status", bind(&api::status));
  routes.add("GET", "/api/subsystems/{name}", bind(&api::subsystem));
  routes.add("POST", "/api/check", bind(&api::check));
  routes.add("POST", "/api/emergency", bind(&api::emergency));
  routes.add("POST", "/api/pm2/restart", manual("pm2", "restart"));
  routes.add("POST", "/api/github/trigger", manual("github", "trigger"));
  routes.add("POST", "/api/netlify/regenerate", manual("netlify", "regenerate"));
  routes.add("POST", "/api/netlify/deploy", manual("netlify", "deploy"));
  routes.add("POST", "/api/pause", bind(&api::pause));
  routes.add("POST", "/api/resume", bind(&api::resume));
  routes.add("GET", "/api/actions", bind(&api::actions));
  routes.add("GET", "/api/actions/{id}", bind(&api::action));
  routes.add("GET", "/api/events", bind(&api::events));
  routes.add("GET", "/api/report", bind(&api::report));
  routes.add("GET", "/metrics", bind(&api::prometheus));
}

}  // namespace redundancy
