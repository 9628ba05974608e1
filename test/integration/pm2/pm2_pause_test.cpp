// A paused PM2 app under a running redundancy daemon, with the real pm2 (build/npm) and a private
// PM2_HOME: it counts neither way in any status, no automatic or emergency action touches it, and a
// person's restart of it is refused until it is resumed (issue 25: the target said `paused`, yet pm2 and
// /api/health stayed unhealthy because of it, and an emergency ran `pm2 kill` and restarted it).
#define BOOST_TEST_MODULE pm2_pause
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

struct sandbox : test::pm2_sandbox {
  sandbox() : test::pm2_sandbox({"ok.js"}) {}
  std::optional<pm2::app_entry> app(std::string_view name) { return test::app_over_rpc(*this, name); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_paused_app_counts_neither_way_and_nothing_but_pm2_touches_it) {
  if (!have_pm2()) return;
  sandbox box;
  test::write_text(
      box.dir / "ecosystem.config.js",
      "module.exports = { apps: [ { name: 'web', script: 'ok.js' }, { name: 'api', script: 'ok.js' } ] };\n");
  BOOST_TEST_REQUIRE(box.pm2("start ecosystem.config.js") == 0);
  BOOST_TEST_REQUIRE(box.pm2("save") == 0);
  const auto config_file = box.write_daemon_config(
      R"(, "interval": "1s", "timeout": "20s", "restart_delay": "100ms", "ecosystem_files": ["ecosystem.config.js"])",
      R"(, "orchestrator": {"emergency_threshold": 1, "interval": "1s"})");
  test::daemon_process d(config_file, box.dir, test::env_with_api_token());
  const auto address = d.wait_for_address(box.dir / "state");
  auto healthy = [&] {
    auto s = test::http_get(address, "/api/subsystems/pm2");
    return s.status == 200 && s.body.find("\"status\":\"healthy\"") != std::string::npos;
  };
  for (int i = 0; i < 300 && !healthy(); ++i) std::this_thread::sleep_for(100ms);
  BOOST_TEST_REQUIRE(healthy(), d.err());

  auto paused = test::http_post(address, "/api/pause", R"({"target":"pm2/web","for":"10m","reason":"debugging"})",
                                std::string(api_token));
  BOOST_TEST_REQUIRE(paused.status == 200, paused.body);
  // Deleted: unpaused, the next check would start it from its ecosystem file at once.
  BOOST_TEST_REQUIRE(box.pm2("delete web") == 0);
  const auto api_pid = box.app("api")->pid;
  std::this_thread::sleep_for(5s);  // several checks, 1 s apart
  BOOST_TEST(!box.app("web").has_value());
  const auto shown = boost::json::parse(test::http_get(address, "/api/subsystems/pm2").body);
  BOOST_TEST(shown.at("status").as_string() == "healthy", shown);
  BOOST_TEST(std::string(shown.at("summary").as_string()).ends_with("(paused: web)"), shown);
  const auto health = boost::json::parse(test::http_get(address, "/api/health").body);
  BOOST_TEST(health.at("status").as_string() == "healthy", health);
  BOOST_TEST(box.app("api")->pid == api_pid);  // no emergency's pm2 kill

  // A person's restart of the paused app is refused; the restart of everything leaves it alone.
  const auto refused = test::http_post(address, "/api/pm2/restart", R"({"app":"web"})", std::string(api_token));
  BOOST_TEST(refused.status == 409, refused.body);
  BOOST_TEST(refused.body.find("pm2/web is paused until") != std::string::npos, refused.body);
  const auto all = test::http_post(address, "/api/pm2/restart", "{}", std::string(api_token));
  BOOST_TEST_REQUIRE(all.status == 202, all.body);
  const auto id = boost::json::parse(all.body).at("action_id").to_number<std::int64_t>();
  auto finished = [&] {
    auto a = test::http_get(address, "/api/actions/" + std::to_string(id));
    return a.body.find("\"state\":\"succeeded\"") != std::string::npos ||
           a.body.find("\"state\":\"failed\"") != std::string::npos;
  };
  for (int i = 0; i < 300 && !finished(); ++i) std::this_thread::sleep_for(100ms);
  const auto action = test::http_get(address, "/api/actions/" + std::to_string(id));
  BOOST_TEST_REQUIRE(finished(), action.body);
  BOOST_TEST(action.body.find("\"state\":\"succeeded\"") != std::string::npos, action.body);
  BOOST_TEST(action.body.find("leave web") != std::string::npos, action.body);
  BOOST_TEST(action.body.find("pm2 kill") == std::string::npos, action.body);
  BOOST_TEST(!box.app("web").has_value());
  BOOST_TEST(box.app("api")->pid != api_pid);  // restarted

  // Resumed: web is repaired like any other app.
  BOOST_TEST_REQUIRE(
      test::http_post(address, "/api/resume", R"({"target":"pm2/web"})", std::string(api_token)).status == 200);
  bool back = false;
  for (int i = 0; i < 150 && !back; ++i) {
    auto w = box.app("web");
    back = w && w->status == pm2::app_status::online;
    if (!back) std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(back, d.err());
}
