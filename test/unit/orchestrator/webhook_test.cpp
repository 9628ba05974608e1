// Webhook messages and the delivery schedule without I/O: names, routing, both formats, the
// signature, grouping (settle and window), backoff and giving up.
#define BOOST_TEST_MODULE webhook
#include <boost/test/unit_test.hpp>

#include "redundancy/orchestrator/webhook.hpp"

#include <boost/json/parse.hpp>

using namespace redundancy;
using namespace std::chrono_literals;

namespace {

const sys_time t0 = sys_time{} + 1000h;

notification make(std::string kind, std::string message = "pm2/api is unhealthy") {
  return {.kind = std::move(kind),
          .ts = t0,
          .subsystem = "pm2",
          .target = "api",
          .severity = "error",
          .message = std::move(message),
          .event_id = 7,
          .except_hook = {}};
}

outbox_item item(std::int64_t id, sys_time created, std::int64_t attempts = 0, sys_time next = {}) {
  return {.id = id,
          .target = "hook",
          .payload = "{}",
          .created_at = created,
          .next_attempt_at = attempts ? next : created,
          .attempts = attempts,
          .last_error = {}};
}

const delivery_policy policy{.retry_delay = 10s, .give_up_after = 24h, .group_window = 30s};

}  // namespace

BOOST_AUTO_TEST_CASE(a_hook_is_named_by_its_name_or_its_host_and_a_hash_never_its_path) {
  webhook_config named{.url = "https://hooks.slack.com/services/T0/B0/SECRETPART"};
  named.name = "ops";
  BOOST_TEST(webhook_id(named) == "ops");
  webhook_config plain{.url = "https://hooks.slack.com/services/T0/B0/SECRETPART"};
  const auto id = webhook_id(plain);
  BOOST_TEST(id.starts_with("hooks.slack.com-"));
  BOOST_TEST(id.size() == std::string("hooks.slack.com-").size() + 6);
  BOOST_TEST(id.find("SECRET") == std::string::npos);
  webhook_config other{.url = "https://hooks.slack.com/services/T0/B0/OTHER"};
  BOOST_TEST(webhook_id(other) != id);  // two hooks on one host stay apart
  webhook_config with_port{.url = "http://127.0.0.1:8080/x?token=abc"};
  BOOST_TEST(webhook_id(with_port).starts_with("127.0.0.1-"));
}

BOOST_AUTO_TEST_CASE(a_hook_gets_the_kinds_it_asked_for_tests_always_and_not_its_own_give_up) {
  webhook_config hook{.url = "http://h/x"};
  hook.name = "ops";
  hook.events = {"down"};
  BOOST_TEST(wants(hook, make("down")));
  BOOST_TEST(!wants(hook, make("recovered")));
  BOOST_TEST(wants(hook, make("test")));
  hook.events = webhook_config{}.events;
  auto given_up = make("delivery_given_up");
  given_up.except_hook = "ops";
  BOOST_TEST(!wants(hook, given_up));
  given_up.except_hook = "other";
  BOOST_TEST(wants(hook, given_up));
}

BOOST_AUTO_TEST_CASE(json_format_lists_every_notification_and_never_the_secrets) {
  webhook_config hook{.url = "https://example.com/hook/URLSECRET?token=QUERYSECRET"};
  hook.headers = {{"Authorization", "Bearer HEADERSECRET"}};
  hook.secret = "HMACSECRET";
  const auto m =
      render_message(hook, {make("down"), make("emergency_entered", "2 subsystems unhealthy")}, "box1", t0, "3,4");
  const auto v = boost::json::parse(m.body);
  BOOST_TEST(v.at("source").as_string() == "redundancy");
  BOOST_TEST(v.at("host").as_string() == "box1");
  BOOST_TEST(v.at("notifications").as_array().size() == 2u);
  BOOST_TEST(v.at("notifications").at(1).at("kind").as_string() == "emergency_entered");
  BOOST_TEST(std::string(v.at("text").as_string()).find("2 notifications") != std::string::npos);
  for (const char* secret : {"URLSECRET", "QUERYSECRET", "HEADERSECRET", "HMACSECRET", "example.com"})
    BOOST_TEST(m.body.find(secret) == std::string::npos, secret << " in the body");
  std::map<std::string, std::string> headers(m.headers.begin(), m.headers.end());
  BOOST_TEST(headers["Content-Type"] == "application/json");
  BOOST_TEST(headers["Authorization"] == "Bearer HEADERSECRET");
  BOOST_TEST(headers["X-Redundancy-Delivery"] == "3,4");
  BOOST_TEST(headers["X-Redundancy-Signature"] == "sha256=" + hmac_sha256_hex("HMACSECRET", m.body));
}

