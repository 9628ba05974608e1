// The client commands: find the daemon and the token, make one API request on a local io_context,
// print the answer as a table (or the raw JSON), and map it to the documented exit codes.
#include "redundancy/cli/client_commands.hpp"

#include "redundancy/cli/cli.hpp"
#include "redundancy/cli/table.hpp"
#include "redundancy/core/asio.hpp"
#include "redundancy/net/client.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

namespace redundancy::cli {
namespace {

namespace json = boost::json;
using opts = client_commands::options;
using namespace std::chrono_literals;

// How a command reads the answer and chooses its exit code.
enum class reply_kind {
  health,     // GET /api/health: 200 ok, 503 unhealthy
  status,     // GET /api/status: exit by the overall status
  subsystem,  // GET /api/subsystems/{name}: exit by that subsystem's status
  report,     // GET /api/report: printed as indented JSON
  events,     // GET /api/events
  action,     // POST that answers 202 {"action_id"}
  pause,      // POST /api/pause or /api/resume: 200 {"target", "paused_until"}
};

struct api_call {
  std::string method{"GET"};
  std::string path{};
  std::optional<json::object> body{};
  reply_kind kind{reply_kind::status};
  std::string what{};  // for messages: "check pm2", "restart api"
};

// result<string, string> cannot tell a value from an error by type: say which.
boost::system::result<std::string, std::string> url_error(std::string why) {
  return {boost::system::in_place_error, std::move(why)};
}

boost::system::result<std::string, std::string> url_found(std::string url) {
  return {boost::system::in_place_value, std::move(url)};
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// "host:port" or "[v6]:port" to a base URL; nullopt when it does not parse or the port is 0.
std::optional<std::string> url_from_address(std::string_view address) {
  std::string host;
  std::string_view port;
  if (address.starts_with('[')) {
    const auto close = address.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
  }
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || number == 0 || number > 65535)
    return std::nullopt;
  // A daemon listening on every address is reached on loopback (which its Host check also accepts).
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(number);
}

const json::value* find(const json::value& v, std::string_view key) {
  if (!v.is_object()) return nullptr;
  return v.as_object().if_contains(key);
}

// A JSON value as a table cell: strings as they are, null or missing as "-".
std::string cell(const json::value* v) {
  if (!v || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

std::string cell(const json::value& v, std::string_view key) { return cell(find(v, key)); }

// The message of a `{"error": {"code", "message"}}` body, else the status line.
std::string error_message(const http::http_reply& r) {
  json::error_code ec;
  const auto v = json::parse(r.body, ec);
  if (!ec)
    if (const auto* e = find(v, "error"))
      if (const auto* m = find(*e, "message"); m && m->is_string()) return std::string(m->as_string());
  return "HTTP " + std::to_string(r.status) + (r.body.empty() ? "" : ": " + r.body.substr(0, 200));
}

// Indented JSON for people; Boost.JSON only prints compact text.
void pretty_print(std::ostream& os, const json::value& v, int indent = 0) {
  const std::string pad(indent + 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    os << "{\n";
    bool first = true;
    for (const auto& [key, value] : v.as_object()) {
      os << (first ? "" : ",\n") << pad << json::serialize(json::value(key)) << ": ";
      first = false;
      pretty_print(os, value, indent + 2);
    }
    os << "\n" << std::string(indent, ' ') << "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    os << "[\n";
    bool first = true;
    for (const auto& item : v.as_array()) {
      os << (first ? "" : ",\n") << pad;
      first = false;
      pretty_print(os, item, indent + 2);
    }
    os << "\n" << std::string(indent, ' ') << "]";
  } else {
    os << json::serialize(v);
  }
}

// The subsystems of a health or status answer as (name, object) pairs, in the daemon's order.
std::vector<std::pair<std::string, const json::value*>> subsystems_of(const json::value& v) {
  std::vector<std::pair<std::string, const json::value*>> out;
  const auto* subs = find(v, "subsystems");
  if (subs && subs->is_object())
    for (const auto& [name, value] : subs->as_object()) out.emplace_back(std::string(name), &value);
  else if (subs && subs->is_array())
    for (const auto& value : subs->as_array()) out.emplace_back(cell(value, "name"), &value);
  return out;
}

bool ok_status(std::string_view s) { return s == "healthy" || s == "degraded"; }

void print_targets(std::ostream& os, const std::string& subsystem, const json::value& v, bool colour) {
  const auto* targets = find(v, "targets");
  if (!targets || !targets->is_array() || targets->as_array().empty()) return;
  table t{.header = {"TARGET", "STATUS", "SINCE", "REASON"}, .rows = {}};
  for (const auto& target : targets->as_array())
    t.rows.push_back({subsystem + "/" + cell(target, "name"), cell(target, "status"), cell(target, "since"),
                      cell(target, "reason")});
  os << "\n";
  print_table(os, t, colour);
}

void print_emergency(std::ostream& os, const json::value& v, bool colour) {
  const auto* e = find(v, "emergency");
  if (!e) return;
  const auto* active = find(*e, "active");
  const bool on = active && active->is_bool() && active->as_bool();
  os << "emergency: " << coloured(on ? "active" : "inactive", colour) << " (attempts " << cell(*e, "attempts") << "/"
     << cell(*e, "max_attempts") << ")\n";
  if (const auto* message = find(*e, "message"); message && message->is_string())
    os << "  " << coloured("given up", colour) << ": " << cell(*e, "message") << "\n";
}

// The history's error state (a file that cannot be opened or written), shown only when there is one.
void print_history(std::ostream& os, const json::value& v, bool colour) {
  const auto* h = find(v, "history");
  if (!h) return;
  const auto* ok = find(*h, "ok");
  if (!ok || !ok->is_bool() || ok->as_bool()) return;
  os << "history: " << coloured("error", colour) << ": " << cell(*h, "error") << " (" << cell(*h, "unsaved_events")
     << " events kept in memory)\n";
}

// GET /api/health and GET /api/status as tables: the overall line, one row per subsystem, then
// (status only) each subsystem's targets and the daemon's own line.
void print_overview(std::ostream& os, const json::value& v, bool detailed, bool colour) {
  os << "overall: " << coloured(cell(v, "status"), colour) << "  (checked " << cell(v, "checked_at") << ")\n";
  table t;
  t.header = detailed ? std::vector<std::string>{"SUBSYSTEM", "STATUS", "FAILURES", "CHECKED", "NEXT CHECK",
                                                 "PAUSED UNTIL", "SUMMARY"}
                      : std::vector<std::string>{"SUBSYSTEM", "STATUS", "CHECKED", "SUMMARY"};
  const auto subsystems = subsystems_of(v);
  for (const auto& [name, s] : subsystems) {
    if (detailed)
      t.rows.push_back({name, cell(*s, "status"), cell(*s, "consecutive_failures"), cell(*s, "checked_at"),
                        cell(*s, "next_check_at"), cell(*s, "paused_until"), cell(*s, "summary")});
    else
      t.rows.push_back({name, cell(*s, "status"), cell(*s, "checked_at"), cell(*s, "summary")});
  }
  os << "\n";
  print_table(os, t, colour);
  if (detailed)
    for (const auto& [name, s] : subsystems) print_targets(os, name, *s, colour);
  os << "\n";
  print_emergency(os, v, colour);
  print_history(os, v, colour);
  if (const auto* d = find(v, "daemon"))
    os << "daemon: version " << cell(*d, "version") << ", pid " << cell(*d, "pid") << ", started "
       << cell(*d, "started_at") << ", rss " << cell(*d, "rss_bytes") << " bytes\n";
}

void print_subsystem(std::ostream& os, const std::string& name, const json::value& v, bool colour) {
  os << name << ": " << coloured(cell(v, "status"), colour) << "  " << cell(v, "summary") << "\n";
  os << "checked " << cell(v, "checked_at") << ", next check " << cell(v, "next_check_at")
     << ", consecutive failures " << cell(v, "consecutive_failures");
  if (const auto* p = find(v, "paused_until"); p && !p->is_null()) os << ", paused until " << cell(p);
  os << "\n";
  print_targets(os, name, v, colour);
}

void print_events(std::ostream& os, const json::value& v, bool colour) {
  table t{.header = {"TIME", "SEVERITY", "SUBSYSTEM", "TARGET", "KIND", "MESSAGE"}, .rows = {}};
  if (const auto* events = find(v, "events"); events && events->is_array())
    for (const auto& e : events->as_array())
      t.rows.push_back({cell(e, "ts"), cell(e, "severity"), cell(e, "subsystem"), cell(e, "target"), cell(e, "kind"),
                        cell(e, "message")});
  if (t.rows.empty()) {
    os << "no events\n";
    return;
  }
  print_table(os, t, colour);
}

// An action from GET /api/actions/{id}: its state, then each step and, when it failed, its output.
void print_action(std::ostream& os, const json::value& a, bool colour) {
  os << "action " << cell(a, "id") << " " << coloured(cell(a, "state"), colour) << " (" << cell(a, "kind") << " "
     << cell(a, "subsystem");
  if (const auto* t = find(a, "target"); t && t->is_string() && !t->as_string().empty()) os << "/" << cell(t);
  os << ")\n";
  if (const auto* steps = find(a, "steps"); steps && steps->is_array())
    for (const auto& step : steps->as_array()) {
      if (!step.is_object()) {
        os << "  " << cell(&step) << "\n";
        continue;
      }
      const auto* ok = find(step, "ok");
      const auto mark = ok && ok->is_bool() ? (ok->as_bool() ? "ok" : "failed") : cell(step, "state");
      os << "  " << coloured(mark, colour) << "  " << cell(step, "name");
      if (const auto* d = find(step, "detail"); d && !d->is_null()) os << ": " << cell(d);
      os << "\n";
    }
  const auto state = cell(a, "state");
  if (state != "succeeded")
    if (const auto* tail = find(a, "output_tail"); tail && tail->is_string() && !tail->as_string().empty())
      os << "output:\n" << tail->as_string() << "\n";
}

bool finished(std::string_view state) { return state == "succeeded" || state == "failed" || state == "interrupted"; }

struct session {
  std::string base;
  std::optional<std::string> token;
  const opts& o;

  awaitable<http::http_reply> call(std::string method, std::string path, std::string body) {
    http::http_request_spec spec;
    spec.method = std::move(method);
    spec.url = base + path;
    spec.headers.emplace_back("Accept", "application/json");
    if (token) spec.headers.emplace_back("Authorization", "Bearer " + *token);
    if (!body.empty()) spec.headers.emplace_back("Content-Type", "application/json");
    spec.body = std::move(body);
    co_return co_await http::http_fetch(std::move(spec));
  }

  // The exit code for a reply that is not the expected success, after saying why on stderr;
  // nullopt when the caller should go on.
  std::optional<int> refused(const http::http_reply& r) const {
    if (!r.error.empty()) {
      std::cerr << "redundancy: cannot reach the daemon at " << base << ": " << r.error << "\n";
      return exit_code::unreachable;
    }
    if (r.status == 401 || r.status == 403) {
      std::cerr << "redundancy: the daemon refused the request (" << r.status << "): " << error_message(r) << "\n";
      if (r.status == 401 && !token)
        std::cerr << "redundancy: no token found: set $REDUNDANCY_TOKEN or create the token file\n";
      return exit_code::unreachable;
    }
    return std::nullopt;
  }

  // Polls GET /api/actions/{id} until the action finishes.
  awaitable<int> wait_for(const std::string& id, bool colour) {
    asio::steady_timer tick(co_await asio::this_coro::executor);
    for (;;) {
      std::string path = "/api/actions/" + id;
      const auto r = co_await call("GET", std::move(path), {});
      if (auto code = refused(r)) co_return *code;
      if (r.status != 200) {
        std::cerr << "redundancy: cannot read action " << id << ": " << error_message(r) << "\n";
        co_return exit_code::failed;
      }
      json::error_code ec;
      const auto a = json::parse(r.body, ec);
      if (ec) {
        std::cerr << "redundancy: the daemon's answer is not JSON: " << ec.message() << "\n";
        co_return exit_code::failed;
      }
      const auto state = cell(a, "state");
      if (finished(state)) {
        if (o.json)
          std::cout << r.body << "\n";
        else
          print_action(std::cout, a, colour);
        co_return state == "succeeded" ? exit_code::ok : exit_code::failed;
      }
      tick.expires_after(500ms);
      co_await tick.async_wait(asio::use_awaitable);
    }
  }

  awaitable<int> run(const api_call& c) {
    const bool colour = !o.json && stdout_wants_colour();
    // Arguments built outside the co_await: g++ 12 destroys a conditional's temporary there twice.
    std::string body;
    if (c.body) body = json::serialize(*c.body);
    const auto r = co_await call(c.method, c.path, std::move(body));
    if (auto code = refused(r)) co_return *code;

    json::error_code ec;
    const auto v = json::parse(r.body, ec);
    const bool expected = c.kind == reply_kind::health ? (r.status == 200 || r.status == 503)
                          : c.kind == reply_kind::action ? r.status == 202
                                                         : r.status == 200;
    if (!expected) {
      // 409 on an emergency still names the running action: show it so it can be followed.
      std::cerr << "redundancy: " << (c.what.empty() ? c.path : c.what) << ": " << error_message(r) << "\n";
      if (o.json && !ec) std::cout << r.body << "\n";
      if (!ec)
        if (const auto* id = find(v, "action_id")) std::cerr << "redundancy: running action: " << cell(id) << "\n";
      // 400 and 404: the command named something wrong (a workflow that is not watched, a duration too
      // long), a usage error like a bad flag, not an action that failed.
      co_return r.status == 400 || r.status == 404 ? exit_code::usage : exit_code::failed;
    }
    if (ec) {
      std::cerr << "redundancy: the daemon's answer is not JSON: " << ec.message() << "\n";
      co_return exit_code::failed;
    }

    switch (c.kind) {
      case reply_kind::health:
      case reply_kind::status: {
        if (o.json)
          std::cout << r.body << "\n";
        else
          print_overview(std::cout, v, c.kind == reply_kind::status, colour);
        const bool ok = c.kind == reply_kind::health ? r.status == 200 : ok_status(cell(v, "status"));
        co_return ok ? exit_code::ok : exit_code::failed;
      }
      case reply_kind::subsystem: {
        const auto name = c.path.substr(c.path.rfind('/') + 1);
        if (o.json)
          std::cout << r.body << "\n";
        else
          print_subsystem(std::cout, name, v, colour);
        co_return cell(v, "status") == "unhealthy" ? exit_code::failed : exit_code::ok;
      }
      case reply_kind::report:
        if (o.json)
          std::cout << r.body << "\n";
        else {
          pretty_print(std::cout, v);
          std::cout << "\n";
        }
        co_return exit_code::ok;
      case reply_kind::events:
        if (o.json)
          std::cout << r.body << "\n";
        else
          print_events(std::cout, v, colour);
        co_return exit_code::ok;
      case reply_kind::pause:
        if (o.json)
          std::cout << r.body << "\n";
        else if (const auto* until = find(v, "paused_until"); until && !until->is_null())
          std::cout << "paused " << cell(v, "target") << " until " << cell(until) << "\n";
        else
          std::cout << "resumed " << cell(v, "target") << "\n";
        co_return exit_code::ok;
      case reply_kind::action: {
        const auto id = cell(v, "action_id");
        if (o.wait) {
          if (!o.json) std::cout << "action " << id << " queued (" << c.what << "), waiting\n";
          co_return co_await wait_for(id, colour);
        }
        if (o.json)
          std::cout << r.body << "\n";
        else
          std::cout << "action " << id << " queued (" << c.what << ")\n";
        co_return exit_code::ok;
      }
    }
    co_return exit_code::failed;
  }
};

// Resolves the daemon and the token, then runs the call on a local io_context.
int perform(const api_call& c, const opts& o, const config& cfg, const env_lookup& env) {
  auto base = daemon_url(o.url, env, cfg);
  if (!base) {
    std::cerr << "redundancy: " << base.error() << "\n";
    return exit_code::unreachable;
  }
  session s{.base = *base, .token = api_token(env, cfg), .o = o};
  asio::io_context ioc;
  auto done = asio::co_spawn(ioc, s.run(c), asio::use_future);
  ioc.run();
  return done.get();
}

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
  return {.method = "POST", .path = std::move(path), .body = std::move(body), .kind = reply_kind::action,
          .what = std::move(what)};
}

api_call check_call(const std::string& subsystem) {
  json::object body;
  if (!subsystem.empty()) body["subsystem"] = subsystem;
  return post("/api/check", std::move(body), subsystem.empty() ? "check all" : "check " + subsystem);
}

}  // namespace

boost::system::result<std::string, std::string> daemon_url(const std::optional<std::string>& flag,
                                                           const env_lookup& env, const config& c) {
  auto strip = [](std::string u) {
    while (u.ends_with('/')) u.pop_back();
    return u;
  };
  if (flag && !flag->empty()) return url_found(strip(*flag));
  if (auto it = env.find("REDUNDANCY_URL"); it != env.end() && !it->second.empty()) return url_found(strip(it->second));
  if (auto from_listen = url_from_address(c.http.listen)) return url_found(*from_listen);
  // Port 0: the daemon picked one and wrote where it listens.
  const auto addr_file = c.state_dir / "http.addr";
  std::ifstream in(addr_file);
  std::string written;
  if (in && std::getline(in, written))
    if (auto from_file = url_from_address(trim(written))) return url_found(*from_file);
  return url_error("cannot tell where the daemon listens: http.listen is '" + c.http.listen + "' and " +
                   addr_file.string() + " holds no address; pass --url or set $REDUNDANCY_URL");
}

std::optional<std::string> api_token(const env_lookup& env, const config& c) {
  if (auto it = env.find("REDUNDANCY_TOKEN"); it != env.end() && !trim(it->second).empty()) return trim(it->second);
  const auto file = c.http.token_file.value_or(c.state_dir / "token");
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto token = trim(text.str());
  if (token.empty()) return std::nullopt;
  return token;
}

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
                           return perform(make(given), given, cfg, env);
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

  auto* pause = add(&app, "pause", "stop checking and repairing a subsystem or target for a while", false,
                    [](const opts& g) {
                      json::object body{{"target", g.target}, {"for", g.duration}};
                      if (!g.reason.empty()) body["reason"] = g.reason;
                      return api_call{.method = "POST", .path = "/api/pause", .body = std::move(body),
                                      .kind = reply_kind::pause, .what = "pause " + g.target};
                    });
  pause->add_option("target", o.target, "a subsystem (pm2) or one target (pm2/api)")->required();
  pause->add_option("--for", o.duration, "how long, e.g. 30m")->required();
  pause->add_option("--reason", o.reason, "why, shown in status and events");
  auto* resume = add(&app, "resume", "end a pause", false, [](const opts& g) {
    json::object body{{"target", g.target}};
    return api_call{.method = "POST", .path = "/api/resume", .body = std::move(body), .kind = reply_kind::pause,
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
  auto* restart = add(pm2, "restart", "restart one app, or PM2's emergency restart without one", true,
                      [](const opts& g) {
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
