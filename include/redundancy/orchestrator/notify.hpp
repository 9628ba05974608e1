// The notifier: turns the orchestrator's events into webhook messages through a durable outbox in
// the store, delivers them with the HTTP client on the loop (never blocking it), retries with
// backoff, gives up with an event, groups bursts, and sends reminders while something stays down.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/config.hpp"
#include "redundancy/orchestrator/alerts.hpp"
#include "redundancy/orchestrator/store.hpp"
#include "redundancy/orchestrator/webhook.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace redundancy {

// One delivery attempt's outcome, as `notify test` prints it.
struct delivery_result {
  bool ok{false};
  unsigned status{0};   // the HTTP status; 0 when no reply came
  std::string error{};  // empty when ok: "connection refused", "HTTP 500", ...
  std::chrono::milliseconds took{0};
  std::optional<std::chrono::milliseconds> retry_after{};  // the receiver's Retry-After, in seconds
};

// Sends the notifications to one hook now, as one message; ok on a 2xx reply. The error never holds
// the URL, a header value or the secret.
awaitable<delivery_result> send_webhook(webhook_config hook, std::vector<notification> items,
                                        std::chrono::milliseconds timeout, std::string delivery_id = {});

// This machine's name, as messages show it.
std::string host_name();

class notifier {
 public:
  // How the notifier records its own events (a webhook given up): the orchestrator's event log.
  using record_fn = std::function<void(std::string subsystem, std::string target, std::string kind,
                                       std::string severity, std::string message, boost::json::object data)>;

  notifier(asio::any_io_executor executor, const notify_config& settings, store& outbox);
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;
  ~notifier();

  record_fn record{};

  // Restores the conditions already told (so a restart does not repeat their alerts) and starts the
  // delivery loop, which first sends what the outbox kept from before.
  void start();
  void apply(const notify_config& settings);  // after a reload
  // Every event the orchestrator records: the ones that mean something to people are queued.
  void on_event(const event& e);

  // For /api/status: per webhook, its pending count and its latest failure.
  boost::json::object status_json() const;

 private:
  awaitable<void> run();
  awaitable<void> deliver(webhook_config hook, std::vector<outbox_item> batch);
  void enqueue(const notification& n);
  void save_conditions();
  std::vector<outbox_item> pending() const;
  void finish(const outbox_item& item);
  void postpone(const outbox_item& item, sys_time next, const std::string& error);
  const webhook_config* hook(const std::string& id) const;
  delivery_policy policy() const;
  void wake();

  asio::any_io_executor executor_;
  notify_config settings_;
  store& store_;
  alert_tracker tracker_{};
  std::string host_{};
  // Items the store could not take (a read-only or full disk): delivered from memory, negative ids.
  std::vector<outbox_item> unsaved_{};
  std::int64_t unsaved_ids_{0};
  std::set<std::string> in_flight_{};
  std::map<std::string, sys_time> last_delivered_{};
  std::map<std::string, std::string> last_error_{};
  std::unique_ptr<asio::steady_timer> timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool started_{false};
};

}  // namespace redundancy
