// Per-function checks with real node: syntax, dependencies, local invocation (v1, v2, throwing, 500,
// never settling), the embedded harness, the deploy gate and probe targets.
#define BOOST_TEST_MODULE netlify_checks
#include <boost/test/unit_test.hpp>

#include "redundancy/core/process.hpp"
#include "redundancy/core/small_file.hpp"
#include "redundancy/netlify/checks.hpp"
#include "redundancy/netlify/deploy.hpp"
#include "redundancy/netlify/invoke.hpp"
#include "redundancy/netlify/probe.hpp"
#include "test_paths.hpp"
#include "unit/netlify/tree.hpp"

#include <cstdlib>
#include <fstream>
#include <thread>

using namespace redundancy::netlify;
using netlify_test::temp_project;
using redundancy::read_small_file;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

function_entry only(const temp_project& p) {
  auto all = netlify_test::must(discover_functions(p.root(), p.functions()));
  BOOST_REQUIRE_EQUAL(all.size(), 1u);
  return all.front();
}

check_result syntax(const function_entry& f, std::optional<std::vector<std::string>> ts = std::nullopt,
                    const fs::path& project = {}) {
  return netlify_test::run<check_result>([&]() { return check_syntax(f, ts, project, 20s); });
}

invocation invoke(const temp_project& p, const function_entry& f, std::chrono::milliseconds timeout = 20s) {
  const auto harness = p.root() / "state" / "invoke_harness.mjs";
  BOOST_REQUIRE(!install_invoke_harness(harness).has_value());
  return netlify_test::run<invocation>([&]() { return invoke_function(f, harness, timeout); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(embedded_harness_is_the_shipped_file) {
  const auto file = read_small_file(fs::path{REDUNDANCY_SOURCE_DIR} / "src/netlify/invoke_harness.mjs");
  BOOST_REQUIRE(file.has_value());
  BOOST_TEST((*file == invoke_harness_source()));
  temp_project p;
  const auto target = p.root() / "state" / "invoke_harness.mjs";
  BOOST_TEST(!install_invoke_harness(target).has_value());
  BOOST_TEST((read_small_file(target) == *file));
  const auto written = fs::last_write_time(target);
  BOOST_TEST(!install_invoke_harness(target).has_value());  // unchanged: not rewritten
  BOOST_TEST((fs::last_write_time(target) == written));
}

BOOST_AUTO_TEST_CASE(syntax_ok_error_and_unchecked) {
  {
    temp_project p;
    p.function("good.js", netlify_test::v1_ok);
    BOOST_TEST(to_string(syntax(only(p)).state) == "ok");
  }
  {
    temp_project p;
    p.function("esm.mjs", netlify_test::v2_ok);
    BOOST_TEST(to_string(syntax(only(p)).state) == "ok");
  }
  {
    temp_project p;
    p.function("broken.js", "exports.handler = async () => {\n  return { statusCode: 200 \n");
    const auto r = syntax(only(p));
    BOOST_TEST(r.failed());
    BOOST_TEST(r.reason.find("SyntaxError") != std::string::npos, r.reason);
    BOOST_TEST(r.reason.find("broken.js") != std::string::npos, r.reason);
  }
  {
    temp_project p;
    p.function("typed.ts", "export const handler = async (): Promise<{statusCode: number}> => ({ statusCode: 200 });");
    const auto r = syntax(only(p));
    BOOST_TEST(to_string(r.state) == "unchecked");
    BOOST_TEST(r.reason.find("typescript_check") != std::string::npos);
    // A configured command gets the file appended and runs in the project.
    const auto ok = syntax(only(p), std::vector<std::string>{"sh", "-c", "test -f \"$0\" && test -f marker"}, p.root());
    BOOST_TEST(ok.failed());  // no marker file yet
    p.write("marker", "");
    BOOST_TEST(
        to_string(syntax(only(p), std::vector<std::string>{"sh", "-c", "test -f \"$0\" && test -f marker"}, p.root())
                      .state) == "ok");
  }
}

BOOST_AUTO_TEST_CASE(dependencies_missing_partial_and_stale) {
  temp_project p;
  p.function("f.js", netlify_test::v1_ok);
  auto f = only(p);
  BOOST_TEST(check_dependencies(f, p.functions(), p.root()).result.reason == "no package.json");
  p.function("package.json", R"({"name": "fns", "version": "1.0.0"})");
  BOOST_TEST(check_dependencies(f, p.functions(), p.root()).result.reason == "no dependencies");
  p.function("package.json", R"({"name": "fns", "version": "1.0.0", "dependencies": {"left-pad": "1.0.0"}})");
  auto d = check_dependencies(f, p.functions(), p.root());
  BOOST_TEST(d.result.failed());
  BOOST_TEST(d.result.reason == "node_modules is missing in netlify/functions");
  BOOST_TEST((d.package_dir == p.functions()));
  BOOST_TEST(!d.has_lock);
  BOOST_TEST((install_command(false) == std::vector<std::string>{"npm", "install", "--no-audit", "--no-fund"}));
  fs::create_directories(p.functions() / "node_modules");
  BOOST_TEST(check_dependencies(f, p.functions(), p.root()).result.reason ==
             "dependency left-pad is not installed in netlify/functions");
  p.function("node_modules/left-pad/package.json", "{}");
  p.function("node_modules/.package-lock.json", "{}");
  BOOST_TEST(to_string(check_dependencies(f, p.functions(), p.root()).result.state) == "ok");
  p.function("package-lock.json", "{}");
  fs::last_write_time(p.functions() / "package-lock.json",
                      fs::last_write_time(p.functions() / "node_modules/.package-lock.json") + 1h);
  d = check_dependencies(f, p.functions(), p.root());
  BOOST_TEST(d.result.reason == "node_modules is older than package-lock.json in netlify/functions");
  BOOST_TEST(d.has_lock);
  BOOST_TEST((install_command(true) == std::vector<std::string>{"npm", "ci", "--no-audit", "--no-fund"}));
}

BOOST_AUTO_TEST_CASE(dependencies_nearest_package_json_wins) {
  temp_project p;
  p.write("package.json", R"({"name": "site", "dependencies": {"a": "1"}})");
  p.function("own/index.js", netlify_test::v1_ok);
  p.function("own/package.json", R"({"name": "own"})");
  auto d = check_dependencies(only(p), p.functions(), p.root());
  BOOST_TEST((d.package_dir == p.functions() / "own"));
  BOOST_TEST(d.result.reason == "no dependencies");
  fs::remove(p.functions() / "own/package.json");
  d = check_dependencies(only(p), p.functions(), p.root());
  BOOST_TEST((d.package_dir == p.root()));  // up to the project's own package.json
  BOOST_TEST(d.result.reason == "node_modules is missing in the project");
}

BOOST_AUTO_TEST_CASE(invoke_v1_cjs_and_esm) {
  temp_project p;
  p.function("hello.js", netlify_test::v1_ok);
  auto r = invoke(p, only(p));
  BOOST_TEST(r.ok, r.error);
  BOOST_TEST((r.status == 200));
  temp_project q;
  q.function("esm.mjs",
             "export const handler = async (event) => ({ statusCode: event.httpMethod === 'GET' ? 204 : 500 });");
  r = invoke(q, only(q));
  BOOST_TEST(r.ok, r.error);
  BOOST_TEST((r.status == 204));
}

BOOST_AUTO_TEST_CASE(invoke_v2_gets_a_request) {
  temp_project p;
  p.function(
      "modern/index.mjs",
      "export default async (req, context) => new Response(req.method + ' ' + new URL(req.url).pathname,"
      " { status: req.method === 'GET' && new URL(req.url).pathname === '/.netlify/functions/modern' ? 202 : 500 });");
  const auto f = only(p);
  BOOST_TEST(to_string(f.format) == "v2");
  const auto r = invoke(p, f);
  BOOST_TEST(r.ok, r.error);
  BOOST_TEST((r.status == 202));
}

BOOST_AUTO_TEST_CASE(invoke_throwing_function_fails_with_its_error) {
  temp_project p;
  p.function("boom.mjs", "export default async () => { throw new TypeError('no database'); };");
  const auto r = invoke(p, only(p));
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error == "TypeError: no database");
  BOOST_TEST(!r.status.has_value());
}

BOOST_AUTO_TEST_CASE(invoke_500_fails_and_499_passes) {
  temp_project p;
  p.function("five.js", "exports.handler = async () => ({ statusCode: 500, body: 'down' });");
  auto r = invoke(p, only(p));
  BOOST_TEST(!r.ok);
  BOOST_TEST((r.status == 500));
  BOOST_TEST(r.error == "answered 500");
  temp_project q;
  q.function("four.js", "exports.handler = async () => ({ statusCode: 404 });");
  r = invoke(q, only(q));
  BOOST_TEST(r.ok);
  BOOST_TEST((r.status == 404));
}

BOOST_AUTO_TEST_CASE(invoke_never_settling_function_times_out) {
  temp_project p;
  p.function("never.mjs", "export default () => new Promise(() => {});");
  const auto r = invoke(p, only(p), 1500ms);
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error == "timed out after 1500 ms");
  BOOST_TEST(redundancy::running_children() == 0u);
}

BOOST_AUTO_TEST_CASE(invoke_module_that_fails_to_load) {
  temp_project p;
  p.function("needs.js",
             "const x = require('not-installed-anywhere'); exports.handler = async () => ({statusCode: 200});");
  const auto r = invoke(p, only(p));
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("not-installed-anywhere") != std::string::npos, r.error);
}

