// The alert tracker step by step with a stepped clock: which events become notifications, no repeat
// while a condition is open (also after a save and load, as across a restart), recovery, give-ups,
// emergencies, and the reminders.
#define BOOST_TEST_MODULE alerts
#include <boost/test/unit_test.hpp>

#include "redundancy/orchestrator/alerts.hpp"

#include <boost/json/serialize.hpp>

using namespace redundancy;
using namespace std::chrono_literals;

namespace {

struct fixture {
  alert_tracker tracker{};
  sys_time now{sys_time{} + 1000h};
  std::int64_t next_id{1};

  event make(std::string kind, std::string subsystem, std::string target, std::string status = {},
             std::chrono::milliseconds later = 1s) {
    now += later;
    event e{.id = next_id++,
            .ts = now,
            .subsystem = std::move(subsystem),
            .target = std::move(target),
            .kind = std::move(kind),
            .severity = "error",
            .message = "something",
            .data = {}};
    if (!status.empty()) e.data["status"] = status;
    return e;
  }
  std::vector<notification> status(std::string target, std::string s, std::string kind = "status_changed") {
    return tracker.on_event(make(std::move(kind), "pm2", std::move(target), std::move(s)));
  }
};

std::vector<std::string> kinds(const std::vector<notification>& ns) {
  std::vector<std::string> out;
  for (const auto& n : ns) out.push_back(n.kind);
  return out;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(down_once_then_recovered_once, fixture) {
  auto down = status("api", "unhealthy");
  BOOST_TEST((kinds(down) == std::vector<std::string>{"down"}));
  BOOST_TEST(down[0].subsystem == "pm2");
  BOOST_TEST(down[0].target == "api");
  BOOST_TEST(down[0].event_id == 1);
  BOOST_TEST(status("api", "unhealthy").empty());  // seen again: no repeat
  BOOST_TEST(status("api", "unknown").empty());    // cannot tell: still open, no news
  BOOST_TEST(status("api", "unhealthy").empty());
  auto up = status("api", "healthy");
  BOOST_TEST((kinds(up) == std::vector<std::string>{"recovered"}));
  BOOST_TEST(up[0].message.find("down for") != std::string::npos);
  BOOST_TEST(status("api", "healthy").empty());
  BOOST_TEST(tracker.open().empty());
}

BOOST_FIXTURE_TEST_CASE(degraded_and_disabled_end_a_condition_but_are_no_alert_of_their_own, fixture) {
  BOOST_TEST(status("api", "degraded").empty());
  BOOST_TEST(status("", "disabled").empty());
  status("api", "unhealthy");
  BOOST_TEST((kinds(status("api", "degraded")) == std::vector<std::string>{"recovered"}));
}

BOOST_FIXTURE_TEST_CASE(an_open_condition_is_not_told_again_after_a_restart, fixture) {
  status("api", "unhealthy");
  const auto saved = tracker.save();
  BOOST_TEST(!tracker.dirty());
  // A new life of the daemon: its first check sees the same problem (status_changed again, since the
  // orchestrator's memory of statuses starts empty).
  alert_tracker restarted = alert_tracker::load(saved);
  BOOST_TEST(restarted.on_event(make("status_changed", "pm2", "api", "unhealthy")).empty());
  // ... and when its first check sees it healthy, which the orchestrator records as status_observed.
  const auto up = restarted.on_event(make("status_observed", "pm2", "api", "healthy"));
  BOOST_TEST((kinds(up) == std::vector<std::string>{"recovered"}));
}

BOOST_FIXTURE_TEST_CASE(a_first_healthy_sight_is_no_news, fixture) {
  BOOST_TEST(status("api", "healthy", "status_observed").empty());
  BOOST_TEST(alert_tracker::load("not json").open().empty());
}

BOOST_FIXTURE_TEST_CASE(given_up_is_told_once_per_condition, fixture) {
  status("api", "unhealthy");
  auto given = tracker.on_event(make("target_given_up", "pm2", "api"));
  BOOST_TEST((kinds(given) == std::vector<std::string>{"given_up"}));
  BOOST_TEST(tracker.on_event(make("target_given_up", "pm2", "api")).empty());
  auto restarted = alert_tracker::load(tracker.save());
  BOOST_TEST(restarted.on_event(make("target_given_up", "pm2", "api")).empty());
  // Recovered, then given up again: a new condition, news again.
  restarted.on_event(make("status_changed", "pm2", "api", "healthy"));
  restarted.on_event(make("status_changed", "pm2", "api", "unhealthy"));
  BOOST_TEST(
      (kinds(restarted.on_event(make("target_given_up", "pm2", "api"))) == std::vector<std::string>{"given_up"}));
}

BOOST_FIXTURE_TEST_CASE(emergency_entered_each_attempt_given_up_once_left_once, fixture) {
  BOOST_TEST((kinds(tracker.on_event(make("emergency_started", "orchestrator", ""))) ==
              std::vector<std::string>{"emergency_entered"}));
  BOOST_TEST((kinds(tracker.on_event(make("emergency_started", "orchestrator", ""))) ==
              std::vector<std::string>{"emergency_entered"}));
  BOOST_TEST((kinds(tracker.on_event(make("emergency_given_up", "orchestrator", ""))) ==
              std::vector<std::string>{"emergency_given_up"}));
  // The daemon restarts while given up and its emergency state machine says it again: not repeated.
  auto restarted = alert_tracker::load(tracker.save());
  BOOST_TEST(restarted.on_event(make("emergency_given_up", "orchestrator", "")).empty());
  BOOST_TEST((kinds(restarted.on_event(make("emergency_ended", "orchestrator", ""))) ==
              std::vector<std::string>{"emergency_left"}));
  BOOST_TEST(restarted.open().empty());
}

BOOST_FIXTURE_TEST_CASE(a_webhook_given_up_is_told_to_the_others, fixture) {
  auto n = tracker.on_event(make("notify_given_up", "orchestrator", "ops-slack"));
  BOOST_TEST((kinds(n) == std::vector<std::string>{"delivery_given_up"}));
  BOOST_TEST(n[0].except_hook == "ops-slack");
  BOOST_TEST(tracker.on_event(make("action_finished", "pm2", "")).empty());
  BOOST_TEST(tracker.on_event(make("paused", "pm2", "api")).empty());
}

BOOST_FIXTURE_TEST_CASE(reminders_every_repeat_every_while_unhealthy_only, fixture) {
  status("api", "unhealthy");
  const auto since = now;
  BOOST_TEST((tracker.next_reminder(1h) == since + 1h));
  BOOST_TEST(tracker.reminders(since + 59min, 1h).empty());
  auto first = tracker.reminders(since + 1h, 1h);
  BOOST_TEST((kinds(first) == std::vector<std::string>{"still_down"}));
  BOOST_TEST(first[0].target == "api");
  BOOST_TEST(first[0].message.find("still down after 1h") != std::string::npos);
  BOOST_TEST(tracker.reminders(since + 1h + 30min, 1h).empty());  // the next one is an hour after the last
  BOOST_TEST(tracker.reminders(since + 2h, 1h).size() == 1u);
  // Paused (or unknown): still open, but no reminders until it is unhealthy again.
  now = since + 2h;
  status("api", "paused");
  BOOST_TEST(tracker.reminders(since + 5h, 1h).empty());
  BOOST_TEST(!tracker.next_reminder(1h).has_value());
  // Zero means never.
  status("api", "unhealthy");
  BOOST_TEST(tracker.reminders(since + 100h, 0ms).empty());
  BOOST_TEST(!tracker.next_reminder(0ms).has_value());
  // The reminder time survives a restart: the next one is not sooner for it.
  tracker.reminders(since + 100h, 1h);
  auto restarted = alert_tracker::load(tracker.save());
  BOOST_TEST(restarted.reminders(since + 100h + 30min, 1h).empty());
  BOOST_TEST(restarted.reminders(since + 101h, 1h).size() == 1u);
}

BOOST_AUTO_TEST_CASE(notifications_round_trip_as_outbox_payloads) {
  notification n{.kind = "down",
                 .ts = sys_time{} + 1000h,
                 .subsystem = "pm2",
                 .target = "api",
                 .severity = "error",
                 .message = "pm2/api is unhealthy",
                 .event_id = 42,
                 .except_hook = "x"};
  const auto back = notification_from_json(boost::json::serialize(to_json(n)));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->kind == "down");
  BOOST_TEST((back->ts == n.ts));
  BOOST_TEST(back->event_id == 42);
  BOOST_TEST(back->except_hook == "x");
  BOOST_TEST(!notification_from_json("[]").has_value());
  BOOST_TEST(!notification_from_json("{\"kind\": \"\"}").has_value());
}
