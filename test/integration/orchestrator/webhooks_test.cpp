// Webhooks on the real binary with a loopback receiver: a status change is delivered (once, not on
// every check); a receiver failing the first deliveries gets the message exactly once; one that is
// down while the daemon is SIGKILLed gets it once from the next life; one down for an hour (at 200 times
// the speed) gets spaced retries and then the message once; `notify test` reports each
// endpoint; and the hook's secrets (URL path and query, header values, signing key) never appear in a
// payload, a log, the history file, the API or `config check`.
//
// The failing subsystem is PM2: a fake `pm2` and no PM2 daemon in its PM2_HOME, so it is unhealthy at
// its first check; automatic recovery is off so nothing else happens.
#define BOOST_TEST_MODULE orchestrator_webhooks
#include <boost/test/unit_test.hpp>

#include "support/daemon.hpp"
#include "support/proc.hpp"
#include "support/webhook_receiver.hpp"

#include <boost/json/parse.hpp>

#include <sqlite3.h>

using namespace redundancy::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// proc.hpp's polling with a limit for a whole daemon at work on a loaded machine.
bool within_30s(const std::function<bool()>& done) { return redundancy::test::eventually(done, 30s); }

// The notifications of every delivered message, as "kind subsystem/target".
std::vector<std::string> delivered_notifications(const webhook_receiver& r) {
  std::vector<std::string> out;
  for (const auto& m : r.delivered()) {
    const auto body = json::parse(m.body);  // kept alive: the loop reads into it
    for (const auto& n : body.at("notifications").as_array())
      out.push_back(std::string(n.at("kind").as_string()) + " " + std::string(n.at("subsystem").as_string()) + "/" +
                    std::string(n.at("target").as_string()));
  }
  return out;
}

std::size_t count(const std::vector<std::string>& items, const std::string& item) {
  return static_cast<std::size_t>(std::count(items.begin(), items.end(), item));
}

struct project {
  temp_dir dir;
  fs::path config_file{dir.path() / "redundancy.json"};
  std::optional<daemon_process> process;
  std::string address;

  // `notify` is the notify section's JSON.
  explicit project(const std::string& notify) {
    fs::create_directories(dir.path() / "pm2-home");
    const auto fake = dir.path() / "fake-pm2";
    write_text(fake, "#!/bin/sh\nexit 0\n");
    fs::permissions(fake, fs::perms::owner_all);
    write_text(config_file, R"({
      "project_dir": ")" + dir.path().string() +
                                R"(",
      "state_dir": "state", "log_dir": "logs",
      "http": { "listen": "127.0.0.1:0" },
      "pm2": { "home": "pm2-home", "processes": ["api"], "ecosystem_files": [], "interval": "200ms",
               "command": [")" + fake.string() +
                                R"("] },
      "orchestrator": { "auto_recovery": false },
      "github": { "enabled": false }, "netlify": { "enabled": false },
      "notify": )" + notify + R"(
    })");
  }

  void start() {
    fs::remove(dir.path() / "state" / "http.addr");
    process.emplace(config_file, dir.path());
    address = process->wait_for_address(dir.path() / "state");
  }

  fs::path db() const { return dir.path() / "state" / "redundancy.db"; }

  // The outbox as the daemon left it: rows and the most attempts of any row (-1 when unreadable).
  std::pair<int, int> outbox() const {
    sqlite3* handle = nullptr;
    std::pair<int, int> out{-1, -1};
    if (sqlite3_open_v2(db().c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(handle, 2000);
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(handle, "SELECT COUNT(*), COALESCE(MAX(attempts), 0) FROM outbox", -1, &st, nullptr) ==
              SQLITE_OK &&
          sqlite3_step(st) == SQLITE_ROW)
        out = {sqlite3_column_int(st, 0), sqlite3_column_int(st, 1)};
      sqlite3_finalize(st);
    }
    sqlite3_close(handle);
    return out;
  }
};

std::string hook_json(const std::string& url, const std::string& extra = {}) {
  return R"({"url": ")" + url + R"(", "name": "receiver")" + extra + "}";
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_status_change_is_delivered_once_not_on_every_check) {
  webhook_receiver receiver;
  project p(R"({"webhooks": [)" + hook_json(receiver.url()) + R"(], "group_window": "300ms", "retry_delay": "200ms"})");
  p.start();
  BOOST_REQUIRE(within_30s([&] { return count(delivered_notifications(receiver), "down pm2/api") == 1; }));
  const auto first = json::parse(receiver.delivered()[0].body);
  BOOST_TEST(first.at("source").as_string() == "redundancy");
  const auto& n = first.at("notifications").as_array().back();
  BOOST_TEST(n.at("severity").as_string() == "error");
  BOOST_TEST(n.at("event_id").as_int64() > 0);
  // The same condition on every check after that (every 200 ms): not told again.
  std::this_thread::sleep_for(2s);
  const auto all = delivered_notifications(receiver);
  BOOST_TEST(count(all, "down pm2/api") == 1u);
  BOOST_TEST(count(all, "down pm2/") <= 1u);
  BOOST_TEST(p.outbox().first == 0);
  // /api/status shows the hook by name, with nothing pending and its last delivery.
  const auto status = json::parse(http_get(p.address, "/api/status").body);
  const auto& hook = status.at("notify").at("webhooks").at(0);
  BOOST_TEST(hook.at("name").as_string() == "receiver");
  BOOST_TEST(hook.at("pending").as_int64() == 0);
  BOOST_TEST(hook.at("last_delivered_at").is_string());
  BOOST_TEST(hook.at("last_error").is_null());
}

