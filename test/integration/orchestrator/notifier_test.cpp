// The notifier in this process with a real store file and a real webhook receiver on loopback: a
// burst becomes one message, failures are retried with backoff until delivered exactly once, a hook
// that never answers is given up with an event, and the outbox and the conditions already told
// survive a new notifier on the same file (as across a daemon restart).
#define BOOST_TEST_MODULE notifier
#include <boost/test/unit_test.hpp>

#include "redundancy/orchestrator/notify.hpp"
#include "support/daemon.hpp"
#include "support/webhook_receiver.hpp"

#include <boost/json/parse.hpp>

using namespace redundancy;
using namespace redundancy::test;
using namespace std::chrono_literals;

namespace {

struct recorded {
  std::string kind, target, message;
};

struct fixture {
  temp_dir dir;
  webhook_receiver receiver;
  std::optional<store> history = open();
  notify_config settings;
  std::vector<recorded> records;
  std::int64_t next_event{1};

  fixture() {
    webhook_config hook{.url = receiver.url("/hook/PATHSECRET")};
    hook.name = "test-hook";
    hook.secret = "HMACSECRET";
    settings.webhooks = {hook};
    settings.retry_delay = 100ms;
    settings.give_up_after = 1h;
    settings.timeout = 2s;
    settings.group_window = 300ms;
  }

  store open() {
    auto s = store::open(dir.path() / "redundancy.db");
    BOOST_TEST_REQUIRE(s.has_value());
    return std::move(*s);
  }

  std::unique_ptr<notifier> make(asio::io_context& io) {
    auto n = std::make_unique<notifier>(io.get_executor(), settings, *history);
    n->record = [this](std::string, std::string target, std::string kind, std::string, std::string message,
                       boost::json::object) {
      records.push_back({kind, target, message});
    };
    n->start();
    return n;
  }

  event status(std::string target, std::string s) {
    event e{.id = next_event++,
            .ts = std::chrono::system_clock::now(),
            .subsystem = "pm2",
            .target = target,
            .kind = "status_changed",
            .severity = "error",
            .message = "pm2/" + target + " is " + s,
            .data = {}};
    e.data["status"] = s;
    return e;
  }

  // Runs the loop until done() or the limit.
  static bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.run_for(20ms);
    }
    return true;
  }

  std::size_t outbox_rows() { return history->due_outbox(std::chrono::system_clock::now() + 24h * 3650, 1000).size(); }
};

std::vector<std::string> kinds_in(const webhook_receiver::request& r) {
  std::vector<std::string> out;
  const auto body = boost::json::parse(r.body);  // kept alive: the loop reads into it
  for (const auto& n : body.at("notifications").as_array()) out.emplace_back(n.at("kind").as_string());
  return out;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_burst_becomes_one_signed_message_and_the_next_waits_for_the_window, fixture) {
  asio::io_context io{1};
  auto n = make(io);
  n->on_event(status("", "unhealthy"));
  n->on_event(status("api", "unhealthy"));
  event emergency{.id = next_event++,
                  .ts = std::chrono::system_clock::now(),
                  .subsystem = "orchestrator",
                  .target = "",
                  .kind = "emergency_started",
                  .severity = "critical",
                  .message = "2 subsystems unhealthy",
                  .data = {}};
  n->on_event(emergency);
  n->on_event(status("worker", "healthy"));  // not news: no notification
  BOOST_TEST_REQUIRE(run_until(
      io, [&] { return receiver.delivered().size() == 1; }, 10s));
  const auto first = receiver.delivered()[0];
  BOOST_TEST((kinds_in(first) == std::vector<std::string>{"down", "down", "emergency_entered"}));
  BOOST_TEST(first.target == "/hook/PATHSECRET");
  BOOST_TEST(first.headers.at("x-redundancy-signature") == "sha256=" + hmac_sha256_hex("HMACSECRET", first.body));
  BOOST_TEST(first.body.find("SECRET") == std::string::npos);
  // The receiver has the request before the notifier has read the answer and cleared its rows.
  BOOST_TEST(run_until(
      io, [&] { return outbox_rows() == 0u; }, 10s));

  const auto sent_at = std::chrono::steady_clock::now();
  n->on_event(status("api", "healthy"));
  BOOST_TEST_REQUIRE(run_until(
      io, [&] { return receiver.delivered().size() == 2; }, 10s));
  // The window counts from the first message's delivery, so at least most of it has passed.
  BOOST_TEST((std::chrono::steady_clock::now() - sent_at >= 250ms));
  BOOST_TEST((kinds_in(receiver.delivered()[1]) == std::vector<std::string>{"recovered"}));
  io.run_for(500ms);
  BOOST_TEST(receiver.requests().size() == 2u);  // nothing sent twice
}

