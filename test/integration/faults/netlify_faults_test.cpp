// Fault matrix, Netlify rows, against the real binary: a deploy command that hangs past its timeout
// (the fake tool), and `node` missing from PATH. The deploy is ended with its whole process group and
// recorded as failed, the next deploy works; a missing node is named in /api/health and is never
// taken for a broken function (no recovery, no deploy), and the checks pass once node is back.
#define BOOST_TEST_MODULE faults_netlify
#include <boost/test/unit_test.hpp>

#include "fault_project.hpp"

using namespace redundancy::test;

namespace {

constexpr std::string_view hello_js =
    "exports.handler = async (event) => ({ statusCode: 200, body: 'hello ' + event.httpMethod });\n";

// Where this machine's node is (the test's own PATH; the daemon's is emptied).
fs::path node_on_path() {
  std::istringstream dirs(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin");
  for (std::string d; std::getline(dirs, d, ':');)
    if (!d.empty() && ::access((fs::path(d) / "node").c_str(), X_OK) == 0) return fs::path(d) / "node";
  return "/usr/bin/node";
}

struct netlify_project : fault_project {
  netlify_project() { write_text(dir.path() / "netlify/functions/hello.js", hello_js); }

  void configure_netlify(const std::string& netlify_json) {
    configure(R"("netlify": )" + netlify_json + R"(,
                 "orchestrator": { "interval": "300ms" },
                 "pm2": { "enabled": false }, "github": { "enabled": false })");
  }

  // Posts an action and waits for its end; returns the finished action.
  json::object act(const std::string& path) {
    auto posted = http_post(address, path, "{}", std::string(fault_token));
    BOOST_TEST_REQUIRE(posted.status == 202, path << ": " << posted.body);
    const auto id = json::parse(posted.body).at("action_id").as_int64();
    json::object action;
    BOOST_REQUIRE(wait_for([&] {
      action = get("/api/actions/" + std::to_string(id)).as_object();
      return action.at("finished_at").is_string();
    }));
    return action;
  }

  json::object target(const std::string& name) {
    const auto status = get("/api/status");
    for (const auto& t : status.at("subsystems").at("netlify").at("targets").as_array())
      if (t.at("name").as_string() == name) return t.as_object();
    BOOST_FAIL("no netlify target " + name);
    return {};
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(deploy_that_hangs_past_its_timeout_is_ended_and_recorded_as_failed) {
  netlify_project p;
  p.configure_netlify(R"({ "interval": "500ms", "timeout": "10s", "auto_deploy": false,
                           "deploy_timeout": "2s", "min_deploy_interval": "0s",
                           "deploy_command": [")" +
                      p.fake_tool() + R"(", ")" + p.tool.string() + R"(", "deploy", "--prod"] })");
  p.start();
  BOOST_TEST_REQUIRE(p.act("/api/netlify/regenerate").at("state").as_string() == "succeeded");
  BOOST_TEST_REQUIRE(p.wait_status("netlify", "healthy"));

  p.mode("hang");
  const auto started = std::chrono::steady_clock::now();
  auto posted = http_post(p.address, "/api/netlify/deploy", "{}", std::string(fault_token));
  BOOST_TEST_REQUIRE(posted.status == 202, posted.body);
  const auto id = json::parse(posted.body).at("action_id").as_int64();
  // While the deploy hangs, the daemon answers and shows it running.
  BOOST_REQUIRE(wait_for([&] { return !live_pids_in(p.tool / "pids").empty(); }, 20s));
  const auto during = http_get(p.address, "/api/health");
  BOOST_TEST(during.status == 200);
  BOOST_TEST(p.get("/api/status").at("subsystems").at("netlify").at("running_action").as_int64() == id);
  json::object action;
  BOOST_REQUIRE(wait_for([&] {
    action = p.get("/api/actions/" + std::to_string(id)).as_object();
    return action.at("finished_at").is_string();
  }));
  const auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(action.at("state").as_string() == "failed");
  const std::string summary = json::serialize(action);
  BOOST_TEST(summary.find("after timeout 2s") != std::string::npos, summary);
  BOOST_TEST((took < 30s));
  // Its grandchild too: the deploy's whole process group is gone.
  p.check_tool_children_gone();
  BOOST_TEST(p.wait_status("netlify", "degraded", "the last deploy failed"));
  BOOST_TEST(p.target("deploy").at("reason").as_string().find("after timeout 2s") != json::string::npos);

  p.mode("ok");
  BOOST_TEST(p.act("/api/netlify/deploy").at("state").as_string() == "succeeded");
  BOOST_TEST(p.wait_status("netlify", "healthy"));
  BOOST_TEST(p.has_event("action_finished", "deploy failed"));
  BOOST_TEST(p.has_event("action_finished", "deploy succeeded"));
  p.stop();
  p.check_events_all_stored();
}

BOOST_AUTO_TEST_CASE(node_missing_is_named_and_never_taken_for_a_broken_function) {
  netlify_project p;
  temp_dir bin;  // the daemon's whole PATH: empty until node is put there
  p.env["PATH"] = bin.path().string();
  p.configure_netlify(R"({ "interval": "500ms", "timeout": "10s", "max_failures": 1, "local_invoke": ["hello"],
                           "deploy_command": [")" +
                      p.fake_tool() + R"(", ")" + p.tool.string() + R"(", "deploy"] })");
  p.start();
  p.act("/api/netlify/regenerate");
  BOOST_TEST_REQUIRE(p.wait_status("netlify", "degraded", "node: not found on PATH"));
  const auto health = p.health_answer();
  BOOST_TEST(health.status == 200);
  const auto hello = p.target("hello");
  BOOST_TEST(hello.at("status").as_string() == "unknown");
  BOOST_TEST(hello.at("reason").as_string().find("node") != json::string::npos);
  // Several checks later no new recovery and no new deploy: the functions are not known to be broken.
  // (A recovery before this point is the missing manifest's, at the start, not node's.)
  const auto auto_actions = [&] {
    const auto actions = p.get("/api/actions?subsystem=netlify");  // kept: the loop reads into it
    std::size_t n = 0;
    for (const auto& a : actions.at("actions").as_array()) n += a.at("requested_by").as_string() == "auto" ? 1 : 0;
    return n;
  };
  const auto actions_before = auto_actions();
  const auto calls_before = read_text(p.tool / "calls");
  std::this_thread::sleep_for(3s);
  BOOST_TEST(p.subsystem_status("netlify") == "degraded");
  BOOST_TEST(auto_actions() == actions_before);
  BOOST_TEST(read_text(p.tool / "calls") == calls_before);

  fs::create_symlink(node_on_path(), bin.path() / "node");
  BOOST_TEST_REQUIRE(p.wait_status("netlify", "healthy"));
  BOOST_TEST(p.target("hello").at("checks").at("invoke").at("state").as_string() == "ok");
  BOOST_TEST(p.has_event("status_changed", "netlify is degraded"));
  BOOST_TEST(p.has_event("status_changed", "netlify is healthy"));
  p.stop();
  p.check_events_all_stored();
}
