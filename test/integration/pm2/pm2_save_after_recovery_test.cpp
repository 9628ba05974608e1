// A repair that starts an expected app from its ecosystem file saves PM2's list (pm2.save_after_recovery),
// so that the next check does not warn "dump.pm2 lacks ..." about the subsystem's own work; the real pm2
// (build/npm) with a private PM2_HOME, read through the config reader as a project would write it.
#define BOOST_TEST_MODULE pm2_save_after_recovery
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/pm2_subsystem.hpp"
#include "support/daemon.hpp"
#include "support/health.hpp"
#include "support/pm2_sandbox.hpp"
#include "support/run.hpp"
#include "test_paths.hpp"

#include <boost/json/parse.hpp>

#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

using namespace redundancy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace redundancy {
std::ostream& operator<<(std::ostream& os, status s) { return os << to_string(s); }
}  // namespace redundancy

namespace {

using test::find_target;
using test::have_pm2;
using test::run;

// A project with ok.js whose config names ecosystem.config.js, checked every second, restarts after 100 ms.
struct sandbox : test::pm2_sandbox {
  sandbox() : test::pm2_sandbox({"ok.js"}) {}

  // `extra_pm2_keys`: more members of "pm2", each after a comma.
  config read_config(const std::string& extra_pm2_keys) const {
    return test::pm2_sandbox::read_config(
        R"("interval": "1s", "timeout": "30s", "restart_delay": "100ms", "ecosystem_files": ["ecosystem.config.js"])" +
        extra_pm2_keys);
  }
  // The names dump.pm2 holds.
  std::vector<std::string> dumped() const {
    std::vector<std::string> names;
    boost::system::error_code ec;
    auto doc = boost::json::parse(test::read_text(home / "dump.pm2"), ec);
    if (!ec && doc.is_array())
      for (const auto& v : doc.as_array())
        if (v.is_object() && v.as_object().contains("name")) names.emplace_back(v.as_object().at("name").as_string());
    return names;
  }
  bool dump_has(std::string_view name) const {
    auto names = dumped();
    return std::find(names.begin(), names.end(), name) != names.end();
  }
};

bool online(const health& h, std::string_view name) {
  auto t = find_target(h, name);
  return t && t->detail.at("status").as_string() == "online";
}

// A project whose `pm2 save` ran after `steady` was deleted: the dump lacks it, the ecosystem file has it.
void delete_steady_and_save(const sandbox& box) {
  test::write_text(box.dir / "ecosystem.config.js",
                   "module.exports = { apps: [ { name: 'steady', script: './ok.js' },"
                   " { name: 'other', script: './ok.js' } ] };\n");
  BOOST_REQUIRE(box.pm2("start ecosystem.config.js") == 0);
  BOOST_REQUIRE(box.pm2("delete steady") == 0);
  BOOST_REQUIRE(box.pm2("save") == 0);
  BOOST_REQUIRE(box.dump_has("other"));
  BOOST_REQUIRE(!box.dump_has("steady"));
}

// Checks until steady is online (a start takes a moment), at most 30 s.
health check_until_steady_online(pm2::pm2_subsystem& s) {
  health h;
  for (int i = 0; i < 120; ++i) {
    h = run(s.check());
    if (online(h, "steady")) break;
    std::this_thread::sleep_for(250ms);
  }
  return h;
}

std::string step_names(const action_result& r) {
  std::string s;
  for (const auto& st : r.steps) s += st.name + (st.ok ? " ok; " : " FAILED (" + st.detail + "); ");
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_app_started_from_its_ecosystem_file_is_saved_and_the_next_check_is_healthy) {
  if (!have_pm2()) return;
  sandbox box;
  delete_steady_and_save(box);
  pm2::pm2_subsystem pm2s(box.read_config(""));
  auto h = run(pm2s.check());
  BOOST_TEST_REQUIRE(find_target(h, "steady"));
  BOOST_TEST(find_target(h, "steady")->state == status::unhealthy);

  auto r = run(pm2s.recover(h));
  BOOST_TEST_MESSAGE(r.summary << ": " << step_names(r));
  BOOST_TEST(r.ok);
  BOOST_TEST(std::count_if(r.steps.begin(), r.steps.end(), [](const auto& s) { return s.name == "pm2 save"; }) == 1);
  BOOST_TEST(box.dump_has("steady"));
  BOOST_TEST(box.dump_has("other"));
  h = check_until_steady_online(pm2s);
  BOOST_TEST(h.state == status::healthy, h.summary);
  BOOST_TEST(h.summary.find("dump.pm2") == std::string::npos);
}

// A person's restart of one app, when it starts the app from its file, leaves no warning either.
BOOST_AUTO_TEST_CASE(a_restart_a_person_asked_for_that_starts_from_the_file_saves_too) {
  if (!have_pm2()) return;
  sandbox box;
  delete_steady_and_save(box);
  pm2::pm2_subsystem pm2s(box.read_config(""));
  run(pm2s.check());
  auto work = pm2s.manual("restart", boost::json::object{{"app", "steady"}}, {});
  BOOST_TEST_REQUIRE(work.has_value());
  auto r = run((*work)());
  BOOST_TEST_MESSAGE(r.summary << ": " << step_names(r));
  BOOST_TEST(r.ok);
  BOOST_TEST(std::count_if(r.steps.begin(), r.steps.end(), [](const auto& s) { return s.name == "pm2 save"; }) == 1);
  BOOST_TEST(box.dump_has("steady"));
  BOOST_TEST(box.dump_has("other"));
  auto h = check_until_steady_online(pm2s);
  BOOST_TEST(h.state == status::healthy, h.summary);
}

BOOST_AUTO_TEST_CASE(with_save_after_recovery_false_the_dump_is_left_to_a_person) {
  if (!have_pm2()) return;
  sandbox box;
  delete_steady_and_save(box);
  pm2::pm2_subsystem pm2s(box.read_config(R"(, "save_after_recovery": false)"));
  auto r = run(pm2s.recover(run(pm2s.check())));
  BOOST_TEST_MESSAGE(r.summary << ": " << step_names(r));
  BOOST_TEST(std::none_of(r.steps.begin(), r.steps.end(), [](const auto& s) { return s.name == "pm2 save"; }));
  auto h = check_until_steady_online(pm2s);
  BOOST_TEST(online(h, "steady"));
  BOOST_TEST(!box.dump_has("steady"));
  BOOST_TEST(h.state == status::degraded, h.summary);
  BOOST_TEST(h.summary.find("dump.pm2 lacks steady") != std::string::npos, h.summary);
}