BOOST_FIXTURE_TEST_CASE(failures_are_retried_with_backoff_and_delivered_exactly_once, fixture) {
  receiver.fail_next(3);
  asio::io_context io{1};
  auto n = make(io);
  n->on_event(status("api", "unhealthy"));
  BOOST_TEST_REQUIRE(run_until(
      io, [&] { return receiver.delivered().size() == 1; }, 20s));
  io.run_for(1s);
  const auto all = receiver.requests();
  BOOST_TEST(all.size() == 4u);
  BOOST_TEST(receiver.delivered().size() == 1u);
  // The same outbox row each time: receivers can de-duplicate on it.
  for (const auto& r : all)
    BOOST_TEST(r.headers.at("x-redundancy-delivery") == all[0].headers.at("x-redundancy-delivery"));
  BOOST_TEST(outbox_rows() == 0u);
  BOOST_TEST(records.empty());
}

BOOST_FIXTURE_TEST_CASE(a_hook_down_past_give_up_after_is_given_up_with_an_event, fixture) {
  receiver.stop();
  settings.give_up_after = 600ms;
  asio::io_context io{1};
  auto n = make(io);
  n->on_event(status("api", "unhealthy"));
  BOOST_TEST_REQUIRE(run_until(
      io, [&] { return !records.empty(); }, 20s));
  BOOST_TEST(records[0].kind == "notify_given_up");
  BOOST_TEST(records[0].target == "test-hook");
  BOOST_TEST(records[0].message.find("gave up on 1 notifications") != std::string::npos);
  BOOST_TEST(records[0].message.find("connection refused") != std::string::npos);
  BOOST_TEST(records[0].message.find("PATHSECRET") == std::string::npos);
  BOOST_TEST(outbox_rows() == 0u);
}

BOOST_FIXTURE_TEST_CASE(the_outbox_and_the_told_conditions_survive_a_new_notifier, fixture) {
  receiver.fail_next(1000);
  {
    asio::io_context io{1};
    auto n = make(io);
    n->on_event(status("api", "unhealthy"));
    BOOST_TEST_REQUIRE(run_until(
        io, [&] { return !receiver.requests().empty(); }, 10s));
  }
  BOOST_TEST(outbox_rows() == 1u);
  receiver.fail_next(0);
  // A new life: a new store connection and notifier on the same file.
  history.reset();
  history = open();
  asio::io_context io{1};
  auto n = make(io);
  // Its first check sees the same problem again: already told.
  n->on_event(status("api", "unhealthy"));
  BOOST_TEST_REQUIRE(run_until(
      io, [&] { return receiver.delivered().size() == 1; }, 10s));
  io.run_for(800ms);
  BOOST_TEST(receiver.delivered().size() == 1u);
  BOOST_TEST((kinds_in(receiver.delivered()[0]) == std::vector<std::string>{"down"}));
  BOOST_TEST(outbox_rows() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_reminder_goes_out_while_something_stays_down, fixture) {
  settings.repeat_every = 700ms;
  asio::io_context io{1};
  auto n = make(io);
  n->on_event(status("api", "unhealthy"));
  BOOST_TEST_REQUIRE(run_until(
      io, [&] { return receiver.delivered().size() == 2; }, 10s));
  BOOST_TEST((kinds_in(receiver.delivered()[1]) == std::vector<std::string>{"still_down"}));
}

BOOST_FIXTURE_TEST_CASE(a_burst_of_conditions_is_saved_once_the_loop_runs_or_when_the_notifier_ends, fixture) {
  const auto saved_conditions = [&] {
    const auto text = history->get_counter("notify.conditions");
    return text ? boost::json::parse(*text).as_object().size() : 0u;
  };
  settings.webhooks.clear();  // the outbox is not what this is about
  {
    asio::io_context io{1};
    auto n = make(io);
    // A thousand targets down in one check: one save after the burst, by the loop.
    for (int i = 0; i < 1000; ++i) n->on_event(status("app-" + std::to_string(i), "unhealthy"));
    BOOST_TEST(run_until(
        io, [&] { return saved_conditions() == 1000u; }, 10s));
    // Ended before its loop ran again: the notifier saves what it had not.
    n->on_event(status("app-1000", "unhealthy"));
  }
  BOOST_TEST(saved_conditions() == 1001u);
}