BOOST_AUTO_TEST_CASE(deploy_gate_rules) {
  using redundancy::sys_time;
  const sys_time now{std::chrono::hours{1000}};
  BOOST_TEST(gate_deploy(std::nullopt, 10min, {}, false, now).allowed);
  deploy_record last{.at = now - 3min, .ok = true};
  auto g = gate_deploy(last, 10min, {}, false, now);
  BOOST_TEST(!g.allowed);
  BOOST_TEST(g.reason.find("in 7m") != std::string::npos, g.reason);
  BOOST_TEST(gate_deploy(last, 10min, {}, true, now).allowed);  // a person may force it
  last.at = now - 11min;
  BOOST_TEST(gate_deploy(last, 10min, {}, false, now).allowed);
  g = gate_deploy(std::nullopt, 10min, {"bad: SyntaxError: x"}, true, now);
  BOOST_TEST(!g.allowed);  // not even forced
  BOOST_TEST(g.reason == "not deploying while a function fails its syntax check: bad: SyntaxError: x");
}

BOOST_AUTO_TEST_CASE(deploy_record_round_trips) {
  temp_project p;
  const deploy_record r{.at = redundancy::sys_time{std::chrono::milliseconds{1700000000123}},
                        .ok = false,
                        .method = "command",
                        .summary = "netlify deploy: exit 1",
                        .output_tail = "x\ny"};
  BOOST_TEST(!save_deploy_record(p.root() / "d.json", r).has_value());
  const auto back = load_deploy_record(p.root() / "d.json");
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((back->at == r.at));
  BOOST_TEST(back->summary == r.summary);
  BOOST_TEST(back->output_tail == r.output_tail);
  BOOST_TEST(!back->ok);
  BOOST_TEST(!load_deploy_record(p.root() / "none.json").has_value());
  BOOST_TEST(redact("token abc and abc", {"abc", ""}) == "token <redacted> and <redacted>");
}

