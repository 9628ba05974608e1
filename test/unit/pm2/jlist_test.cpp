// Unit tests of the `pm2 jlist` parser on output captured from pm2 6.0.14 and on hand-made edge cases.
#define BOOST_TEST_MODULE pm2_jlist
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/jlist.hpp"
#include "support/files.hpp"
#include "test_paths.hpp"

#include <boost/json/parse.hpp>

#include <filesystem>

using namespace redundancy::pm2;

namespace redundancy::pm2 {
std::ostream& operator<<(std::ostream& os, app_status s) { return os << to_string(s); }
}  // namespace redundancy::pm2

namespace {

std::string fixture(const std::string& name) {
  return redundancy::test::read_existing_text(std::filesystem::path(REDUNDANCY_SOURCE_DIR) / "test/fixtures/pm2" /
                                              name);
}

std::vector<app_entry> parse_ok(std::string_view text) {
  auto r = parse_jlist(text);
  BOOST_REQUIRE_MESSAGE(r.has_value(), "parse failed: " << (r.has_value() ? "" : r.error()));
  return *r;
}

std::string parse_error(std::string_view text) {
  auto r = parse_jlist(text);
  BOOST_REQUIRE_MESSAGE(r.has_error(), "expected a parse error");
  return r.error();
}

const app_entry& find(const std::vector<app_entry>& apps, std::string_view name) {
  for (const auto& a : apps)
    if (a.name == name) return a;
  BOOST_FAIL("no app " << name);
  return apps.front();
}

void check_mixed(const std::vector<app_entry>& apps) {
  BOOST_REQUIRE_EQUAL(apps.size(), 6u);
  const auto& web = find(apps, "web");
  BOOST_TEST(web.status == app_status::online);
  BOOST_TEST(web.status_text == "online");
  BOOST_TEST(web.pid > 0);
  BOOST_TEST(web.pm_id == 0);
  BOOST_TEST(web.memory_bytes > 10'000'000u);
  BOOST_TEST(web.cpu_percent >= 0.0);
  BOOST_TEST(web.exec_mode == "fork_mode");
  BOOST_TEST(web.instances == 1u);
  BOOST_TEST(web.out_log_path == "/home/deploy/.pm2/logs/web-out.log");
  BOOST_TEST(web.err_log_path == "/home/deploy/.pm2/logs/web-error.log");
  BOOST_TEST(!web.max_memory_restart.has_value());
  BOOST_TEST(web.pm_uptime_ms.has_value());

  int workers = 0;
  for (const auto& a : apps)
    if (a.name == "worker@2") {
      ++workers;
      BOOST_TEST(a.exec_mode == "cluster_mode");
      BOOST_TEST(a.instances == 2u);
      BOOST_TEST(a.status == app_status::online);
    }
  BOOST_TEST(workers == 2);

  BOOST_TEST(find(apps, "hog").max_memory_restart.value_or(0) == 314572800u);

  const auto& stopped = find(apps, "stopme");
  BOOST_TEST(stopped.status == app_status::stopped);
  BOOST_TEST(stopped.pid == 0);
  BOOST_TEST(stopped.memory_bytes == 0u);

  const auto& crashy = find(apps, "crashy");
  BOOST_TEST(crashy.status == app_status::errored);
  BOOST_TEST(crashy.pid == 0);
  BOOST_TEST(crashy.restart_time == 2u);
  BOOST_TEST(crashy.unstable_restarts == 0u);  // PM2 resets it when the app turns errored
}

}  // namespace

BOOST_AUTO_TEST_CASE(parses_captured_list) { check_mixed(parse_ok(fixture("jlist_mixed.json"))); }

BOOST_AUTO_TEST_CASE(skips_banner_and_daemon_messages_before_the_json) {
  auto text = fixture("jlist_banner_mixed.txt");
  BOOST_TEST(text.find("Spawning PM2 daemon") != std::string::npos);
  check_mixed(parse_ok(text));
  BOOST_TEST(parse_ok(fixture("jlist_banner_empty.txt")).empty());
}

BOOST_AUTO_TEST_CASE(keeps_nothing_of_the_environment) {
  auto text = fixture("jlist_mixed.json");
  BOOST_REQUIRE(text.find("fixture-secret-not-real") != std::string::npos);
  for (const auto& a : parse_ok(text))
    for (const std::string* s : {&a.name, &a.status_text, &a.out_log_path, &a.err_log_path, &a.exec_mode})
      BOOST_TEST(s->find("fixture-secret") == std::string::npos);
  BOOST_TEST(sizeof(app_entry) < 512u);  // no map of variables hides in it
}

BOOST_AUTO_TEST_CASE(tolerates_missing_fields) {
  auto apps = parse_ok(R"([{"name":"a"},{"name":"b","pm2_env":{"status":"stopped","pm_id":4},"monit":{}}])");
  BOOST_REQUIRE_EQUAL(apps.size(), 2u);
  BOOST_TEST(apps[0].pid == 0);
  BOOST_TEST(apps[0].pm_id == -1);
  BOOST_TEST(apps[0].status == app_status::other);
  BOOST_TEST(apps[0].instances == 1u);
  BOOST_TEST(apps[1].status == app_status::stopped);
  BOOST_TEST(apps[1].pm_id == 4);
  BOOST_TEST(apps[1].pid == 0);
}

BOOST_AUTO_TEST_CASE(nulls_count_as_missing_and_js_numbers_are_accepted) {
  auto apps =
      parse_ok(R"([{"name":"a","pid":12.0,"pm2_env":{"created_at":null,"pm_uptime":1.7e12,"status":"waiting restart",)"
               R"("max_memory_restart":null},"monit":{"memory":1048576,"cpu":150.5}}])");
  BOOST_TEST(apps[0].pid == 12);
  BOOST_TEST(apps[0].pm_uptime_ms.value_or(0) == 1700000000000);
  BOOST_TEST(apps[0].status == app_status::waiting_restart);
  BOOST_TEST(apps[0].cpu_percent == 150.5);
  BOOST_TEST(!apps[0].max_memory_restart.has_value());
}

