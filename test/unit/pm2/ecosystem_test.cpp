// Unit tests of the ecosystem reader's output parser and of which file names PM2 treats as config.
#define BOOST_TEST_MODULE pm2_ecosystem
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/ecosystem.hpp"

using namespace redundancy::pm2;

BOOST_AUTO_TEST_CASE(parses_the_reader_output) {
  auto apps = parse_ecosystem_apps(
      "\n[{\"name\":\"api\",\"script\":\"server.js\",\"cwd\":null,\"args\":[\"--port\",\"8080\"],"
      "\"exec_mode\":\"cluster\",\"instances\":\"2\",\"max_memory_restart\":\"300M\",\"env_keys\":[\"PORT\",\"TOKEN\"]}"
      ","
      "{\"name\":\"worker\",\"script\":\"w.js\",\"args\":[],\"env_keys\":[]}]");
  BOOST_REQUIRE(apps.has_value());
  BOOST_REQUIRE_EQUAL(apps->size(), 2u);
  BOOST_TEST((*apps)[0].name == "api");
  BOOST_TEST((*apps)[0].script == "server.js");
  BOOST_TEST((*apps)[0].cwd.empty());
  BOOST_TEST((*apps)[0].args.size() == 2u);
  BOOST_TEST((*apps)[0].instances == "2");
  BOOST_TEST((*apps)[0].max_memory_restart == "300M");
  BOOST_TEST((*apps)[0].env_keys.size() == 2u);
  BOOST_TEST((*apps)[1].name == "worker");
}

BOOST_AUTO_TEST_CASE(errors_carry_a_path) {
  auto bad = parse_ecosystem_apps(R"([{"name":"a"},{"name":"b","env_keys":[1,{}]}])");
  BOOST_REQUIRE(bad.has_error());
  BOOST_TEST(bad.error() == "apps[1].env_keys[1]: expected a string");
  auto unnamed = parse_ecosystem_apps(R"([{"script":null}])");
  BOOST_REQUIRE(unnamed.has_error());
  BOOST_TEST(unnamed.error() == "apps[0].name: missing (and no script to name it after)");
  BOOST_TEST(parse_ecosystem_apps(R"([null])").error() == "apps[0]: expected an object");
  BOOST_TEST(parse_ecosystem_apps("garbage").has_error());
  BOOST_TEST(parse_ecosystem_apps(R"({"apps":[]})").error() == "reader output: expected an array");
}

BOOST_AUTO_TEST_CASE(knows_which_names_pm2_treats_as_config) {
  BOOST_TEST(pm2_treats_as_config("/srv/app/ecosystem.config.js"));
  BOOST_TEST(pm2_treats_as_config("ecosystem.config.cjs"));
  BOOST_TEST(pm2_treats_as_config("apps.json"));
  BOOST_TEST(pm2_treats_as_config("apps.yaml"));
  BOOST_TEST(pm2_treats_as_config("process.yml"));
  BOOST_TEST(!pm2_treats_as_config("/srv/app/ecosystem.pm2.cjs"));
  BOOST_TEST(!pm2_treats_as_config("ecosystem.redundancy.cjs"));
  BOOST_TEST(!pm2_treats_as_config("ecosystem.js"));
  BOOST_TEST(!pm2_treats_as_config("/x.json.d/ecosystem.js"));  // only the file's own name counts
}
