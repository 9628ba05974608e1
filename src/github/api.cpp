// Requests to GitHub's REST API through the HTTP client, with ETags and rate-limit handling.
#include "redundancy/github/api.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "redundancy/core/log.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/net/client.hpp"

namespace redundancy::github {
namespace {

std::optional<long long> header_number(const std::map<std::string, std::string>& headers, const char* name) {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  long long v = 0;
  const auto& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// GitHub's primary limit resets within the hour and its secondary one asks for seconds or minutes;
// a wait beyond an hour (or a number that would overflow the clock) is not believed.
constexpr std::chrono::seconds longest_wait{3600};

// now + a retry-after of `seconds`, held within [now, now + longest_wait].
std::chrono::system_clock::time_point wait_after(std::chrono::system_clock::time_point now, long long seconds) {
  return now + std::chrono::seconds(std::clamp<long long>(seconds, 0, longest_wait.count()));
}

// The time an x-ratelimit-reset of `epoch_seconds` names, held within [now, now + longest_wait].
std::chrono::system_clock::time_point reset_at(std::chrono::system_clock::time_point now, long long epoch_seconds) {
  const auto now_seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return wait_after(now, epoch_seconds < now_seconds ? 0 : epoch_seconds - now_seconds);
}

bool loopback_host(std::string_view host) { return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0; }

std::string github_message(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object())
    if (const auto* m = v.get_object().if_contains("message"); m && m->is_string()) return std::string(m->get_string());
  return {};
}

}  // namespace

github_api::github_api(const github_config& c, std::string token)
    : api_url_(c.api_url),
      repository_(c.repository.value_or("")),
      token_(std::move(token)),
      ca_file_(c.ca_file),
      timeout_(c.timeout) {
  while (!api_url_.empty() && api_url_.back() == '/') api_url_.pop_back();
}

awaitable<api_answer> github_api::get(std::string path) { return request("GET", std::move(path), {}, 200); }

awaitable<api_answer> github_api::post(std::string path, boost::json::value body, unsigned expected) {
  return request("POST", std::move(path), boost::json::serialize(body), expected);
}

awaitable<api_answer> github_api::request(std::string method, std::string path, std::string body, unsigned expected) {
  api_answer answer;
  const auto now = std::chrono::system_clock::now();
  if (blocked_until_ && now < *blocked_until_) {
    answer.rate_limited = true;
    answer.error = blocked_why_ + " until " + to_rfc3339(*blocked_until_);
    co_return answer;
  }
  blocked_until_.reset();

  http::http_request_spec spec;
  spec.method = method;
  spec.url = api_url_ + path;
  auto url = http::parse_url(spec.url);
  if (!url) {
    answer.error = "github.api_url: " + url.error();
    co_return answer;
  }
  if (!url->tls() && !loopback_host(url->host)) {
    answer.error = "github.api_url: plain http is only allowed for a loopback address, not " + url->host;
    co_return answer;
  }
  spec.headers = {{"Accept", "application/vnd.github+json"},
                  {"X-GitHub-Api-Version", "2022-11-28"},
                  {"User-Agent", std::string("redundancy/") + REDUNDANCY_VERSION}};
  if (!token_.empty()) spec.headers.emplace_back("Authorization", "Bearer " + token_);
  const bool conditional = method == "GET";
  if (conditional)
    if (auto it = etags_.find(path); it != etags_.end()) spec.headers.emplace_back("If-None-Match", it->second.etag);
  if (!body.empty()) {
    spec.headers.emplace_back("Content-Type", "application/json");
    spec.body = std::move(body);
  }
  spec.timeout = timeout_;
  spec.ca_file = ca_file_;

  const auto reply = co_await http::http_fetch(std::move(spec));
  answer.status = reply.status;
  if (!reply.error.empty()) {
    answer.error = "cannot reach GitHub (" + api_url_ + "): " + reply.error;
    co_return answer;
  }

  // Rate limits: the primary one (remaining 0, reset time) and the secondary one (retry-after).
  const auto remaining = header_number(reply.headers, "x-ratelimit-remaining");
  const auto retry_after = header_number(reply.headers, "retry-after");
  if ((reply.status == 403 || reply.status == 429) && (remaining == 0 || retry_after || reply.status == 429)) {
    if (retry_after)
      blocked_until_ = wait_after(now, *retry_after);
    else if (auto reset = header_number(reply.headers, "x-ratelimit-reset"))
      blocked_until_ = reset_at(now, *reset);
    else
      blocked_until_ = now + std::chrono::seconds(60);
    answer.rate_limited = true;
    blocked_why_ = "rate-limited by GitHub";
    answer.error = "rate-limited by GitHub (" + std::to_string(reply.status) + ") until " + to_rfc3339(*blocked_until_);
    RLOG("github", warning) << answer.error;
    co_return answer;
  }

  // A 5xx with retry-after: GitHub says when to come back; asking sooner only adds load.
  if (reply.status >= 500 && retry_after) {
    blocked_until_ = wait_after(now, *retry_after);
    blocked_why_ = "GitHub asked to retry later (" + std::to_string(reply.status) + ")";
    answer.error = "GitHub answered " + std::to_string(reply.status) + " to " + method + " " + path + ", retry after " +
                   to_rfc3339(*blocked_until_);
    RLOG("github", warning) << answer.error;
    co_return answer;
  }
  // The last request of the window: this answer is good, the next ones would be refused, so none
  // are made until x-ratelimit-reset.
  if (remaining == 0) {
    if (auto reset = header_number(reply.headers, "x-ratelimit-reset"))
      blocked_until_ = reset_at(now, *reset);
    else
      blocked_until_ = now + std::chrono::seconds(60);
    blocked_why_ = "rate-limited by GitHub (x-ratelimit-remaining: 0)";
    RLOG("github", warning) << "GitHub's rate limit is used up until " << to_rfc3339(*blocked_until_);
  }

  if (conditional && reply.status == 304) {
    auto it = etags_.find(path);
    if (it == etags_.end()) {
      answer.error = "GitHub answered 304 to a request without If-None-Match";
      co_return answer;
    }
    answer.ok = true;
    answer.not_modified = true;
    answer.body = it->second.body;
    co_return answer;
  }
  if (reply.status != expected) {
    const auto message = github_message(reply.body);
    answer.error = "GitHub answered " + std::to_string(reply.status) + " to " + method + " " + path +
                   (message.empty() ? "" : ": " + message);
    co_return answer;
  }
  if (reply.body.empty()) {
    answer.ok = true;
    co_return answer;
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(reply.body, ec);
  if (ec) {
    answer.error = "GitHub answered invalid JSON to " + method + " " + path + ": " + ec.message();
    co_return answer;
  }
  if (conditional) {
    if (auto etag = reply.headers.find("etag"); etag != reply.headers.end())
      etags_[path] = cached{.etag = etag->second, .body = parsed};
  }
  answer.ok = true;
  answer.body = std::move(parsed);
  co_return answer;
}

}  // namespace redundancy::github