BOOST_AUTO_TEST_CASE(probe_targets) {
  const std::map<std::string, std::string> paths{
      {"a", "/api/a"}, {"b", "POST /hooks/b"}, {"c", "https://x.test/c"}, {"d", "HEAD http://y.test/d"}};
  auto t = probe_for("hello", "https://site.test/", paths);
  BOOST_TEST(t.method == "GET");
  BOOST_TEST(t.url == "https://site.test/.netlify/functions/hello");
  t = probe_for("a", "https://site.test", paths);
  BOOST_TEST(t.url == "https://site.test/api/a");
  t = probe_for("b", "https://site.test", paths);
  BOOST_TEST(t.method == "POST");
  BOOST_TEST(t.url == "https://site.test/hooks/b");
  t = probe_for("c", "https://site.test", paths);
  BOOST_TEST(t.url == "https://x.test/c");
  t = probe_for("d", "https://site.test", paths);
  BOOST_TEST(t.method == "HEAD");
  BOOST_TEST(t.url == "http://y.test/d");
}

namespace {

std::vector<check_result> syntax_all(const std::vector<function_entry>& fs_, const fs::path& project) {
  const std::optional<std::vector<std::string>> no_typescript;  // outlives the coroutine, which keeps a reference
  return netlify_test::run<std::vector<check_result>>(
      [&]() { return check_syntax_all(fs_, no_typescript, project, 60s); });
}

// Puts a `node` first on the PATH that appends one line per run to `log`, then runs the real node;
// restores the PATH when it goes.
class counted_node {
 public:
  counted_node(const temp_project& p, fs::path log) : log_{std::move(log)}, old_{std::getenv("PATH")} {
    const auto bin = p.root() / "counting-bin";
    fs::create_directories(bin);
    p.write("counting-bin/node",
            "#!/bin/sh\necho run >> '" + log_.string() + "'\nexec " + "env PATH='" + old_ + "' node \"$@\"\n");
    fs::permissions(bin / "node", fs::perms::owner_all);
    ::setenv("PATH", (bin.string() + ":" + old_).c_str(), 1);
  }
  counted_node(const counted_node&) = delete;
  counted_node& operator=(const counted_node&) = delete;
  ~counted_node() { ::setenv("PATH", old_.c_str(), 1); }
  std::size_t runs() const {
    std::ifstream in{log_};
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

 private:
  fs::path log_;
  std::string old_;
};

}  // namespace

// The batch never disagrees with `node --check`: for files that pass, fail, or that the batch cannot
// judge (a hashbang, ESM syntax in a CommonJS file, a folder whose package.json says "module", a
// package.json that is not JSON), its verdict and reason are node --check's own.
BOOST_AUTO_TEST_CASE(syntax_all_agrees_with_node_check_file_by_file) {
  temp_project p;
  p.function("good.js", netlify_test::v1_ok);
  p.function("esm.mjs", netlify_test::v2_ok);
  p.function("common.cjs", "module.exports.handler = async () => ({ statusCode: 200 });\n");
  p.function("broken.js", "exports.handler = async () => {\n  return { statusCode: 200 \n");
  p.function("broken.mjs", "export default async () => {\n  return new Response('x'\n");
  p.function("hashbang.js", "#!/usr/bin/env node\nexports.handler = async () => ({ statusCode: 200 });\n");
  p.function("import-in-cjs.js", "import x from 'y';\nexports.handler = async () => x;\n");
  p.function("toplevel-return.js", "if (!process) return;\nexports.handler = async () => ({ statusCode: 200 });\n");
  p.function("esmfolder/package.json", R"({"type": "module"})");
  p.function("esmfolder/index.js", netlify_test::v2_ok);
  p.function("esmreturn/package.json", R"({"type": "module"})");
  p.function("esmreturn/index.js", "return 1;\n");
  p.function("badpkg/package.json", "{ not json");
  p.function("badpkg/index.js", netlify_test::v1_ok);
  p.function("typed.ts", "export const handler = async (): Promise<number> => 1;\n");
  const auto all = netlify_test::must(discover_functions(p.root(), p.functions()));
  BOOST_REQUIRE_GE(all.size(), 10u);  // Netlify may skip a folder it does not take for a function
  const auto batch = syntax_all(all, p.root());
  BOOST_REQUIRE_EQUAL(batch.size(), all.size());
  std::size_t failed = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto one = syntax(all[i], std::nullopt, p.root());
    BOOST_TEST(to_string(batch[i].state) == to_string(one.state), all[i].relative_path);
    BOOST_TEST(batch[i].reason == one.reason, all[i].relative_path);
    failed += one.failed() ? 1 : 0;
  }
  BOOST_TEST(failed >= 3u);  // broken.js, broken.mjs, import-in-cjs.js at least: the cases are real
}

// 250 functions cost 2 node processes (200 per batch), plus one `node --check` per file that fails.
BOOST_AUTO_TEST_CASE(syntax_all_runs_one_node_per_200_files) {
  temp_project p;
  for (int i = 0; i < 250; ++i)
    p.function("f" + std::to_string(i) + (i % 2 ? ".mjs" : ".js"), i % 2 ? netlify_test::v2_ok : netlify_test::v1_ok);
  p.function("zz-broken.js", "exports.handler = (\n");
  const auto all = netlify_test::must(discover_functions(p.root(), p.functions()));
  BOOST_REQUIRE_EQUAL(all.size(), 251u);
  counted_node node{p, p.root() / "node-runs.log"};
  const auto results = syntax_all(all, p.root());
  std::size_t ok = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].name == "zz-broken") {
      BOOST_TEST(results[i].failed());
      BOOST_TEST(results[i].reason.find("SyntaxError") != std::string::npos, results[i].reason);
    } else {
      ok += results[i].state == check_state::ok ? 1 : 0;
    }
  }
  BOOST_TEST(ok == 250u);
  BOOST_TEST(node.runs() == 3u);  // two batches, and node --check for the broken one
}
