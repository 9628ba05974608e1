// The client commands' API session: one request on a local io_context, the daemon's refusals and
// errors on stderr, the answer printed, and the documented exit code.
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <future>
#include <iostream>

#include "client_call.hpp"
#include "client_render.hpp"
#include "redundancy/cli/cli.hpp"
#include "redundancy/cli/table.hpp"
#include "redundancy/core/asio.hpp"
#include "redundancy/net/client.hpp"

namespace redundancy::cli::client_detail {
namespace {

namespace json = boost::json;
using opts = client_commands::options;
using namespace std::chrono_literals;

// The message of a `{"error": {"code", "message"}}` body, else the status line.
std::string error_message(const http::http_reply& r) {
  json::error_code ec;
  const auto v = json::parse(r.body, ec);
  if (!ec)
    if (const auto* e = find(v, "error"))
      if (const auto* m = find(*e, "message"); m && m->is_string()) return std::string(m->as_string());
  return "HTTP " + std::to_string(r.status) + (r.body.empty() ? "" : ": " + r.body.substr(0, 200));
}

bool ok_status(std::string_view s) { return s == "healthy" || s == "degraded"; }

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
    const bool expected = c.kind == reply_kind::health   ? (r.status == 200 || r.status == 503)
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

}  // namespace

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

}  // namespace redundancy::cli::client_detail
