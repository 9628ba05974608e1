// The notifier: events to outbox rows, outbox rows to grouped webhook messages, retries and give-ups.
#include "redundancy/orchestrator/notify.hpp"

#include "redundancy/core/duration.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/net/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace redundancy {
namespace {

using namespace std::chrono_literals;

// The open conditions live in the counters table under this key.
constexpr std::string_view conditions_key = "notify.conditions";
// At most this many notifications in one message; the rest go in the next one.
constexpr std::size_t batch_limit = 100;
// The loop wakes at least this often, whatever is scheduled (a clock step, a lost wake-up).
constexpr auto max_sleep = 60s;

sys_time now() { return std::chrono::system_clock::now(); }

std::optional<std::chrono::milliseconds> parse_retry_after(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("retry-after");
  if (it == headers.end()) return std::nullopt;
  unsigned seconds = 0;
  const auto& v = it->second;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
  return std::chrono::seconds(seconds);
}

}  // namespace

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

awaitable<delivery_result> send_webhook(webhook_config hook, std::vector<notification> items,
                                        std::chrono::milliseconds timeout, std::string delivery_id) {
  const auto start = std::chrono::steady_clock::now();
  auto message = render_message(hook, items, host_name(), now(), delivery_id);
  delivery_result r;
  // Checked here so that the client's "bad URL '<url>'" (the URL is a secret) can never be the error.
  if (auto url = http::parse_url(hook.url); !url) {
    r.error = "bad URL: " + url.error();
    co_return r;
  }
  http::http_request_spec spec;
  spec.method = "POST";
  spec.url = hook.url;
  spec.headers = std::move(message.headers);
  spec.body = std::move(message.body);
  spec.timeout = timeout;
  spec.max_body = 64 * 1024;  // the reply body is not used; a hook answering more is misbehaving
  auto reply = co_await http::http_fetch(std::move(spec));
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  r.status = reply.status;
  if (!reply.error.empty())
    r.error = reply.error;
  else if (reply.status < 200 || reply.status > 299)
    r.error = "HTTP " + std::to_string(reply.status);
  r.ok = r.error.empty();
  if (!r.ok) r.retry_after = parse_retry_after(reply.headers);
  co_return r;
}

notifier::notifier(asio::any_io_executor executor, const notify_config& settings, store& outbox)
    : executor_(std::move(executor)), settings_(settings), store_(outbox), host_(host_name()) {}

notifier::~notifier() {
  *alive_ = false;
  // What the loop had not saved yet (stopped right after a burst of events).
  if (tracker_.dirty()) save_conditions();
}

void notifier::start() {
  if (started_) return;
  started_ = true;
  if (auto saved = store_.get_counter(conditions_key)) tracker_ = alert_tracker::load(*saved);
  timer_ = std::make_unique<asio::steady_timer>(executor_);
  RLOG("notify", info) << settings_.webhooks.size() << " webhooks; " << tracker_.open().size()
                       << " conditions already told; " << pending().size() << " messages waiting in the outbox";
  asio::co_spawn(executor_, run(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      RLOG("notify", error) << "the webhook loop failed: " << ex.what();
    }
  });
}

void notifier::apply(const notify_config& settings) {
  settings_ = settings;
  wake();
}

void notifier::on_event(const event& e) {
  auto made = tracker_.on_event(e);
  for (const auto& n : made) enqueue(n);
  // The loop saves the conditions, after the rows: dying in between repeats an alert at the next
  // start rather than losing it. Once for a burst: a thousand targets going down together are a
  // thousand events in one go, and saving every open condition after each was quadratic (1.4 s).
  if (tracker_.dirty() || !made.empty()) wake();
}

void notifier::save_conditions() { store_.set_counter(conditions_key, tracker_.save()); }

void notifier::enqueue(const notification& n) {
  const auto payload = boost::json::serialize(to_json(n));
  for (const auto& hook : settings_.webhooks) {
    if (!wants(hook, n)) continue;
    auto id = webhook_id(hook);
    const auto at = now();
    if (store_.enqueue_outbox(id, payload, at)) continue;
    // Not durable, but still delivered in this life of the daemon.
    unsaved_.push_back({.id = --unsaved_ids_,
                        .target = std::move(id),
                        .payload = payload,
                        .created_at = at,
                        .next_attempt_at = at,
                        .attempts = 0,
                        .last_error = {}});
  }
}

std::vector<outbox_item> notifier::pending() const {
  // Far enough ahead to take every row, near enough for any clock's text form.
  auto out = store_.due_outbox(now() + 24h * 365 * 50, 10000);
  out.insert(out.end(), unsaved_.begin(), unsaved_.end());
  return out;
}

void notifier::finish(const outbox_item& item) {
  if (item.id < 0)
    std::erase_if(unsaved_, [&](const outbox_item& u) { return u.id == item.id; });
  else
    store_.ack_outbox(item.id);
}

void notifier::postpone(const outbox_item& item, sys_time next, const std::string& error) {
  if (item.id < 0) {
    for (auto& u : unsaved_)
      if (u.id == item.id) {
        ++u.attempts;
        u.next_attempt_at = next;
        u.last_error = error;
      }
    return;
  }
  store_.retry_outbox(item.id, next, error);
}

const webhook_config* notifier::hook(const std::string& id) const {
  for (const auto& h : settings_.webhooks)
    if (webhook_id(h) == id) return &h;
  return nullptr;
}

delivery_policy notifier::policy() const {
  return {.retry_delay = settings_.retry_delay,
          .give_up_after = settings_.give_up_after,
          .group_window = settings_.group_window};
}

