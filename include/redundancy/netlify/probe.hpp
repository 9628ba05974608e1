// HTTP probes of deployed functions, and the build hook POST.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/netlify/checks.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace redundancy::netlify {

struct probe_request {
  std::string method{"GET"};
  std::string url{};
};

// What to probe for a function: `{site_url}/.netlify/functions/{name}` with GET, unless probe_paths maps
// the name to "/other/path", "METHOD /other/path", or an absolute http(s) URL (optionally after a method).
probe_request probe_for(std::string_view name, std::string_view site_url,
                        const std::map<std::string, std::string>& probe_paths);

// Healthy when an answer below 500 arrives within the timeout.
awaitable<check_result> probe_function(const probe_request& probe, std::chrono::milliseconds timeout);

struct hook_outcome {
  bool ok{false};
  unsigned status{0};
  std::string detail{};  // "build hook answered 200", "build hook failed: connection refused"; never the URL
};

// POSTs an empty body to the build hook; ok on a 2xx answer.
awaitable<hook_outcome> post_build_hook(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace redundancy::netlify
