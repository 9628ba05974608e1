// The netlify subsystem end to end on temporary projects: HTTP probes against a loopback server (200,
// 500, never), three failing checks leading to a deploy through a fake `netlify` CLI, a build hook POST,
// no deploy while a syntax error exists, npm install / npm ci of a file: dependency, manual actions.
#define BOOST_TEST_MODULE netlify_subsystem
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "integration/netlify/loopback_server.hpp"
#include "redundancy/netlify/manifest.hpp"
#include "redundancy/netlify/netlify_subsystem.hpp"
#include "support/health.hpp"
#include "test_paths.hpp"
#include "unit/netlify/tree.hpp"

#include <cstdlib>

using namespace redundancy;
using namespace redundancy::netlify;
using netlify_test::loopback_server;
using netlify_test::run_on;
using netlify_test::temp_project;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const fs::path fixtures = fs::path{REDUNDANCY_SOURCE_DIR} / "test/fixtures/netlify";

config config_for(const temp_project& p) {
  config c;
  c.project_dir = p.root();
  c.state_dir = p.root() / "state";
  c.netlify.timeout = 10s;
  c.netlify.deploy_timeout = 60s;
  return c;
}

using test::target;

std::string check_state_of(const health& h, std::string_view fn, std::string_view check) {
  return std::string{target(h, fn).detail.at("checks").at(check).at("state").as_string()};
}

std::string check_reason_of(const health& h, std::string_view fn, std::string_view check) {
  return std::string{target(h, fn).detail.at("checks").at(check).at("reason").as_string()};
}

const action_step* step(const action_result& r, std::string_view prefix) {
  for (const auto& s : r.steps)
    if (s.name.starts_with(prefix)) return &s;
  return nullptr;
}