BOOST_AUTO_TEST_CASE(a_receiver_failing_the_first_three_deliveries_gets_the_message_exactly_once) {
  webhook_receiver receiver;
  receiver.fail_next(3);
  project p(R"({"webhooks": [)" + hook_json(receiver.url()) + R"(], "group_window": "300ms", "retry_delay": "200ms"})");
  p.start();
  BOOST_REQUIRE(within_30s([&] { return receiver.delivered().size() == 1; }));
  std::this_thread::sleep_for(1500ms);
  BOOST_TEST(receiver.requests().size() == 4u);
  BOOST_TEST(receiver.delivered().size() == 1u);
  BOOST_TEST(count(delivered_notifications(receiver), "down pm2/api") == 1u);
  BOOST_TEST(p.process->err().find("webhook receiver: delivery of") != std::string::npos);
  BOOST_TEST(p.outbox().first == 0);
}

BOOST_AUTO_TEST_CASE(a_message_pending_at_kill_9_is_delivered_once_by_the_next_life) {
  webhook_receiver receiver;
  receiver.stop();  // connection refused until it comes back
  project p(R"({"webhooks": [)" + hook_json(receiver.url()) + R"(], "group_window": "300ms", "retry_delay": "200ms"})");
  p.start();
  // Queued and already retried while the receiver is down.
  BOOST_REQUIRE(within_30s([&] { return p.outbox().second >= 2; }));
  const auto [rows, attempts] = p.outbox();
  BOOST_TEST(rows >= 1);
  BOOST_REQUIRE(p.process->signal_and_wait(SIGKILL, 10s).has_value());
  BOOST_TEST(receiver.requests().empty());

  receiver.start();
  p.start();
  BOOST_REQUIRE(within_30s([&] { return count(delivered_notifications(receiver), "down pm2/api") == 1; }));
  // The next life's checks see the same problem: it was told already, so it is not told again.
  std::this_thread::sleep_for(2s);
  BOOST_TEST(count(delivered_notifications(receiver), "down pm2/api") == 1u);
  BOOST_TEST(p.outbox().first == 0);
}

BOOST_AUTO_TEST_CASE(a_receiver_down_for_an_hour_at_200x_speed_gets_spaced_retries_then_one_delivery) {
  // retry_delay 50 ms is the default 10 s at 200 times the speed: 18 s here are an hour of the
  // receiver refusing connections. Doubling from 50 ms, the attempts come at about 0.05, 0.15, 0.35,
  // ... 12.75 s after the first (10 s ... 2,550 s at the default): 9 or so, never one per check
  // (a check every 200 ms would be 90).
  webhook_receiver receiver;
  receiver.stop();
  project p(R"({"webhooks": [)" + hook_json(receiver.url()) + R"(], "group_window": "300ms", "retry_delay": "50ms"})");
  p.start();
  const auto open_fds = [&] {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/" + std::to_string(p.process->pid()) + "/fd"))
      ++n;
    return n;
  };
  BOOST_REQUIRE(within_30s([&] { return p.outbox().second >= 3; }));
  const auto fds_early = open_fds();
  const auto until = std::chrono::steady_clock::now() + 18s;
  while (std::chrono::steady_clock::now() < until) {
    BOOST_TEST_REQUIRE(http_get(p.address, "/api/health").status != 0, "the daemon stopped answering");
    std::this_thread::sleep_for(250ms);
  }
  const auto [rows, attempts] = p.outbox();
  BOOST_TEST(rows >= 1);
  BOOST_TEST(attempts >= 7, attempts << " attempts");
  BOOST_TEST(attempts <= 11, attempts << " attempts");
  BOOST_TEST(open_fds() <= fds_early + 2, "fds " << fds_early << " -> " << open_fds());  // no socket kept per attempt
  const auto status = json::parse(http_get(p.address, "/api/status").body);
  const auto& hook = status.at("notify").at("webhooks").at(0);
  BOOST_TEST(hook.at("pending").as_int64() >= 1);
  BOOST_TEST(hook.at("last_error").is_string());
  BOOST_TEST(receiver.requests().empty());

  // Back up: the message waiting all along arrives once, at the next attempt (12.8 s at most here).
  receiver.start();
  BOOST_REQUIRE(eventually([&] { return count(delivered_notifications(receiver), "down pm2/api") == 1; }, 40s));
  std::this_thread::sleep_for(1s);
  BOOST_TEST(count(delivered_notifications(receiver), "down pm2/api") == 1u);
  BOOST_TEST(receiver.delivered().size() == 1u);
  BOOST_TEST(p.outbox().first == 0);
  BOOST_TEST(!p.process->exited());
}

