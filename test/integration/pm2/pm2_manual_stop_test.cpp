// An app a person stopped on purpose (`pm2 stop web`) under a running redundancy daemon, with the real
// pm2 (build/npm) and a private PM2_HOME: shown `stopped (by hand)`, degraded, never restarted (also
// across a restart of the daemon and by the restart of everything), until it is started again; and with
// pm2.restart_manual_stops, restarted like a crashed app (issue 25: it was restarted within one interval).
#define BOOST_TEST_MODULE pm2_manual_stop
#include <boost/test/unit_test.hpp>

#include "support/daemon.hpp"
#include "support/pm2_rpc_list.hpp"
#include "test_paths.hpp"

#include <boost/json/parse.hpp>

#include <thread>

using namespace redundancy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using test::api_token;
using test::have_pm2;

// web and api from an ecosystem file, both online and saved; a daemon config checking every second.
struct project : test::pm2_sandbox {
  explicit project(bool restart_manual_stops) : test::pm2_sandbox({"ok.js"}) {
    test::write_text(dir / "ecosystem.config.js",
                     "module.exports = { apps: [ { name: 'web', script: 'ok.js' },"
                     " { name: 'api', script: 'ok.js' } ] };\n");
    BOOST_TEST_REQUIRE(pm2("start ecosystem.config.js") == 0);
    BOOST_TEST_REQUIRE(pm2("save") == 0);
    write_daemon_config(std::string(R"(, "interval": "1s", "timeout": "20s", "restart_delay": "100ms",)") +
                        R"( "ecosystem_files": ["ecosystem.config.js"], "restart_manual_stops": )" +
                        (restart_manual_stops ? "true" : "false"));
  }

  void start_daemon() {
    daemon.reset();
    fs::remove(dir / "state" / "http.addr");
    daemon.emplace(dir / "redundancy.json", dir, test::env_with_api_token());
    address = daemon->wait_for_address(dir / "state");
    // Listening to the bus, or a stop would pass unseen.
    for (int i = 0; i < 300 && !(healthy() && daemon->err().find("listening to PM2 events") != std::string::npos); ++i)
      std::this_thread::sleep_for(100ms);
    BOOST_TEST_REQUIRE(healthy(), daemon->err());
  }
  bool healthy() const {
    auto s = test::http_get(address, "/api/subsystems/pm2");
    return s.status == 200 && s.body.find("\"status\":\"healthy\"") != std::string::npos;
  }
  boost::json::object web_target() const {
    const auto doc = boost::json::parse(test::http_get(address, "/api/subsystems/pm2").body);
    for (const auto& t : doc.at("targets").as_array())
      if (t.at("name") == "web") return t.as_object();
    return {};
  }
  std::optional<pm2::app_status> web_status() {
    auto a = test::app_over_rpc(*this, "web");
    return a ? std::optional(a->status) : std::nullopt;
  }

  std::optional<test::daemon_process> daemon;
  std::string address;
};

}  // namespace

BOOST_AUTO_TEST_CASE(an_app_stopped_by_hand_stays_stopped_until_it_is_started_again) {
  if (!have_pm2()) return;
  project p(false);
  p.start_daemon();
  BOOST_TEST_REQUIRE(p.pm2("stop web") == 0);
  std::this_thread::sleep_for(4s);  // four checks; the stopped grace is one interval
  BOOST_TEST((p.web_status() == pm2::app_status::stopped));
  auto web = p.web_target();
  BOOST_TEST(web.at("status") == "degraded", web);
  BOOST_TEST(web.at("state") == "stopped_by_hand", web);
  BOOST_TEST(web.at("reason") == "stopped (by hand): left stopped until it is started again", web);
  BOOST_TEST(test::read_text(p.dir / "state" / "pm2-manual-stops.json") == "[\"web\"]\n");

  // The daemon restarted: it still knows.
  p.start_daemon();
  std::this_thread::sleep_for(3s);
  BOOST_TEST((p.web_status() == pm2::app_status::stopped), p.daemon->err());

  // The restart of everything leaves it stopped.
  const auto all = test::http_post(p.address, "/api/pm2/restart", "{}", std::string(api_token));
  BOOST_TEST_REQUIRE(all.status == 202, all.body);
  const auto id = std::to_string(boost::json::parse(all.body).at("action_id").to_number<std::int64_t>());
  auto done = [&] {
    auto a = test::http_get(p.address, "/api/actions/" + id).body;
    return a.find("\"state\":\"succeeded\"") != std::string::npos ||
           a.find("\"state\":\"failed\"") != std::string::npos;
  };
  for (int i = 0; i < 300 && !done(); ++i) std::this_thread::sleep_for(100ms);
  const auto action = test::http_get(p.address, "/api/actions/" + id).body;
  BOOST_TEST(action.find("stopped by hand: left stopped") != std::string::npos, action);
  BOOST_TEST(action.find("pm2 kill") == std::string::npos, action);
  BOOST_TEST((p.web_status() == pm2::app_status::stopped));

  // Started again by a person: an ordinary app, repaired when it fails.
  BOOST_TEST_REQUIRE(p.pm2("start web") == 0);
  for (int i = 0; i < 50 && p.web_target().at("status") != "healthy"; ++i) std::this_thread::sleep_for(100ms);
  BOOST_TEST(p.web_target().at("status") == "healthy", p.web_target());
  BOOST_TEST(test::read_text(p.dir / "state" / "pm2-manual-stops.json") == "[]\n");
}

BOOST_AUTO_TEST_CASE(with_restart_manual_stops_a_stopped_app_is_restarted_after_one_interval) {
  if (!have_pm2()) return;
  project p(true);
  p.start_daemon();
  BOOST_TEST_REQUIRE(p.pm2("stop web") == 0);
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    back = p.web_status() == pm2::app_status::online;
    if (!back) std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(back, p.daemon->err());
}
