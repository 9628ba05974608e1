// What the server does with one parsed request: security checks, then routes or static files.
#include "redundancy/core/log.hpp"
#include "redundancy/http/security.hpp"
#include "redundancy/http/server.hpp"
#include "redundancy/http/static_files.hpp"

namespace redundancy::http {
namespace {
bool is_api_path(std::string_view path) {
  return path == "/api" || path.starts_with("/api/") || path == "/metrics" || path.starts_with("/metrics/");
}
}  // namespace

response handle_request(request& req, bool http11, const server_settings& settings, const router& routes) {
  try {
    const host_policy policy{.listen = settings.listen, .allowed_hosts = settings.allowed_hosts};
    if (auto refused = check_request(req, http11, policy, settings.token)) return std::move(*refused);
    const bool reads = req.method == "GET" || req.method == "HEAD";
    const bool api = is_api_path(req.path) || routes.matches(req.path);
    // The dashboard's files are the same for every install and hold nothing of the project: a browser
    // loads them without a token and then asks for it.
    if (settings.web_root && reads && !api) return serve_static(*settings.web_root, req);
    if (auto refused = check_exposed_read(req, settings.beyond_loopback, settings.public_routes))
      return std::move(*refused);
    return routes.dispatch(req);
  } catch (const std::exception& e) {
    RLOG("http", error) << req.method << ' ' << req.path << ": " << e.what();
  }
  return json_error(500, "internal_error", "internal error");
}

}  // namespace redundancy::http