void notifier::wake() {
  if (timer_) timer_->cancel();
}

awaitable<void> notifier::run() {
  auto alive = alive_;
  for (;;) {
    const auto t = now();
    for (const auto& n : tracker_.reminders(t, settings_.repeat_every)) enqueue(n);
    if (tracker_.dirty()) save_conditions();

    auto next = t + max_sleep;
    if (auto reminder = tracker_.next_reminder(settings_.repeat_every)) next = std::min(next, *reminder);
    std::map<std::string, std::vector<outbox_item>> by_hook;
    for (auto& item : pending()) by_hook[item.target].push_back(std::move(item));
    for (auto& [id, items] : by_hook) {
      if (in_flight_.count(id)) continue;
      const auto* h = hook(id);
      if (!h) {
        // The hook left the config: nobody is left to deliver these to.
        RLOG("notify", warning) << "webhook " << id << " is no longer configured: dropping " << items.size()
                                << " undelivered notifications";
        for (const auto& item : items) finish(item);
        continue;
      }
      std::optional<sys_time> last;
      if (auto it = last_delivered_.find(id); it != last_delivered_.end()) last = it->second;
      const auto due = batch_due(items, last, policy());
      if (due > t) {
        next = std::min(next, due);
        continue;
      }
      if (items.size() > batch_limit) items.resize(batch_limit);
      in_flight_.insert(id);
      asio::co_spawn(executor_, deliver(*h, std::move(items)), [alive, this, id](std::exception_ptr e) {
        if (!*alive) return;
        in_flight_.erase(id);
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            RLOG("notify", error) << "webhook " << id << ": delivery failed unexpectedly: " << ex.what();
          }
        }
        wake();
      });
    }
    timer_->expires_after(std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(next - now()),
                                     std::chrono::milliseconds(0), std::chrono::milliseconds(max_sleep)));
    auto [ec] = co_await timer_->async_wait(asio::as_tuple(asio::use_awaitable));
    if (!*alive) co_return;
    // A cancelled wait is a wake-up (new rows, a finished delivery, a reload); the loop runs again.
    (void)ec;
  }
}

awaitable<void> notifier::deliver(webhook_config h, std::vector<outbox_item> batch) {
  auto alive = alive_;
  const auto id = webhook_id(h);
  std::vector<notification> items;
  std::vector<outbox_item> sent;
  std::string delivery_id;
  for (const auto& item : batch) {
    auto n = notification_from_json(item.payload);
    if (!n) {
      RLOG("notify", warning) << "webhook " << id << ": outbox row " << item.id << " is not a notification; dropped";
      finish(item);
      continue;
    }
    items.push_back(std::move(*n));
    sent.push_back(item);
    delivery_id += (delivery_id.empty() ? "" : ",") + std::to_string(item.id);
  }
  if (items.empty()) co_return;
  // The awaitable built in its own statement: g++ 12 mishandles temporaries inside a co_await expression.
  auto sending = send_webhook(h, items, settings_.timeout, delivery_id);
  const auto result = co_await std::move(sending);
  if (!*alive) co_return;
  const auto t = now();
  if (result.ok) {
    for (const auto& item : sent) finish(item);
    last_delivered_[id] = t;
    last_error_.erase(id);
    RLOG("notify", info) << "webhook " << id << ": delivered " << items.size() << " notifications (HTTP "
                         << result.status << ", " << result.took.count() << " ms)";
    co_return;
  }
  last_error_[id] = result.error;
  const auto plan = after_failure(sent, t, policy(), result.retry_after);
  std::size_t given_up = 0;
  for (const auto& item : sent) {
    if (std::find(plan.give_up.begin(), plan.give_up.end(), item.id) != plan.give_up.end()) {
      finish(item);
      ++given_up;
    } else {
      postpone(item, plan.next_attempt, result.error);
    }
  }
  if (given_up < sent.size())
    RLOG("notify", warning) << "webhook " << id << ": delivery of " << sent.size() << " notifications failed ("
                            << result.error << "); next attempt in "
                            << format_duration(
                                   std::chrono::duration_cast<std::chrono::milliseconds>(plan.next_attempt - t));
  if (given_up > 0) {
    const auto message = "webhook " + id + ": gave up on " + std::to_string(given_up) +
                         " notifications undelivered for " + format_duration(settings_.give_up_after) +
                         " (last error: " + result.error + ")";
    RLOG("notify", error) << message;
    if (record)
      record("orchestrator", id, "notify_given_up", "error", message,
             {{"webhook", id}, {"notifications", given_up}, {"error", result.error}});
  }
}

boost::json::object notifier::status_json() const {
  std::map<std::string, std::size_t> waiting;
  for (const auto& item : pending()) ++waiting[item.target];
  boost::json::array hooks;
  for (const auto& h : settings_.webhooks) {
    const auto id = webhook_id(h);
    auto error = last_error_.find(id);
    auto delivered = last_delivered_.find(id);
    hooks.push_back(
        {{"name", id},
         {"format", h.format},
         {"pending", waiting[id]},
         {"last_delivered_at", delivered == last_delivered_.end() ? boost::json::value(nullptr)
                                                                  : boost::json::value(to_rfc3339(delivered->second))},
         {"last_error", error == last_error_.end() ? boost::json::value(nullptr) : boost::json::value(error->second)}});
  }
  return {{"webhooks", std::move(hooks)}, {"open_conditions", tracker_.open().size()}};
}

}  // namespace redundancy