BOOST_AUTO_TEST_CASE(slack_format_is_one_text_field) {
  webhook_config hook{.url = "https://hooks.slack.com/x", .name = {}, .format = "slack"};
  const auto one = boost::json::parse(render_message(hook, {make("down")}, "box1", t0, "").body).as_object();
  BOOST_TEST(one.size() == 1u);
  BOOST_TEST(std::string(one.at("text").as_string()) == "redundancy on box1: [down] pm2/api: pm2/api is unhealthy");
  const auto two =
      boost::json::parse(render_message(hook, {make("down"), make("recovered", "ok")}, "box1", t0, "").body);
  BOOST_TEST(std::string(two.at("text").as_string()).find("\n• [recovered] pm2/api: ok") != std::string::npos);
  BOOST_TEST(render_message(hook, {make("down")}, "b", t0, "").headers.size() == 1u);  // no secret, no delivery id
}

BOOST_AUTO_TEST_CASE(hmac_matches_the_rfc_4231_vector) {
  // RFC 4231 test case 2.
  BOOST_TEST(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

BOOST_AUTO_TEST_CASE(a_burst_waits_the_settle_delay_then_one_message_per_window) {
  BOOST_TEST((settle_delay(policy) == 1s));
  BOOST_TEST((settle_delay({.retry_delay = 1s, .give_up_after = 1h, .group_window = 200ms}) == 200ms));
  // A quiet hook: the oldest item plus the settle delay, whatever came after it.
  BOOST_TEST((batch_due({item(1, t0), item(2, t0 + 500ms)}, std::nullopt, policy) == t0 + 1s));
  // Delivered 10 s ago: the next message waits for the window.
  BOOST_TEST((batch_due({item(3, t0)}, t0 - 10s, policy) == t0 + 20s));
  BOOST_TEST((batch_due({item(3, t0)}, t0 - 1h, policy) == t0 + 1s));
  BOOST_TEST((batch_due({}, std::nullopt, policy) == sys_time::max()));
}

BOOST_AUTO_TEST_CASE(new_items_join_a_batch_that_is_being_retried) {
  const auto retry_at = t0 + 5min;
  BOOST_TEST((batch_due({item(1, t0, 2, retry_at), item(2, t0 + 1min)}, t0, policy) == retry_at));
}

BOOST_AUTO_TEST_CASE(backoff_doubles_from_retry_delay_up_to_an_hour) {
  BOOST_TEST((backoff(10s, 1) == 10s));
  BOOST_TEST((backoff(10s, 2) == 20s));
  BOOST_TEST((backoff(10s, 3) == 40s));
  BOOST_TEST((backoff(10s, 9) == 2560s));
  BOOST_TEST((backoff(10s, 10) == max_retry_delay));
  BOOST_TEST((backoff(10s, 1'000'000) == max_retry_delay));  // no overflow however many failures
}

BOOST_AUTO_TEST_CASE(a_failure_schedules_the_next_attempt_and_gives_up_old_items) {
  auto plan = after_failure({item(1, t0), item(2, t0)}, t0 + 1s, policy);
  BOOST_TEST(plan.give_up.empty());
  BOOST_TEST((plan.next_attempt == t0 + 1s + 10s));
  // The third failure of a batch waits 40 s.
  plan = after_failure({item(1, t0, 2, t0 + 30s)}, t0 + 30s, policy);
  BOOST_TEST((plan.next_attempt == t0 + 30s + 40s));
  // A Retry-After longer than the backoff is honoured, up to the cap.
  plan = after_failure({item(1, t0)}, t0, policy, 120s);
  BOOST_TEST((plan.next_attempt == t0 + 120s));
  plan = after_failure({item(1, t0)}, t0, policy, 100h);
  BOOST_TEST((plan.next_attempt == t0 + max_retry_delay));
  // 24 h after it was made an item is given up; the younger one goes on, but never past its own limit.
  plan = after_failure({item(1, t0, 30, t0), item(2, t0 + 23h + 59min, 1, t0)}, t0 + 24h, policy);
  BOOST_TEST((plan.give_up == std::vector<std::int64_t>{1}));
  BOOST_TEST((plan.next_attempt == t0 + 24h + 20s));
  plan = after_failure({item(2, t0, 20, t0)}, t0 + 23h + 59min + 50s, policy);
  BOOST_TEST((plan.next_attempt == t0 + 24h));
}
