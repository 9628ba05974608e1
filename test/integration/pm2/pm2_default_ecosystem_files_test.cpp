// pm2.ecosystem_files left at its default names files a project may not have: those are no warning. A
// file the config names itself stays one when it is missing. The real pm2 (build/npm) with a private
// PM2_HOME, the config read through the config reader as a project would write it.
#define BOOST_TEST_MODULE pm2_default_ecosystem_files
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/pm2_subsystem.hpp"
#include "support/daemon.hpp"
#include "support/proc.hpp"
#include "test_paths.hpp"

#include <boost/asio/use_future.hpp>

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

const std::string pm2_bin = REDUNDANCY_BUILD_DIR "/npm/node_modules/.bin/pm2";
const fs::path apps_dir = fs::path(REDUNDANCY_SOURCE_DIR) / "test/fixtures/pm2/apps";

bool have_pm2() {
  if (fs::exists(pm2_bin)) return true;
  BOOST_TEST_MESSAGE("SKIPPED: no pm2 at " << pm2_bin << " (run tools/bootstrap)");
  return false;
}

int pid_in(const fs::path& file) {
  std::ifstream in(file);
  int pid = 0;
  in >> pid;
  return pid;
}
// A zombie is dead: the daemon's pm2 children re-parent to whoever reaps orphans, which may be slow to.
bool alive(int pid) { return pid > 0 && redundancy::test::pid_exists(pid) && !redundancy::test::is_zombie(pid); }

template <typename T>
T run(awaitable<T> task) {
  asio::io_context io;
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  io.run();
  return future.get();
}

// A project folder and a private PM2_HOME under /tmp (short: sun_path); the daemon is killed at the end.
struct sandbox {
  fs::path home, dir;
  sandbox() {
    char h[] = "/tmp/rp2u-XXXXXX";
    char d[] = "/tmp/rp2v-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(h) && ::mkdtemp(d));
    home = h;
    dir = d;
    fs::copy_file(apps_dir / "ok.js", dir / "ok.js");
  }
  ~sandbox() {
    int daemon = pid_in(home / "pm2.pid");
    if (alive(daemon)) pm2("kill");
    if (alive(daemon)) ::kill(daemon, SIGKILL);
    std::error_code ec;
    fs::remove_all(home, ec);
    fs::remove_all(dir, ec);
  }
  int pm2(const std::string& args) const {
    std::string cmd = "cd '" + dir.string() + "' && PM2_HOME='" + home.string() + "' PM2_SILENT=true timeout 120 '" +
                      pm2_bin + "' " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str());
  }
  config read_config(const std::string& extra_pm2_keys, const env_lookup& env = {}) const {
    auto parsed = parse_config(R"({
      "project_dir": ")" + dir.string() +
                                   R"(", "state_dir": "state",
      "pm2": {"command": ")" + pm2_bin +
                                   R"(", "home": ")" + home.string() + R"(", "interval": "1s",
              "timeout": "30s", "processes": ["alpha"])" +
                                   extra_pm2_keys + R"(}
    })",
                               (dir / "redundancy.json").string(), env);
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), (parsed ? "" : parsed.error()));
    return *parsed;
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
