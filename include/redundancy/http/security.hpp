// The checks made on every request before routing: Host (DNS rebinding), Origin on POST (cross-site
// requests) and the Bearer token. Pure functions, tested without sockets.
#pragma once
#include "redundancy/http/message.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::http {

// Which hosts a request may name: loopback always, the listen address, and the configured extra ones.
struct host_policy {
  std::string listen{};                      // "127.0.0.1:8686", "[::1]:8686", "0.0.0.0:8686"
  std::vector<std::string> allowed_hosts{};  // "example.org" (any port) or "example.org:8443" (that port)
};

// Whether a Host header value (`name`, `name:port`, `[v6]:port`) is allowed: localhost, 127.0.0.0/8,
// [::1], the listen address (its host, with or without port; unless it is a wildcard address), or an
// allowed host. Names compare case-insensitively; an empty or malformed value is refused.
bool host_allowed(std::string_view host, const host_policy& policy);

// Whether an Origin header value (`scheme://authority`) names an allowed host; "null" and anything that
// is not an http(s) origin are refused.
bool origin_allowed(std::string_view origin, const host_policy& policy);

// Whether an Authorization header value is `Bearer <token>` (scheme case-insensitive) with exactly
// `token`, compared in constant time. An empty `token` never matches.
bool bearer_matches(std::string_view authorization, std::string_view token);

// The security checks on a parsed request, in order: 400 missing Host (HTTP/1.1), 403 forbidden_host,
// 403 forbidden_origin (POST, or any method but GET/HEAD, with a foreign Origin), 401 unauthorized with
// `WWW-Authenticate: Bearer` (such a request without the right token). Returns the refusal, or nullopt when the request
// may go on; sets req.authorized in every case.
std::optional<response> check_request(request& req, bool http11, const host_policy& policy, std::string_view token);

// Beyond loopback (the server is bound to an address that is not a loopback one: 0.0.0.0, ::, a LAN
// address) the Host check cannot tell a remote client from a local one, since any client may send
// `Host: 127.0.0.1`: then a request to an API path (/api/..., /metrics) that is not one of
// `public_routes` (exact paths) needs the token whatever its method. A request that came through a
// reverse proxy (it carries Forwarded, X-Forwarded-For or X-Real-IP) is taken for a remote one even on
// loopback: the proxy's connection is local, its client is not. Returns the 401 (with
// `WWW-Authenticate: Bearer`) for such a request without the token, nullopt otherwise. Run after
// check_request, which sets req.authorized.
std::optional<response> check_exposed_read(const request& req, bool beyond_loopback,
                                           const std::vector<std::string>& public_routes);

}  // namespace redundancy::http