BOOST_AUTO_TEST_CASE(reads_every_known_status) {
  BOOST_TEST(app_status_from_string("one-launch-status") == app_status::one_launch_status);
  BOOST_TEST(app_status_from_string("launching") == app_status::launching);
  BOOST_TEST(app_status_from_string("stopping") == app_status::stopping);
  BOOST_TEST(app_status_from_string("brand new") == app_status::other);
}

BOOST_AUTO_TEST_CASE(errors_name_the_path) {
  BOOST_TEST(parse_error(R"([{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d","pm2_env":{"status":3}}])") ==
             "[3].pm2_env.status: expected a string");
  BOOST_TEST(parse_error(R"([{"name":"a","pid":"12"}])") == "[0].pid: expected an integer");
  BOOST_TEST(parse_error(R"([{"name":"a","monit":{"memory":-5}}])") ==
             "[0].monit.memory: expected a non-negative integer");
  BOOST_TEST(parse_error(R"([{"pid":1}])") == "[0].name: missing");
  BOOST_TEST(parse_error(R"([{"name":"a","pm2_env":[]}])") == "[0].pm2_env: expected an object");
  BOOST_TEST(parse_error(R"([7])") == "[0]: expected an object");
  BOOST_TEST(parse_error(R"({"apps":[]})") == "pm2 jlist output: expected an array");
}

BOOST_AUTO_TEST_CASE(garbage_and_empty_output_are_errors_that_quote_nothing) {
  auto e = parse_error("[PM2] something\n{\"SECRET\": \"hunter2\", broken");
  BOOST_TEST(e.find("not JSON") != std::string::npos);
  BOOST_TEST(e.find("hunter2") == std::string::npos);
  BOOST_TEST(parse_error("") == "pm2 jlist printed nothing");
  BOOST_TEST(parse_error("\n\n  \n") == "pm2 jlist printed nothing");
}

BOOST_AUTO_TEST_CASE(trailing_newline_is_tolerated) { BOOST_TEST(parse_ok("noise\n[]\n").empty()); }

BOOST_AUTO_TEST_CASE(uptime_only_when_online) {
  using namespace std::chrono;
  auto apps = parse_ok(R"([{"name":"a","pm2_env":{"status":"online","pm_uptime":1000000}},)"
                       R"({"name":"b","pm2_env":{"status":"stopped","pm_uptime":1000000}}])");
  auto now = system_clock::time_point{milliseconds{1000000 + 90'500}};
  BOOST_TEST(apps[0].uptime(now).count() == 90);
  BOOST_TEST(apps[1].uptime(now).count() == 0);
  BOOST_TEST(apps[0].uptime(system_clock::time_point{milliseconds{5}}).count() == 0);  // clock behind: not negative
}

// parse_jlist streams past the environments; parse_app_list reads a whole tree (getMonitorData's). Both
// must give the same apps and the same errors, including where a full parse keeps the last of a
// repeated key or where the kept fields sit beside, inside or under containers.
BOOST_AUTO_TEST_CASE(streaming_parse_equals_the_tree_parse) {
  const std::vector<std::string> lines{
      fixture("jlist_mixed.json"),
      R"([{"name":"a","pm2_env":{"status":"online"},"pm2_env":{"status":"stopped"}}])",
      R"([{"name":"a","pm2_env":{"status":"online"},"pm2_env":"gone"}])",
      R"([{"name":"a","pm2_env":"gone","pm2_env":{"status":"errored","pm_id":3}}])",
      R"([{"name":"a","pm2_env":{"status":7,"status":"online"}}])",
      R"([{"name":"a","pm2_env":{"env":{"status":"stopped","pm_id":9},"status":"online"}}])",
      R"([{"name":"a","axm":{"name":"b","monit":{"cpu":1}},"monit":{"cpu":[1],"memory":2}}])",
      R"([{"name":"a","monit":{"cpu":{"x":1}}}])",
      R"([{"name":["a"]}])",
      R"([{"name":"a"},[{"name":"b"}],{"name":"c","pid":"x"}])",
      R"([{"name":"a"},{"name":"b","pid":"x"},7])",
      R"([{"name":"a\u00e9\"b","pm2_env":{"pm_err_log_path":"\/var\/log\/x","instances":2.0,"pmx_module":true}}])",
      R"([{"name":"a","pid":null,"pm_id":null,"pm2_env":{"pm_id":5,"max_memory_restart":1e3}}])",
      R"([{"name":"a","pid":1e30}])",
      R"([])",
      R"({"apps":[]})",
      R"("text")",
  };
  for (const auto& line : lines) {
    BOOST_TEST_CONTEXT(line) {
      const auto streamed = parse_jlist(line);
      const auto whole = parse_app_list(boost::json::parse(line), "pm2 jlist output");
      BOOST_REQUIRE_EQUAL(streamed.has_value(), whole.has_value());
      if (whole)
        BOOST_TEST((*streamed == *whole));
      else
        BOOST_TEST(streamed.error() == whole.error());
    }
  }
}

BOOST_AUTO_TEST_CASE(invalid_json_after_a_content_error_is_still_not_json) {
  BOOST_TEST(parse_error(R"([7, {"name": )").find("not JSON") != std::string::npos);
  BOOST_TEST(parse_error(R"([{"name":"a"}] trailing)").find("not JSON") != std::string::npos);
}
