// Webhook messages and their delivery schedule, without I/O: who a hook is, what it wants, the body
// of a grouped message in its format with its signature, when a batch is due, and what a failed
// delivery means (backoff, giving up).
#pragma once
#include "redundancy/core/config.hpp"
#include "redundancy/orchestrator/alerts.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redundancy {

// How a webhook is named in the outbox, logs and events: its configured name, else
// "<host>-<first 6 hex digits of SHA-256 of the URL>" (stable across reordering, and no secret:
// the URL's path and query, where hook tokens live, are only hashed).
std::string webhook_id(const webhook_config& hook);

// Whether the hook asked for this kind (tests go to every hook), and it is not the hook the
// notification is about.
bool wants(const webhook_config& hook, const notification& n);

// The request a delivery makes: the body and the headers beyond the client's own.
struct webhook_message {
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};
};

// One message for several notifications, oldest first. json:
//   {"source": "redundancy", "host", "sent_at", "text", "notifications": [{kind, ts, subsystem, target,
//    severity, message, event_id}]}
// slack: {"text": "..."} (Slack and Discord's Slack-compatible endpoint). Headers: Content-Type, the
// configured ones, X-Redundancy-Delivery (the outbox ids, for receivers that de-duplicate) and, with a
// secret, X-Redundancy-Signature: sha256=<hex HMAC-SHA256 of the body>. The secret, the URL and the
// header values never appear in the body.
webhook_message render_message(const webhook_config& hook, const std::vector<notification>& items,
                               std::string_view host, sys_time now, std::string_view delivery_id);

// Lower-case hex HMAC-SHA256 of data under key.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// The delivery schedule's settings, from notify_config.
struct delivery_policy {
  std::chrono::milliseconds retry_delay{10'000};
  std::chrono::milliseconds give_up_after{24 * 3'600'000LL};
  std::chrono::milliseconds group_window{30'000};
};

// The longest wait between two attempts, however many failed.
constexpr std::chrono::milliseconds max_retry_delay{3'600'000};

// How long a quiet hook waits after its first new notification, so the rest of a burst (the
// subsystem and its targets, the emergency after them) joins the same message.
std::chrono::milliseconds settle_delay(const delivery_policy& p);

// The wait after `failed` failed attempts (1, 2, ...): retry_delay doubling each time, at most
// max_retry_delay.
std::chrono::milliseconds backoff(std::chrono::milliseconds retry_delay, std::int64_t failed);

// When a hook's pending items go out as one message. Items already retried go at their next attempt
// (new ones join them); a fresh batch waits settle_delay after its oldest item and at least
// group_window after the hook's last delivered message.
sys_time batch_due(const std::vector<outbox_item>& pending, std::optional<sys_time> last_delivered,
                   const delivery_policy& p);

// After a failed delivery of `batch` at `now`: the items to give up (made give_up_after ago or
// more) and when to try the rest. A Retry-After the receiver asked for is honoured up to
// max_retry_delay; the next attempt never falls after the oldest remaining item's give-up time.
struct failure_plan {
  std::vector<std::int64_t> give_up{};
  sys_time next_attempt{};
};
failure_plan after_failure(const std::vector<outbox_item>& batch, sys_time now, const delivery_policy& p,
                           std::optional<std::chrono::milliseconds> retry_after = {});

}  // namespace redundancy
