// Host, Origin and token checks made before any routing.
#include "redundancy/http/security.hpp"

#include "redundancy/core/log.hpp"
#include "redundancy/core/text.hpp"
#include "redundancy/http/token.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>

namespace redundancy::http {
namespace {
struct host_port {
  std::string name{};  // lower case, IPv6 without brackets
  std::string port{};  // digits, or empty when absent
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool all_digits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Splits `name`, `name:port` or `[v6]:port`; nullopt when malformed (empty name, bad port, unbracketed v6).
std::optional<host_port> split_host(std::string_view text) {
  host_port out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.name = lower(text.substr(1, close - 1));
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    out.name = lower(text.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6 || !all_digits(rest.substr(1))) return std::nullopt;
    if (std::stoul(std::string(rest.substr(1))) > 65535) return std::nullopt;  // not a TCP port
    out.port = std::string(rest.substr(1));
  }
  if (out.name.empty() || out.name.find_first_of(" \t/\\@") != std::string::npos) return std::nullopt;
  return out;
}

bool is_loopback(const std::string& name) {
  if (name == "localhost") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(name, ec);
  return !ec && address.is_loopback();
}

bool is_wildcard(const std::string& name) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(name, ec);
  return !ec && address.is_unspecified();
}

}  // namespace

bool host_allowed(std::string_view host, const host_policy& policy) {
  const auto parsed = split_host(trim(host));
  if (!parsed) return false;
  if (is_loopback(parsed->name)) return true;
  if (const auto listen = split_host(policy.listen);
      listen && !is_wildcard(listen->name) && listen->name == parsed->name)
    return true;
  for (const auto& entry : policy.allowed_hosts) {
    const auto allowed = split_host(entry);
    if (!allowed || allowed->name != parsed->name) continue;
    if (allowed->port.empty() || allowed->port == parsed->port) return true;
  }
  return false;
}

bool origin_allowed(std::string_view origin, const host_policy& policy) {
  origin = trim(origin);
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const auto scheme = lower(origin.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return false;
  auto authority = origin.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  return host_allowed(authority, policy);
}

bool bearer_matches(std::string_view authorization, std::string_view token) {
  authorization = trim(authorization);
  constexpr std::string_view scheme = "bearer ";
  if (token.empty() || authorization.size() <= scheme.size()) return false;
  if (lower(authorization.substr(0, scheme.size())) != scheme) return false;
  return constant_time_equal(trim(authorization.substr(scheme.size())), token);
}

namespace {
response unauthorized() {
  auto res = json_error(401, "unauthorized", "a valid Authorization: Bearer token is required");
  res.headers.emplace_back("WWW-Authenticate", "Bearer");
  return res;
}
}  // namespace

std::optional<response> check_request(request& req, bool http11, const host_policy& policy, std::string_view token) {
  req.authorized = bearer_matches(header_value(req, "authorization"), token);

  const auto host_it = req.headers.find("host");
  if (host_it == req.headers.end()) {
    if (http11) return json_error(400, "bad_request", "missing Host header");
  } else if (!host_allowed(host_it->second, policy)) {
    RLOG("http", debug) << req.method << ' ' << req.path << ": refused, foreign Host";
    return json_error(403, "forbidden_host", "Host is not this server");
  }

  // POST and every other state-changing method; GET and HEAD only read.
  if (req.method != "GET" && req.method != "HEAD") {
    const auto origin = req.headers.find("origin");
    if (origin != req.headers.end() && !origin_allowed(origin->second, policy)) {
      RLOG("http", debug) << req.method << ' ' << req.path << ": refused, foreign Origin";
      return json_error(403, "forbidden_origin", "Origin is not this server");
    }
    if (!req.authorized) {
      RLOG("http", debug) << req.method << ' ' << req.path << ": refused, missing or wrong token";
      return unauthorized();
    }
  }
  return std::nullopt;
}

std::optional<response> check_exposed_read(const request& req, bool beyond_loopback,
                                           const std::vector<std::string>& public_routes) {
  if (req.authorized) return std::nullopt;
  const bool proxied =
      req.headers.contains("forwarded") || req.headers.contains("x-forwarded-for") || req.headers.contains("x-real-ip");
  if (!beyond_loopback && !proxied) return std::nullopt;
  if (std::find(public_routes.begin(), public_routes.end(), req.path) != public_routes.end()) return std::nullopt;
  RLOG("http", debug) << req.method << ' ' << req.path << ": refused beyond loopback, missing or wrong token";
  return unauthorized();
}

}  // namespace redundancy::http
