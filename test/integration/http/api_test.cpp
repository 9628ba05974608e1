// The API of the real daemon over real sockets: shapes, the health flip, auth, actions, events,
// /metrics through promtool, and the CLI against it.
#define BOOST_TEST_MODULE api
#include <boost/test/unit_test.hpp>

#include "support/daemon.hpp"

#include "redundancy/core/time.hpp"

#include <boost/json/parse.hpp>

using namespace redundancy::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr std::string_view token = "test-token-0123456789";

// A daemon whose PM2 subsystem sees no PM2 daemon (so pm2 is unhealthy) and whose other subsystems are off.
struct running_daemon {
  temp_dir dir;
  std::filesystem::path config_file{dir.path() / "redundancy.json"};
  std::optional<daemon_process> process;
  std::string address;

  running_daemon() {
    std::filesystem::create_directories(dir.path() / "pm2-home");
    write_text(config_file, R"({
      "project_dir": ")" + dir.path().string() +
                                R"(",
      "state_dir": "state", "log_dir": "logs",
      "http": { "listen": "127.0.0.1:0" },
      "pm2": { "home": "pm2-home", "processes": ["api"], "ecosystem_files": [], "interval": "1h",
               "command": ["false"] },
      "orchestrator": { "auto_recovery": false },
      "github": { "enabled": false }, "netlify": { "enabled": false }
    })");
    process.emplace(config_file, dir.path(),
                    std::map<std::string, std::string>{{"REDUNDANCY_TOKEN", std::string(token)}});
    address = process->wait_for_address(dir.path() / "state");
    // Wait for the first check: until then the status is "starting".
    for (int i = 0; i < 500; ++i) {
      if (json::parse(http_get(address, "/api/health").body).at("status").as_string() != "starting") break;
      std::this_thread::sleep_for(10ms);
    }
  }

  json::value get_json(const std::string& path, int expected_status = 200) {
    auto answer = http_get(address, path);
    BOOST_TEST(answer.status == expected_status, path << ": " << answer.body);
    BOOST_TEST(answer.header("content-type").find("application/json") != std::string::npos);
    return json::parse(answer.body);
  }

  // Polls /api/actions/{id} until the action is no longer queued or running.
  json::object wait_for_action(std::int64_t id) {
    json::object action;
    for (int i = 0; i < 1000; ++i) {
      action = get_json("/api/actions/" + std::to_string(id)).as_object();
      const auto state = action.at("state").as_string();
      if (state != "queued" && state != "running") break;
      std::this_thread::sleep_for(10ms);
    }
    return action;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(health_and_status_have_the_documented_shapes, running_daemon) {
  auto health = get_json("/api/health", 503).as_object();
  BOOST_TEST(health.at("status").as_string() == "unhealthy");
  BOOST_TEST(health.contains("checked_at"));
  const auto& pm2 = health.at("subsystems").at("pm2").as_object();
  BOOST_TEST(pm2.at("status").as_string() == "unhealthy");
  BOOST_TEST(pm2.contains("summary"));
  BOOST_TEST(pm2.contains("checked_at"));
  const auto& emergency = health.at("emergency").as_object();
  BOOST_TEST(emergency.at("active").is_bool());
  BOOST_TEST(emergency.at("attempts").is_number());
  BOOST_TEST(emergency.at("max_attempts").as_int64() == 3);

  auto status = get_json("/api/status", 200).as_object();
  const auto& s = status.at("subsystems").at("pm2").as_object();
  for (const auto* key : {"next_check_at", "consecutive_failures", "paused_until", "targets"})
    BOOST_TEST(s.contains(key), key);
  const auto& target = s.at("targets").as_array().at(0).as_object();
  BOOST_TEST(target.at("name").as_string() == "api");
  BOOST_TEST(target.at("status").as_string() == "unhealthy");
  BOOST_TEST(!target.at("reason").as_string().empty());
  BOOST_TEST(target.at("since").is_string());
  const auto& daemon = status.at("daemon").as_object();
  BOOST_TEST(daemon.at("pid").as_int64() == process->pid());
  BOOST_TEST(daemon.at("rss_bytes").as_int64() > 0);
  BOOST_TEST(daemon.at("version").is_string());

  auto one = get_json("/api/subsystems/pm2").as_object();
  BOOST_TEST(one.at("status").as_string() == "unhealthy");
  auto missing = http_get(address, "/api/subsystems/nope");
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(json::parse(missing.body).at("error").at("code").as_string() == "not_found");
}

BOOST_FIXTURE_TEST_CASE(pausing_flips_health_to_200_and_resuming_back_to_503, running_daemon) {
  BOOST_TEST(http_get(address, "/api/health").status == 503);
  auto paused =
      http_post(address, "/api/pause", R"({"target":"pm2","for":"10m","reason":"maintenance"})", std::string(token));
  BOOST_TEST(paused.status == 200, paused.body);
  auto health = http_get(address, "/api/health");
  BOOST_TEST(health.status == 200, health.body);
  BOOST_TEST(json::parse(health.body).at("subsystems").at("pm2").at("status").as_string() == "paused");
  BOOST_TEST(http_post(address, "/api/resume", R"({"target":"pm2"})", std::string(token)).status == 200);
  BOOST_TEST(http_get(address, "/api/health").status == 503);

  auto events = get_json("/api/events?subsystem=pm2&limit=50").as_object().at("events").as_array();
  bool saw_pause = false;
  for (const auto& e : events) {
    for (const auto* key : {"id", "ts", "subsystem", "target", "kind", "severity", "message", "data"})
      BOOST_TEST(e.as_object().contains(key), key);
    if (e.at("kind").as_string() == "paused") saw_pause = true;
  }
  BOOST_TEST(saw_pause);
}

BOOST_FIXTURE_TEST_CASE(a_pause_beyond_ten_years_is_refused_and_one_of_ten_years_is_in_effect, running_daemon) {
  // 100000d answered 1970-01-02 (the sum wrapped) and the pause was not in effect.
  auto refused = http_post(address, "/api/pause", R"({"target":"pm2","for":"100000d"})", std::string(token));
  BOOST_TEST(refused.status == 400, refused.body);
  const auto message = std::string(json::parse(refused.body).at("error").at("message").as_string());
  BOOST_TEST(message == "for: expected a duration of at most 3650d, got \"100000d\"", message);
  BOOST_TEST(http_get(address, "/api/health").status == 503);

  const auto before = std::chrono::system_clock::now();
  auto paused = http_post(address, "/api/pause", R"({"target":"pm2","for":"3650d"})", std::string(token));
  BOOST_TEST_REQUIRE(paused.status == 200, paused.body);
  const auto until = redundancy::from_rfc3339(json::parse(paused.body).at("paused_until").as_string());
  BOOST_TEST_REQUIRE(until.has_value());
  const auto expected = before + std::chrono::days(3650);
  BOOST_TEST((*until >= expected - 1s && *until <= expected + 60s), paused.body);
  auto health = http_get(address, "/api/health");
  BOOST_TEST(health.status == 200, health.body);
  BOOST_TEST(json::parse(health.body).at("subsystems").at("pm2").at("status").as_string() == "paused");
}

BOOST_FIXTURE_TEST_CASE(posts_need_the_token_and_never_act_without_it, running_daemon) {
  for (const auto* path : {"/api/emergency", "/api/check", "/api/pm2/restart", "/api/pause"}) {
    auto refused = http_post(address, path, "{}");
    BOOST_TEST(refused.status == 401, path);
    BOOST_TEST(refused.header("www-authenticate").find("Bearer") != std::string::npos);
    BOOST_TEST(http_post(address, path, "{}", "wrong-token").status == 401, path);
  }
  // Nothing was queued by any of those.
  BOOST_TEST(get_json("/api/actions").at("actions").as_array().empty());

  // A foreign Host is refused (DNS rebinding), even for GET.
  auto foreign = http_exchange(port_of(address),
                               "GET /api/health HTTP/1.1\r\nHost: evil.example\r\n"
                               "Connection: close\r\n\r\n");
  BOOST_REQUIRE(foreign);
  BOOST_TEST(foreign->status == 403);
}

BOOST_FIXTURE_TEST_CASE(a_check_is_an_action_that_ends_with_the_checks_outcome, running_daemon) {
  auto accepted = http_post(address, "/api/check", R"({"subsystem":"pm2"})", std::string(token));
  BOOST_TEST(accepted.status == 202, accepted.body);
  const auto id = json::parse(accepted.body).at("action_id").as_int64();
  auto action = wait_for_action(id);
  BOOST_TEST(action.at("state").as_string() == "succeeded");
  BOOST_TEST(action.at("kind").as_string() == "check");
  BOOST_TEST(action.at("requested_by").as_string() == "api");
  BOOST_TEST(action.at("started_at").is_string());
  BOOST_TEST(action.at("finished_at").is_string());
  BOOST_TEST(action.at("steps").as_array().size() == 1u);
  BOOST_TEST(get_json("/api/actions").at("actions").as_array().at(0).at("id").as_int64() == id);

  BOOST_TEST(http_post(address, "/api/check", R"({"subsystem":"nope"})", std::string(token)).status == 404);
  BOOST_TEST(http_post(address, "/api/check", "not json", std::string(token)).status == 400);
  BOOST_TEST(http_get(address, "/api/actions/999999").status == 404);
  BOOST_TEST(http_get(address, "/api/check").status == 405);
  BOOST_TEST(http_post(address, "/api/github/trigger", "{}", std::string(token)).status == 404);
}

BOOST_FIXTURE_TEST_CASE(emergency_answers_202_then_409_while_it_runs, running_daemon) {
  auto first = http_post(address, "/api/emergency", "{}", std::string(token));
  BOOST_TEST(first.status == 202, first.body);
  const auto id = json::parse(first.body).at("action_id").as_int64();
  auto second = http_post(address, "/api/emergency", "{}", std::string(token));
  // PM2's emergency step runs `false` as pm2 here, so it may already be over; while it runs, 409.
  if (second.status == 409) {
    BOOST_TEST(json::parse(second.body).at("action_id").as_int64() == id);
    BOOST_TEST(json::parse(second.body).at("error").at("code").as_string() == "conflict");
  } else {
    BOOST_TEST(second.status == 202);
  }
  auto action = wait_for_action(id);
  BOOST_TEST(action.at("kind").as_string() == "emergency");
  BOOST_TEST(action.at("state").as_string() == "failed");  // `pm2 kill` with pm2 = `false`
}

BOOST_FIXTURE_TEST_CASE(metrics_are_clean_for_promtool, running_daemon) {
  auto answer = http_get(address, "/metrics");
  BOOST_TEST(answer.status == 200);
  BOOST_TEST(answer.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  for (const auto* name : {"redundancy_build_info", "redundancy_subsystem_healthy{subsystem=\"pm2\"} 0",
                           "redundancy_target_healthy", "redundancy_checks_total", "redundancy_pm2_app_online",
                           "redundancy_emergency_active", "process_resident_memory_bytes", "process_open_fds"})
    BOOST_TEST(answer.body.find(name) != std::string::npos, name);
  if (!std::filesystem::exists("/usr/bin/promtool")) {
    BOOST_TEST_MESSAGE("SKIPPED promtool check: /usr/bin/promtool is not installed (Debian package prometheus)");
    return;
  }
  const auto file = dir.path() / "metrics.txt";
  write_text(file, answer.body);
  const auto command = "/usr/bin/promtool check metrics < " + file.string() + " > " + file.string() + ".out 2>&1";
  BOOST_TEST(std::system(command.c_str()) == 0, read_text(file.string() + ".out"));
  BOOST_TEST(read_text(file.string() + ".out").empty(), read_text(file.string() + ".out"));
}

BOOST_FIXTURE_TEST_CASE(the_cli_talks_to_the_daemon, running_daemon) {
  const std::map<std::string, std::string> env{{"REDUNDANCY_URL", "http://" + address},
                                               {"REDUNDANCY_TOKEN", std::string(token)}};
  auto health = run_binary({"health"}, env);
  BOOST_TEST(health.exit_code == 1, "exit " << health.exit_code << ": " << health.out << health.err);  // unhealthy
  BOOST_TEST(health.out.find("pm2") != std::string::npos);
  auto status = run_binary({"status", "--json"}, env);
  BOOST_TEST(status.exit_code == 1, status.err);  // the overall status is unhealthy
  BOOST_TEST(json::parse(status.out).at("subsystems").at("pm2").at("status").as_string() == "unhealthy");
  auto check = run_binary({"check", "pm2", "--wait"}, env);
  BOOST_TEST(check.exit_code == 0, check.out << check.err);
  auto refused = run_binary({"emergency"}, {{"REDUNDANCY_URL", "http://" + address}, {"REDUNDANCY_TOKEN", "bad"}});
  BOOST_TEST(refused.exit_code == 3);
  auto nobody = run_binary({"health"}, {{"REDUNDANCY_URL", "http://127.0.0.1:1"}});
  BOOST_TEST(nobody.exit_code == 3);
}
