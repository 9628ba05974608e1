// The routing table: matching patterns with `{name}` segments, 404 against 405, and handler failures.
#include "redundancy/http/router.hpp"

#include "redundancy/core/log.hpp"

#include <stdexcept>

namespace redundancy::http {
namespace {
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

std::size_t literal_count(const std::vector<std::string>& segments) {
  std::size_t n = 0;
  for (const auto& s : segments) n += is_param(s) ? 0 : 1;
  return n;
}
}  // namespace

void router::add(std::string method, std::string_view pattern, handler fn) {
  if (pattern.empty() || pattern.front() != '/') throw std::invalid_argument("route pattern must start with '/'");
  auto segments = split_path(pattern);
  for (const auto& s : segments)
    if (s == "{}" || (s.find_first_of("{}") != std::string::npos && !is_param(s)))
      throw std::invalid_argument("malformed route pattern: " + std::string(pattern));
  for (auto& r : routes_) {
    if (r.segments == segments) {
      r.by_method[std::move(method)] = std::move(fn);
      return;
    }
  }
  route r{.segments = std::move(segments)};
  r.by_method[std::move(method)] = std::move(fn);
  routes_.push_back(std::move(r));
}

const router::route* router::find(std::string_view path, route_params& params) const {
  const auto segments = split_path(path);
  const route* best = nullptr;
  std::size_t best_literals = 0;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; ok && i < segments.size(); ++i)
      ok = is_param(r.segments[i]) ? !segments[i].empty() : r.segments[i] == segments[i];
    if (!ok) continue;
    const auto literals = literal_count(r.segments);
    if (best == nullptr || literals > best_literals) {
      best = &r;
      best_literals = literals;
    }
  }
  if (best != nullptr) {
    params.clear();
    for (std::size_t i = 0; i < segments.size(); ++i)
      if (is_param(best->segments[i]))
        params.emplace(best->segments[i].substr(1, best->segments[i].size() - 2), segments[i]);
  }
  return best;
}

bool router::matches(std::string_view path) const {
  route_params params;
  return find(path, params) != nullptr;
}

response router::dispatch(const request& req) const {
  route_params params;
  const route* r = find(req.path, params);
  if (r == nullptr) return json_error(404, "not_found", "no such path");

  auto it = r->by_method.find(req.method);
  if (it == r->by_method.end() && req.method == "HEAD") it = r->by_method.find("GET");
  if (it == r->by_method.end()) {
    std::string allow;
    for (const auto& [method, fn] : r->by_method) {
      if (!allow.empty()) allow += ", ";
      allow += method;
      if (method == "GET" && !r->by_method.contains("HEAD")) allow += ", HEAD";
    }
    auto res = json_error(405, "method_not_allowed", "method not allowed on this path");
    res.headers.emplace_back("Allow", allow);
    return res;
  }

  try {
    return it->second(req, params);
  } catch (const std::exception& e) {
    RLOG("http", error) << req.method << ' ' << req.path << ": handler failed: " << e.what();
  } catch (...) {
    RLOG("http", error) << req.method << ' ' << req.path << ": handler failed with an unknown exception";
  }
  return json_error(500, "internal_error", "internal error");
}

}  // namespace redundancy::http
