// The notify section of the config: webhooks as URLs or objects, their checks (names, kinds, user
// info), the delivery settings, redaction of every webhook secret, and the output parsing back.
#define BOOST_TEST_MODULE config_notify
#include "redundancy/core/config.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
namespace json = boost::json;
using redundancy::config;

namespace {

config parse_ok(std::string_view text, const redundancy::env_lookup& env = {}) {
  auto result = redundancy::parse_config(text, "redundancy.json", env);
  BOOST_TEST_REQUIRE(result.has_value(), (result ? std::string() : result.error()));
  return *result;
}

std::string parse_error(std::string_view text) {
  auto result = redundancy::parse_config(text, "redundancy.json", {});
  BOOST_TEST(!result.has_value(), "accepted: " << text);
  return result ? std::string() : result.error();
}

#define CHECK_CONTAINS(haystack, needle) \
  BOOST_TEST((haystack).find(needle) != std::string::npos, "\"" << (haystack) << "\" lacks \"" << (needle) << "\"")

}  // namespace

BOOST_AUTO_TEST_CASE(defaults) {
  const config c;
  BOOST_TEST(c.notify.webhooks.empty());
  BOOST_TEST((c.notify.repeat_every == 1h));
  BOOST_TEST((c.notify.retry_delay == 10s));
  BOOST_TEST((c.notify.give_up_after == 24h));
  BOOST_TEST((c.notify.timeout == 10s));
  BOOST_TEST((c.notify.group_window == 30s));
  const redundancy::webhook_config hook;
  BOOST_TEST(hook.format == "json");
  // The issue's default set: down, recovered, given up, emergency entered/left/exhausted (and reminders,
  // and another hook given up).
  for (const char* kind : {"down", "recovered", "still_down", "given_up", "emergency_entered", "emergency_left",
                           "emergency_given_up", "delivery_given_up"})
    BOOST_TEST((std::find(hook.events.begin(), hook.events.end(), kind) != hook.events.end()), kind);
}

BOOST_AUTO_TEST_CASE(webhooks_as_urls_and_objects) {
  const auto c = parse_ok(R"({"notify": {
    "webhooks": ["https://a.example/x",
                 {"url": "https://hooks.slack.com/services/T/B/C", "name": "ops", "format": "slack",
                  "events": ["down", "recovered"], "headers": {"X-Token": "abc"}, "secret": "s3"}],
    "repeat_every": 0, "retry_delay": "5s", "give_up_after": "2h", "timeout": "3s", "group_window": "0s"}})");
  BOOST_TEST_REQUIRE(c.notify.webhooks.size() == 2u);
  BOOST_TEST(c.notify.webhooks[0].url == "https://a.example/x");
  BOOST_TEST(!c.notify.webhooks[0].name.has_value());
  const auto& ops = c.notify.webhooks[1];
  BOOST_TEST(*ops.name == "ops");
  BOOST_TEST(ops.format == "slack");
  BOOST_TEST((ops.events == std::vector<std::string>{"down", "recovered"}));
  BOOST_TEST(ops.headers.at("X-Token") == "abc");
  BOOST_TEST(*ops.secret == "s3");
  BOOST_TEST(c.notify.repeat_every.count() == 0);  // 0: never remind
  BOOST_TEST((c.notify.retry_delay == 5s));
  BOOST_TEST((c.notify.give_up_after == 2h));
  BOOST_TEST((c.notify.timeout == 3s));
  BOOST_TEST(c.notify.group_window.count() == 0);
}

BOOST_AUTO_TEST_CASE(bad_webhooks_are_errors_with_their_path_and_no_secret) {
  CHECK_CONTAINS(parse_error(R"({"notify": {"webhooks": [{"format": "slack"}]}})"), "notify.webhooks[0].url: missing");
  CHECK_CONTAINS(parse_error(R"({"notify": {"webhooks": [{"url": "https://x/y", "format": "teams"}]}})"),
                 "notify.webhooks[0].format: expected one of \"json\", \"slack\"");
  CHECK_CONTAINS(parse_error(R"({"notify": {"webhooks": [{"url": "https://x/y", "events": ["down", "sometimes"]}]}})"),
                 "notify.webhooks[0].events[1]: expected one of \"down\"");
  CHECK_CONTAINS(parse_error(R"({"notify": {"webhooks": [{"url": "https://x/y", "colour": "red"}]}})"),
                 "notify.webhooks[0].colour: unknown key");
  CHECK_CONTAINS(parse_error(R"({"notify": {"webhooks": [{"url": "https://x/a", "name": "n"},
                                                         {"url": "https://x/b", "name": "n"}]}})"),
                 "notify.webhooks[1].name: \"n\" is already the name of webhooks[0]");
  CHECK_CONTAINS(parse_error(R"({"notify": {"retry_delay": "0s"}})"),
                 "notify.retry_delay: expected a duration above zero");
  CHECK_CONTAINS(parse_error(R"({"notify": {"webhooks": [42]}})"), "notify.webhooks[0]: expected a URL or an object");

  const auto secrets = parse_error(R"({"notify": {"webhooks": [
      "https://user:PASSWORDSECRET@x.example/y",
      {"url": "https://x/y", "headers": {"Authorization": 7}, "secret": ["ARRAYSECRET"]},
      {"url": "ftp://URLSECRET"}]}})");
  CHECK_CONTAINS(secrets, "notify.webhooks[0]: user:password@ in a webhook URL is not supported");
  CHECK_CONTAINS(secrets, "notify.webhooks[1].headers.Authorization: expected a string, got a number");
  CHECK_CONTAINS(secrets, "notify.webhooks[1].secret: expected a string, got an array");
  CHECK_CONTAINS(secrets, "notify.webhooks[2].url: expected an http:// or https:// URL, got a string");
  BOOST_TEST(secrets.find("SECRET") == std::string::npos, secrets);
}

BOOST_AUTO_TEST_CASE(an_environment_override_can_set_the_webhooks) {
  const auto c = parse_ok(
      "{}", {{"REDUNDANCY_NOTIFY__WEBHOOKS", R"(["https://a.example/x"])"}, {"REDUNDANCY_NOTIFY__GROUP_WINDOW", "5s"}});
  BOOST_TEST_REQUIRE(c.notify.webhooks.size() == 1u);
  BOOST_TEST((c.notify.group_window == 5s));
}

BOOST_AUTO_TEST_CASE(redaction_hides_urls_headers_and_keys_and_keeps_the_rest) {
  const auto c = parse_ok(R"({"notify": {"webhooks": [
      "https://hooks.slack.com/services/SECRET1",
      {"url": "https://x.example/SECRET2?token=SECRET3", "name": "ops", "headers": {"Authorization": "Bearer SECRET4"},
       "secret": "SECRET5", "events": ["down"]}]}})");
  const auto out = redundancy::to_redacted_json(c);
  const auto text = json::serialize(out);
  BOOST_TEST(text.find("SECRET") == std::string::npos, text);
  const auto& hooks = out.at("notify").at("webhooks").as_array();
  BOOST_TEST(hooks[0] == "<redacted>");
  BOOST_TEST(hooks[1].at("url") == "<redacted>");
  BOOST_TEST(hooks[1].at("name") == "ops");
  BOOST_TEST(hooks[1].at("headers").at("Authorization") == "<redacted>");
  BOOST_TEST(hooks[1].at("secret") == "<redacted>");
  BOOST_TEST((hooks[1].at("events") == json::array{"down"}));
  BOOST_TEST(out.at("notify").at("group_window") == "30s");
}