// Puts the fake netlify CLI first on PATH and the Netlify variables in the environment for one test.
struct fake_cli {
  fs::path record;
  std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  explicit fake_cli(const temp_project& p) : record{p.root() / "netlify-calls.txt"} {
    ::setenv("PATH", ((fixtures / "bin").string() + ":" + old_path).c_str(), 1);
    ::setenv("NETLIFY_FAKE_RECORD", record.c_str(), 1);
    ::setenv("NETLIFY_AUTH_TOKEN", "secret-token-123", 1);
    ::setenv("NETLIFY_SITE_ID", "site-42", 1);
  }
  ~fake_cli() {
    ::setenv("PATH", old_path.c_str(), 1);
    for (const char* n : {"NETLIFY_FAKE_RECORD", "NETLIFY_AUTH_TOKEN", "NETLIFY_SITE_ID", "NETLIFY_FAKE_EXIT"})
      ::unsetenv(n);
  }
  std::string calls(const temp_project& p) const { return p.read(record.filename()); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(disabled_without_a_functions_folder) {
  temp_project p;
  netlify_subsystem s{config_for(p)};
  asio::io_context ioc;
  const auto h = run_on(ioc, s.check());
  BOOST_TEST(to_string(h.state) == "disabled");
  BOOST_TEST(h.summary.find("does not exist") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(functions_beyond_the_cap_are_counted_and_not_checked) {
  // A folder is not bounded by the config's check: 10,003 functions would be 10,003 targets. Archives,
  // so that no node runs for them.
  temp_project p;
  const auto dir = p.root() / "netlify/functions";
  fs::create_directories(dir);
  for (int i = 0; i < 10'003; ++i) std::ofstream(dir / ("f" + std::to_string(i) + ".zip")) << "zip";
  netlify_subsystem s{config_for(p)};
  asio::io_context ioc;
  const auto h = run_on(ioc, s.check());
  const auto functions = std::count_if(h.targets.begin(), h.targets.end(), [](const target_health& t) {
    return t.detail.contains("kind") && t.detail.at("kind") == "function";
  });
  BOOST_TEST(functions == 10'000);
  BOOST_TEST(h.summary.find("; 3 more functions not checked: at most 10000 are") != std::string::npos,
             h.summary.substr(0, 500));
  BOOST_TEST(to_string(h.state) != "healthy");
}

BOOST_AUTO_TEST_CASE(healthy_tree_with_local_invocation_and_details) {
  temp_project p;
  p.function("hello.js", netlify_test::v1_ok);
  p.function("modern/index.mjs", netlify_test::v2_ok);
  auto c = config_for(p);
  c.netlify.local_invoke = {"*"};
  netlify_subsystem s{c};
  BOOST_REQUIRE(
      regenerate_manifest(p.root(), p.functions(), s.manifest_file(), std::chrono::system_clock::now()).written);
  asio::io_context ioc;
  const auto h = run_on(ioc, s.check());
  BOOST_TEST(to_string(h.state) == "healthy", h.summary);
  BOOST_TEST(h.targets.size() == 4u);  // two functions, manifest, deploy
  const auto& hello = target(h, "hello");
  BOOST_TEST(hello.detail.at("kind").as_string() == "function");
  BOOST_TEST(hello.detail.at("format").as_string() == "v1");
  BOOST_TEST(hello.detail.at("path").as_string() == "netlify/functions/hello.js");
  BOOST_TEST(check_state_of(h, "hello", "present") == "ok");
  BOOST_TEST(check_state_of(h, "hello", "syntax") == "ok");
  BOOST_TEST(check_state_of(h, "hello", "dependencies") == "ok");
  BOOST_TEST(check_state_of(h, "hello", "invoke") == "ok");
  BOOST_TEST(check_state_of(h, "hello", "probe") == "unchecked");
  BOOST_TEST(target(h, "modern").detail.at("format").as_string() == "v2");
  BOOST_TEST(target(h, "modern").detail.at("last_invocation").at("status").as_int64() == 200);
  BOOST_TEST(target(h, "manifest").detail.at("stale").as_bool() == false);
  BOOST_TEST(target(h, "deploy").detail.at("last_deploy").is_null());
  BOOST_TEST(fs::exists(p.root() / "state" / "invoke_harness.mjs"));
}

BOOST_AUTO_TEST_CASE(probes_against_200_500_and_never) {
  temp_project p;
  for (const std::string n : {"ok", "fail", "hang"}) p.function(n + ".js", netlify_test::v1_ok);
  asio::io_context ioc;
  loopback_server server{ioc};
  auto c = config_for(p);
  c.netlify.timeout = 3s;
  c.netlify.site_url = server.url();
  c.netlify.probe_paths = {{"ok", "POST /custom/ok-path"}};
  netlify_subsystem s{c};
  const auto h = run_on(ioc, s.check());
  BOOST_TEST(check_state_of(h, "ok", "probe") == "ok");
  BOOST_TEST(check_state_of(h, "fail", "probe") == "failed");
  BOOST_TEST(check_reason_of(h, "fail", "probe").ends_with("answered 500"));
  BOOST_TEST(check_state_of(h, "hang", "probe") == "failed");
  BOOST_TEST(to_string(target(h, "ok").state) == "healthy");
  BOOST_TEST(to_string(target(h, "fail").state) == "unhealthy");
  BOOST_TEST(to_string(target(h, "hang").state) == "unhealthy");
  bool saw_post = false;
  for (const auto& r : server.requests())
    if (r.method == "POST" && r.target == "/custom/ok-path") saw_post = true;
  BOOST_TEST(saw_post);
}

BOOST_AUTO_TEST_CASE(a_failing_check_then_recovery_deploys_through_the_cli) {
  temp_project p;
  p.function("ok.js", netlify_test::v1_ok);
  p.function("fail.js", netlify_test::v1_ok);
  asio::io_context ioc;
  loopback_server server{ioc};
  fake_cli cli{p};
  auto c = config_for(p);
  c.netlify.site_url = server.url();
  netlify_subsystem s{c};
  // Each failing check says so; the orchestrator's policy waits for max_failures of them (policy tests).
  auto h = run_on(ioc, s.check());
  BOOST_TEST(to_string(h.state) == "unhealthy", h.summary);  // the manifest is missing
  BOOST_TEST(to_string(target(h, "manifest").state) == "unhealthy");
  BOOST_TEST(h.summary.find("of 3") == std::string::npos, h.summary);
  BOOST_TEST(s.failures_before_recovery() == 3u);

  const auto r = run_on(ioc, s.recover(h));
  BOOST_TEST(r.ok, r.summary);
  BOOST_REQUIRE(step(r, "regenerate manifest") != nullptr);
  BOOST_TEST(step(r, "regenerate manifest")->detail.starts_with("written"));
  BOOST_REQUIRE(step(r, "deploy") != nullptr);
  BOOST_TEST(step(r, "deploy")->ok);
  const auto calls = cli.calls(p);
  BOOST_TEST(calls.find("argv:deploy --prod\n") != std::string::npos, calls);
  BOOST_TEST(calls.find("cwd:" + p.root().string() + "\n") != std::string::npos, calls);
  BOOST_TEST(calls.find("NETLIFY_AUTH_TOKEN:secret-token-123\n") != std::string::npos);
  BOOST_TEST(calls.find("NETLIFY_SITE_ID:site-42\n") != std::string::npos);
  BOOST_TEST(r.output_tail.find("Deploy is live!") != std::string::npos, r.output_tail);
  BOOST_TEST(r.output_tail.find("secret-token-123") == std::string::npos);

  // The record survives a restart of the daemon, and the rate limit holds.
  netlify_subsystem again{c};
  BOOST_REQUIRE(again.last_deploy().has_value());
  BOOST_TEST(again.last_deploy()->ok);
  const auto second = run_on(ioc, again.emergency({}));
  BOOST_REQUIRE(step(second, "deploy") != nullptr);
  BOOST_TEST(step(second, "deploy")->detail.find("next is allowed") != std::string::npos);
  BOOST_TEST(cli.calls(p) == calls);  // no second call
  h = run_on(ioc, again.check());
  BOOST_TEST(target(h, "deploy").detail.at("last_deploy").at("ok").as_bool());
  BOOST_TEST(to_string(target(h, "manifest").state) == "healthy");
}

BOOST_AUTO_TEST_CASE(failed_deploy_is_reported) {
  temp_project p;
  p.function("ok.js", netlify_test::v1_ok);
  fake_cli cli{p};
  ::setenv("NETLIFY_FAKE_EXIT", "3", 1);
  netlify_subsystem s{config_for(p)};
  asio::io_context ioc;
  const auto r = run_on(ioc, s.emergency({}));
  BOOST_TEST(!r.ok);
  BOOST_TEST(step(r, "deploy")->detail.find("exit 3") != std::string::npos, step(r, "deploy")->detail);
  const auto h = run_on(ioc, s.check());
  BOOST_TEST(to_string(target(h, "deploy").state) == "degraded");
  BOOST_TEST(to_string(h.state) == "degraded");
}

BOOST_AUTO_TEST_CASE(build_hook_post_reaches_the_server_and_the_url_stays_secret) {
  temp_project p;
  p.function("ok.js", netlify_test::v1_ok);
  asio::io_context ioc;
  loopback_server server{ioc};
  fake_cli cli{p};
  auto c = config_for(p);
  c.netlify.build_hook_url = server.url() + "/build_hooks/abc123";
  netlify_subsystem s{c};
  const auto r = run_on(ioc, s.emergency({}));
  BOOST_TEST(r.ok, r.summary);
  BOOST_REQUIRE(server.requests().size() == 1u);
  BOOST_TEST(server.requests()[0].method == "POST");
  BOOST_TEST(server.requests()[0].target == "/build_hooks/abc123");
  BOOST_TEST(step(r, "deploy")->detail == "build hook answered 200");
  for (const auto& st : r.steps) BOOST_TEST(st.detail.find("abc123") == std::string::npos);
  BOOST_TEST(r.summary.find("abc123") == std::string::npos);
  BOOST_TEST(!fs::exists(cli.record));  // the CLI was not used
  BOOST_TEST(s.last_deploy()->method == "build_hook");
}

BOOST_AUTO_TEST_CASE(no_deploy_while_a_syntax_error_exists) {
  temp_project p;
  p.function("good.js", netlify_test::v1_ok);
  p.function("bad.js", "exports.handler = async () => {\n");
  fake_cli cli{p};
  auto c = config_for(p);
  c.netlify.max_failures = 1;
  netlify_subsystem s{c};
  asio::io_context ioc;
  auto h = run_on(ioc, s.check());
  BOOST_TEST(to_string(h.state) == "unhealthy");
  BOOST_TEST(check_state_of(h, "bad", "syntax") == "failed");
  const auto r = run_on(ioc, s.recover(h));
  BOOST_TEST(!r.ok);
  BOOST_TEST(step(r, "deploy")->detail.find("not deploying while a function fails its syntax check: bad:") !=
                 std::string::npos,
             step(r, "deploy")->detail);
  BOOST_TEST(!fs::exists(cli.record));
  // Forced by a person: still refused.
  auto work = s.manual("deploy", {{"force", true}}, {});
  BOOST_REQUIRE(work.has_value());
  const auto forced = run_on(ioc, (*work)());
  BOOST_TEST(!forced.ok);
  BOOST_TEST(!fs::exists(cli.record));
}

BOOST_AUTO_TEST_CASE(missing_node_modules_is_installed_from_a_file_dependency) {
  temp_project p;
  ::setenv("npm_config_offline", "true", 1);
  ::setenv("npm_config_update_notifier", "false", 1);
  p.function("package.json", R"({"name": "fns", "version": "1.0.0", "private": true,
    "dependencies": {"redundancy-local-dep": "file:)" +
                                 (fixtures / "local-dep").string() + R"("}})");
  p.function("greet.js",
             "const { greet } = require('redundancy-local-dep');\n"
             "exports.handler = async () => ({ statusCode: 200, body: greet('x') });\n");
  auto c = config_for(p);
  c.netlify.max_failures = 1;
  c.netlify.auto_deploy = false;
  c.netlify.local_invoke = {"greet"};
  netlify_subsystem s{c};
  asio::io_context ioc;
  auto h = run_on(ioc, s.check());
  BOOST_TEST(check_state_of(h, "greet", "dependencies") == "failed");
  BOOST_TEST(check_state_of(h, "greet", "invoke") == "failed");
  auto r = run_on(ioc, s.recover(h));
  BOOST_TEST(r.ok, r.summary << "\n" << r.output_tail);
  BOOST_TEST(step(r, "npm install") != nullptr);
  BOOST_TEST(step(r, "deploy") == nullptr);  // auto_deploy off
  h = run_on(ioc, s.check());
  BOOST_TEST(to_string(h.state) == "healthy", h.summary);
  BOOST_TEST(check_state_of(h, "greet", "invoke") == "ok");

  // With the lock file npm wrote, a lost node_modules comes back through npm ci.
  BOOST_REQUIRE(fs::exists(p.functions() / "package-lock.json"));
  fs::remove_all(p.functions() / "node_modules");
  h = run_on(ioc, s.check());
  BOOST_TEST(check_reason_of(h, "greet", "dependencies") == "node_modules is missing in netlify/functions");
  r = run_on(ioc, s.recover(h));
  BOOST_TEST(r.ok, r.summary << "\n" << r.output_tail);
  BOOST_TEST(step(r, "npm ci") != nullptr);
  BOOST_TEST(fs::exists(p.functions() / "node_modules/redundancy-local-dep/package.json"));
  ::unsetenv("npm_config_offline");
  ::unsetenv("npm_config_update_notifier");
}

BOOST_AUTO_TEST_CASE(manual_regenerate_adds_a_new_function) {
  temp_project p;
  p.function("first.js", netlify_test::v1_ok);
  netlify_subsystem s{config_for(p)};
  asio::io_context ioc;
  auto work = s.manual("regenerate", {}, {});
  BOOST_REQUIRE(work.has_value());
  BOOST_TEST(run_on(ioc, (*work)()).ok);
  p.function("second.mjs", netlify_test::v2_ok);
  auto h = run_on(ioc, s.check());
  BOOST_TEST(target(h, "manifest").reason.find("second: present but not listed") != std::string::npos);
  const auto r = run_on(ioc, (*s.manual("regenerate", {}, {}))());
  BOOST_TEST(r.ok);
  BOOST_TEST(r.summary.starts_with("written with 2"), r.summary);
  const auto m = netlify_test::must(parse_manifest(p.read("netlify/functions/functions-manifest.json")));
  BOOST_TEST(m.functions.size() == 2u);
  BOOST_TEST(m.functions[1].name == "second");
  h = run_on(ioc, s.check());
  BOOST_TEST(to_string(h.state) == "healthy", h.summary);

  BOOST_TEST(!s.manual("restart", {}, {}).has_value());
  BOOST_TEST(!s.manual("deploy", {{"force", 1}}, {}).has_value());
  BOOST_TEST(!s.manual("deploy", {{"what", true}}, {}).has_value());
  BOOST_TEST(!s.manual("regenerate", {{"x", 1}}, {}).has_value());
}
