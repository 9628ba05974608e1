// Probing deployed functions over HTTP(S) and posting to the build hook.
#include "redundancy/netlify/probe.hpp"

#include "redundancy/net/client.hpp"

namespace redundancy::netlify {

namespace {

bool is_url(std::string_view s) { return s.starts_with("http://") || s.starts_with("https://"); }

std::string joined(std::string_view site_url, std::string_view path) {
  std::string base{site_url};
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!path.starts_with('/')) base += '/';
  return base + std::string{path};
}

}  // namespace

probe_request probe_for(std::string_view name, std::string_view site_url,
                        const std::map<std::string, std::string>& probe_paths) {
  probe_request out;
  const auto it = probe_paths.find(std::string{name});
  if (it == probe_paths.end()) {
    out.url = joined(site_url, "/.netlify/functions/" + std::string{name});
    return out;
  }
  std::string_view spec = it->second;
  if (const auto space = spec.find(' '); space != std::string_view::npos && !spec.starts_with('/') && !is_url(spec)) {
    out.method = std::string{spec.substr(0, space)};
    spec.remove_prefix(space + 1);
    while (spec.starts_with(' ')) spec.remove_prefix(1);
  }
  out.url = is_url(spec) ? std::string{spec} : joined(site_url, spec);
  return out;
}

awaitable<check_result> probe_function(const probe_request& probe, std::chrono::milliseconds timeout) {
  http::http_request_spec spec;
  spec.method = probe.method;
  spec.url = probe.url;
  spec.timeout = timeout;
  spec.max_body = 1024 * 1024;
  const auto reply = co_await http::http_fetch(std::move(spec));
  const std::string what = probe.method + " " + probe.url;
  // A body over the cap still answered: the status is what counts.
  if (!reply.error.empty() && reply.status == 0) co_return check_result::fail(what + ": " + reply.error);
  if (reply.status >= 500) co_return check_result::fail(what + " answered " + std::to_string(reply.status));
  co_return check_result::pass(what + " answered " + std::to_string(reply.status));
}

awaitable<hook_outcome> post_build_hook(const std::string& url, std::chrono::milliseconds timeout) {
  http::http_request_spec spec;
  spec.method = "POST";
  spec.url = url;
  spec.timeout = timeout;
  spec.headers = {{"Content-Type", "application/json"}};
  spec.body = "{}";
  auto reply = co_await http::http_fetch(std::move(spec));
  hook_outcome out;
  out.status = reply.status;
  if (!reply.error.empty()) {
    // Errors are in words, but a client may quote what it was given: never let the URL through.
    std::string error = reply.error;
    for (auto at = error.find(url); !url.empty() && at != std::string::npos; at = error.find(url))
      error.replace(at, url.size(), "<build hook>");
    out.detail = "build hook failed: " + error;
    co_return out;
  }
  out.ok = reply.status >= 200 && reply.status < 300;
  out.detail = "build hook answered " + std::to_string(reply.status);
  co_return out;
}

}  // namespace redundancy::netlify
