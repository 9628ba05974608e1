// GitHub's REST API as the github subsystem uses it: conditional GETs with an ETag cache, rate
// limits honoured (a blocked client answers at once without calling), and the two dispatch POSTs.
#pragma once
#include <boost/json/value.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "redundancy/core/asio.hpp"
#include "redundancy/core/config.hpp"

namespace redundancy::github {

struct api_answer {
  bool ok{false};            // a usable JSON body (fresh or, after a 304, from the cache)
  bool not_modified{false};  // GitHub said 304 and the cached body was used
  bool rate_limited{false};
  unsigned status{0};
  boost::json::value body{};
  std::string error{};  // why there is no usable body: "rate-limited until ...", "GitHub answered 500"
};

class github_api {
 public:
  // The token comes from the environment variable named by github.token_env.
  github_api(const github_config& c, std::string token);

  // GET {api_url}{path} with If-None-Match when an ETag is cached for it.
  awaitable<api_answer> get(std::string path);

  // POST {api_url}{path} with a JSON body; ok when GitHub answered `expected` (204 for dispatches).
  awaitable<api_answer> post(std::string path, boost::json::value body, unsigned expected);

  // While rate-limited (until x-ratelimit-reset or retry-after), calls answer at once without a
  // request.
  std::optional<std::chrono::system_clock::time_point> blocked_until() const { return blocked_until_; }

  const std::string& repository() const { return repository_; }

 private:
  struct cached {
    std::string etag{};
    boost::json::value body{};
  };

  awaitable<api_answer> request(std::string method, std::string path, std::string body, unsigned expected);

  std::string api_url_;
  std::string repository_;
  std::string token_;
  std::optional<std::filesystem::path> ca_file_;
  std::chrono::milliseconds timeout_;
  std::map<std::string, cached> etags_{};
  std::optional<std::chrono::system_clock::time_point> blocked_until_{};
  std::string blocked_why_{"rate-limited by GitHub"};  // for the answers given while blocked
};

}  // namespace redundancy::github