BOOST_AUTO_TEST_CASE(secrets_of_a_hook_never_appear_in_payloads_logs_the_history_or_the_api) {
  webhook_receiver receiver;
  receiver.fail_next(1);  // a failure, so the failure's log line is there too
  webhook_receiver gone;
  const auto gone_url = gone.url("/PATHSECRET2?token=QUERYSECRET2");
  gone.stop();
  const std::string hooks =
      hook_json(
          receiver.url("/hook/PATHSECRET1?token=QUERYSECRET1"),
          R"(, "format": "json", "headers": {"Authorization": "Bearer HEADERSECRET1"}, "secret": "HMACSECRET1")") +
      R"(, {"url": ")" + gone_url + R"("})";
  project p(R"({"webhooks": [)" + hooks +
            R"(], "group_window": "300ms", "retry_delay": "200ms", "give_up_after": "2s"})");
  p.start();
  BOOST_REQUIRE(within_30s([&] { return receiver.delivered().size() >= 1; }));
  // The unreachable hook gives up after 2 s: its event names it, and the other hook is told.
  BOOST_REQUIRE(within_30s(
      [&] { return http_get(p.address, "/api/events?limit=1000").body.find("notify_given_up") != std::string::npos; }));
  BOOST_REQUIRE(within_30s([&] {
    for (const auto& n : delivered_notifications(receiver))
      if (n.starts_with("delivery_given_up")) return true;
    return false;
  }));
  const auto got = receiver.delivered().front();
  BOOST_TEST(got.headers.at("authorization") == "Bearer HEADERSECRET1");  // where it belongs

  std::vector<std::pair<std::string, std::string>> places;
  for (const auto& r : receiver.requests()) places.emplace_back("a payload", r.body);
  places.emplace_back("daemon stderr", p.process->err());
  places.emplace_back("daemon stdout", read_text(p.dir.path() / "daemon.out"));
  for (const auto& entry : fs::recursive_directory_iterator(p.dir.path() / "logs"))
    if (entry.is_regular_file()) places.emplace_back(entry.path().string(), read_text(entry.path()));
  for (const auto& entry : fs::directory_iterator(p.dir.path() / "state"))
    if (entry.is_regular_file()) places.emplace_back(entry.path().string(), read_text(entry.path()));
  places.emplace_back("/api/events", http_get(p.address, "/api/events?limit=1000").body);
  places.emplace_back("/api/status", http_get(p.address, "/api/status").body);
  places.emplace_back("/api/report", http_get(p.address, "/api/report").body);
  const auto checked = run_binary({"config", "check", "--config", p.config_file.string()});
  BOOST_TEST(checked.exit_code == 0, checked.err);
  places.emplace_back("config check", checked.out + checked.err);
  BOOST_TEST(places.size() > 6u);
  for (const auto& [where, text] : places)
    for (const char* secret :
         {"PATHSECRET1", "QUERYSECRET1", "HEADERSECRET1", "HMACSECRET1", "PATHSECRET2", "QUERYSECRET2"})
      BOOST_TEST(text.find(secret) == std::string::npos, secret << " appears in " << where);
}

BOOST_AUTO_TEST_CASE(notify_test_reports_each_endpoint_and_needs_no_daemon) {
  webhook_receiver receiver;
  webhook_receiver gone;
  const auto gone_url = gone.url("/SECRETPATH");
  gone.stop();
  project p(R"({"webhooks": [)" + hook_json(receiver.url("/ok"), R"(, "format": "slack")") + R"(, {"url": ")" +
            gone_url + R"(", "name": "gone"}], "timeout": "5s"})");
  auto r = run_binary({"notify", "test", "--config", p.config_file.string()});
  BOOST_TEST(r.exit_code == 1, r.out << r.err);
  BOOST_TEST(r.out.find("receiver") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("delivered") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("gone") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("connection refused") != std::string::npos, r.out);
  BOOST_TEST((r.out + r.err).find("SECRETPATH") == std::string::npos);
  BOOST_TEST_REQUIRE(receiver.delivered().size() == 1u);
  const auto text = std::string(json::parse(receiver.delivered()[0].body).at("text").as_string());
  BOOST_TEST(text.find("[test]") != std::string::npos, text);

  project good(R"({"webhooks": [)" + hook_json(receiver.url("/ok")) + R"(]})");
  auto ok = run_binary({"notify", "test", "--json", "--config", good.config_file.string()});
  BOOST_TEST(ok.exit_code == 0, ok.out << ok.err);
  const auto v = json::parse(ok.out);
  BOOST_TEST(v.at("ok").as_bool());
  BOOST_TEST(v.at("webhooks").at(0).at("status").as_int64() == 200);
  BOOST_TEST(receiver.delivered().size() == 2u);

  project none(R"({"webhooks": []})");
  auto empty = run_binary({"notify", "test", "--config", none.config_file.string()});
  BOOST_TEST(empty.exit_code == 2);
  BOOST_TEST(empty.err.find("no webhooks configured") != std::string::npos, empty.err);
}
