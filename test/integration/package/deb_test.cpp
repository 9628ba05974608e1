// The .deb from `tools/package --no-build`: its files (dpkg-deb -c), its control data (dpkg-deb -I: runtime
// dependencies only, the conffile listed) and its tree unpacked with dpkg -x, where the binary reads the
// packaged config and serves the packaged dashboard.
#define BOOST_TEST_MODULE deb
#include <boost/test/unit_test.hpp>

#include "integration/package/programs.hpp"

#include <regex>
#include <sstream>

using namespace redundancy::test;
namespace fs = std::filesystem;
namespace utf = boost::unit_test;

namespace {

// One package built from the existing build tree (no compiling) into a temporary folder, and unpacked.
struct built_package {
  temp_dir dir;
  fs::path deb{};
  fs::path root{dir.path() / "root"};

  built_package() {
    const auto packaged = run_command({std::string(REDUNDANCY_SOURCE_DIR) + "/tools/package", "--no-build", "--output",
                                       (dir.path() / "out").string()},
                                      {{"BUILD_DIR", REDUNDANCY_BUILD_DIR}}, std::chrono::seconds(300));
    if (packaged.exit_code != 0) throw std::runtime_error("tools/package failed:\n" + packaged.output);
    // Its last line is the .deb's path.
    std::istringstream lines(packaged.output);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) deb = line;
    if (!fs::is_regular_file(deb)) throw std::runtime_error("tools/package printed no .deb:\n" + packaged.output);
    const auto unpacked = run_command({"dpkg", "-x", deb.string(), root.string()});
    if (unpacked.exit_code != 0) throw std::runtime_error("dpkg -x failed:\n" + unpacked.output);
  }
};

const built_package& package() {
  static const built_package built;
  return built;
}

// One field of `dpkg-deb -I` (e.g. "Depends"), "" when absent.
std::string control_field(const std::string& info, const std::string& name) {
  std::smatch m;
  return std::regex_search(info, m, std::regex("\n " + name + ": ([^\n]*)")) ? m[1].str() : std::string();
}

struct has_dpkg {
  boost::test_tools::assertion_result operator()(utf::test_unit_id) const {
    boost::test_tools::assertion_result found(on_path("dpkg-deb") && on_path("dpkg-shlibdeps") && on_path("cpack"));
    found.message() << "dpkg-deb, dpkg-shlibdeps or cpack missing (not a Debian system): skipping the .deb tests";
    return found;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(deb, *utf::precondition(has_dpkg()))

BOOST_AUTO_TEST_CASE(named_after_the_project_version) {
  BOOST_TEST(package().deb.filename().string().starts_with(std::string("redundancy_") + REDUNDANCY_VERSION + "_"),
             package().deb.string());
}

BOOST_AUTO_TEST_CASE(dpkg_deb_lists_the_files) {
  const auto listing = run_command({"dpkg-deb", "-c", package().deb.string()});
  BOOST_TEST(listing.exit_code == 0, listing.output);
  for (const auto* file :
       {"./usr/bin/redundancy", "./usr/share/redundancy/web/index.html", "./usr/share/redundancy/invoke_harness.mjs",
        "./usr/share/doc/redundancy/redundancy.example.json", "./usr/lib/systemd/system/redundancy.service",
        "./etc/redundancy/redundancy.json"})
    BOOST_TEST(listing.output.find(std::string(file) + "\n") != std::string::npos, file << " missing from\n"
                                                                                        << listing.output);
}

BOOST_AUTO_TEST_CASE(control_has_runtime_dependencies_only) {
  const auto info = run_command({"dpkg-deb", "-I", package().deb.string()});
  BOOST_TEST(info.exit_code == 0, info.output);
  BOOST_TEST(control_field(info.output, "Package") == "redundancy");
  BOOST_TEST(control_field(info.output, "Version") == REDUNDANCY_VERSION);
  const auto depends = control_field(info.output, "Depends");
  for (const auto* runtime :
       {"libboost-json1.81.0", "libboost-log1.81.0", "libyaml-cpp0.7", "libsqlite3-0", "libssl3", "adduser"})
    BOOST_TEST(depends.find(runtime) != std::string::npos, runtime << " not in Depends: " << depends);
  BOOST_TEST(depends.find("-dev") == std::string::npos, "a -dev package in Depends: " << depends);
  BOOST_TEST(control_field(info.output, "Recommends").find("nodejs") != std::string::npos, info.output);
}

BOOST_AUTO_TEST_CASE(the_config_is_a_conffile) {
  const auto conffiles = run_command({"dpkg-deb", "-I", package().deb.string(), "conffiles"});
  BOOST_TEST(conffiles.exit_code == 0, conffiles.output);
  BOOST_TEST(conffiles.output == "/etc/redundancy/redundancy.json\n");
  const auto postinst = run_command({"dpkg-deb", "-I", package().deb.string(), "postinst"});
  BOOST_TEST(postinst.output.find("adduser --system") != std::string::npos, postinst.output);
}

BOOST_AUTO_TEST_CASE(the_unpacked_binary_reads_the_packaged_config) {
  const auto& root = package().root;
  const auto checked = run_command({(root / "usr/bin/redundancy").string(), "--config",
                                    (root / "etc/redundancy/redundancy.json").string(), "config", "check"});
  BOOST_TEST(checked.exit_code == 0, checked.output);
  BOOST_TEST(checked.output.find("/var/lib/redundancy") != std::string::npos, checked.output);
  BOOST_TEST(checked.output.find("/var/log/redundancy") != std::string::npos, checked.output);
  BOOST_TEST(checked.output.find("/srv/project") != std::string::npos, checked.output);
}

BOOST_AUTO_TEST_CASE(the_unpacked_binary_serves_the_packaged_dashboard) {
  const auto& root = package().root;
  const auto answer = get_from(root / "usr/bin/redundancy", "/");
  BOOST_TEST(answer.status == 200);
  BOOST_TEST(answer.body == read_text(root / "usr/share/redundancy/web/index.html"));
}

BOOST_AUTO_TEST_SUITE_END()
