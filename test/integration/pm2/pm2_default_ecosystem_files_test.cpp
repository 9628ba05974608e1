// pm2.ecosystem_files left at its default names files a project may not have: those are no warning. A
// file the config names itself stays one when it is missing. The real pm2 (build/npm) with a private
// PM2_HOME, the config read through the config reader as a project would write it.
#define BOOST_TEST_MODULE pm2_default_ecosystem_files
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/pm2_subsystem.hpp"
#include "support/daemon.hpp"
#include "support/pm2_sandbox.hpp"
#include "support/run.hpp"
#include "test_paths.hpp"

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

using test::have_pm2;
using test::run;

// A project with ok.js, checked every second, expecting one app.
struct sandbox : test::pm2_sandbox {
  sandbox() : test::pm2_sandbox({"ok.js"}) {}

  // `extra_pm2_keys`: more members of "pm2", each after a comma.
  config read_config(const std::string& extra_pm2_keys, const env_lookup& env = {}) const {
    return test::pm2_sandbox::read_config(
        R"("interval": "1s", "timeout": "30s", "processes": ["alpha"])" + extra_pm2_keys, env);
  }
};

// A daemon with the expected app and a dump that has it: nothing else for the check to warn about.
void alpha_online_and_saved(const sandbox& box) {
  BOOST_REQUIRE(box.pm2("start ok.js --name alpha") == 0);
  BOOST_REQUIRE(box.pm2("save") == 0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_default_files_absent_from_the_project_are_no_warning) {
  if (!have_pm2()) return;
  sandbox box;
  alpha_online_and_saved(box);
  const auto cfg = box.read_config("");
  BOOST_TEST_REQUIRE(cfg.pm2.ecosystem_files.size() == 2u);  // the defaults, resolved in the project
  BOOST_TEST_REQUIRE(!fs::exists(cfg.pm2.ecosystem_files.front()));
  pm2::pm2_subsystem pm2s(cfg);
  auto h = run(pm2s.check());
  BOOST_TEST(h.state == status::healthy, h.summary);
  BOOST_TEST(h.summary.find("does not exist") == std::string::npos, h.summary);
}

BOOST_AUTO_TEST_CASE(a_missing_file_the_config_names_is_a_warning_even_under_a_default_name) {
  if (!have_pm2()) return;
  sandbox box;
  alpha_online_and_saved(box);
  for (const auto* files : {R"(["ecosystem.apps.cjs"])", R"(["ecosystem.pm2.cjs", "ecosystem.redundancy.cjs"])"}) {
    BOOST_TEST_CONTEXT(files) {
      pm2::pm2_subsystem pm2s(box.read_config(std::string(R"(, "ecosystem_files": )") + files));
      auto h = run(pm2s.check());
      BOOST_TEST(h.state == status::degraded, h.summary);
      BOOST_TEST(h.summary.find("does not exist") != std::string::npos, h.summary);
    }
  }
  // Named in the environment is named too.
  pm2::pm2_subsystem pm2s(box.read_config("", {{"REDUNDANCY_PM2__ECOSYSTEM_FILES", R"(["ecosystem.pm2.cjs"])"}}));
  auto h = run(pm2s.check());
  BOOST_TEST(h.state == status::degraded, h.summary);
  BOOST_TEST(h.summary.find("ecosystem.pm2.cjs does not exist") != std::string::npos, h.summary);
}
