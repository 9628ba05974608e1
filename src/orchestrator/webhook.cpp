// Webhook messages and the delivery schedule: naming, routing, rendering, signing, backoff.
#include "redundancy/orchestrator/webhook.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace redundancy {
namespace {

namespace json = boost::json;

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return hex(md, n);
}

// The host of an http(s) URL as written (validated by the config), without port or user info.
std::string host_of(std::string_view url) {
  auto rest = url.substr(std::min(url.size(), url.find("://") == std::string_view::npos ? 0 : url.find("://") + 3));
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with('[')) return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

std::string label(const notification& n) {
  std::string where = n.target.empty() ? n.subsystem : n.subsystem + "/" + n.target;
  return "[" + n.kind + "] " + (where.empty() ? std::string{} : where + ": ") + n.message;
}

}  // namespace

std::string webhook_id(const webhook_config& hook) {
  if (hook.name) return *hook.name;
  return host_of(hook.url) + "-" + sha256_hex(hook.url).substr(0, 6);
}

bool wants(const webhook_config& hook, const notification& n) {
  if (!n.except_hook.empty() && n.except_hook == webhook_id(hook)) return false;
  if (n.kind == "test") return true;
  return std::find(hook.events.begin(), hook.events.end(), n.kind) != hook.events.end();
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md, &n);
  return hex(md, n);
}

webhook_message render_message(const webhook_config& hook, const std::vector<notification>& items,
                               std::string_view host, sys_time now, std::string_view delivery_id) {
  std::string headline = "redundancy on " + std::string(host) + ": ";
  if (items.size() == 1)
    headline += label(items.front());
  else
    headline += std::to_string(items.size()) + " notifications";
  std::string text = headline;
  if (items.size() > 1)
    for (const auto& n : items) text += "\n• " + label(n);

  webhook_message m;
  if (hook.format == "slack") {
    m.body = json::serialize(json::object{{"text", text}});
  } else {
    json::array list;
    for (const auto& n : items) list.push_back(to_json(n));
    m.body = json::serialize(json::object{{"source", "redundancy"},
                                          {"host", host},
                                          {"sent_at", to_rfc3339(now)},
                                          {"text", text},
                                          {"notifications", std::move(list)}});
  }
  m.headers.emplace_back("Content-Type", "application/json");
  for (const auto& [name, value] : hook.headers) m.headers.emplace_back(name, value);
  if (!delivery_id.empty()) m.headers.emplace_back("X-Redundancy-Delivery", std::string(delivery_id));
  if (hook.secret) m.headers.emplace_back("X-Redundancy-Signature", "sha256=" + hmac_sha256_hex(*hook.secret, m.body));
  return m;
}

std::chrono::milliseconds settle_delay(const delivery_policy& p) {
  return std::min(p.group_window, std::chrono::milliseconds(1000));
}

std::chrono::milliseconds backoff(std::chrono::milliseconds retry_delay, std::int64_t failed) {
  auto delay = retry_delay;
  for (std::int64_t i = 1; i < failed && delay < max_retry_delay; ++i) delay *= 2;
  return std::min(delay, max_retry_delay);
}

sys_time batch_due(const std::vector<outbox_item>& pending, std::optional<sys_time> last_delivered,
                   const delivery_policy& p) {
  std::optional<sys_time> retry_at;
  std::optional<sys_time> oldest;
  for (const auto& item : pending) {
    if (item.attempts > 0 && (!retry_at || item.next_attempt_at < *retry_at)) retry_at = item.next_attempt_at;
    if (!oldest || item.created_at < *oldest) oldest = item.created_at;
  }
  if (retry_at) return *retry_at;
  if (!oldest) return sys_time::max();
  auto due = *oldest + settle_delay(p);
  if (last_delivered) due = std::max(due, *last_delivered + p.group_window);
  return due;
}

failure_plan after_failure(const std::vector<outbox_item>& batch, sys_time now, const delivery_policy& p,
                           std::optional<std::chrono::milliseconds> retry_after) {
  failure_plan plan;
  std::int64_t failed = 0;
  std::optional<sys_time> oldest_left;
  for (const auto& item : batch) {
    if (now - item.created_at >= p.give_up_after) {
      plan.give_up.push_back(item.id);
      continue;
    }
    failed = std::max(failed, item.attempts + 1);
    if (!oldest_left || item.created_at < *oldest_left) oldest_left = item.created_at;
  }
  auto delay = backoff(p.retry_delay, std::max<std::int64_t>(failed, 1));
  if (retry_after) delay = std::min(std::max(delay, *retry_after), max_retry_delay);
  plan.next_attempt = now + delay;
  if (oldest_left) plan.next_attempt = std::min(plan.next_attempt, *oldest_left + p.give_up_after);
  return plan;
}

}  // namespace redundancy
