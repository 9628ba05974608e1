// `cmake --install build --prefix P`: the files land where README and the unit expect them, and the installed
// binary serves the dashboard from P/share/redundancy/web without being told where it is.
#define BOOST_TEST_MODULE install
#include <boost/test/unit_test.hpp>

#include "integration/package/programs.hpp"

using namespace redundancy::test;
namespace fs = std::filesystem;

namespace {

// One install into a temporary prefix, shared by the test cases (and removed at exit).
struct installed_prefix {
  temp_dir dir;
  fs::path prefix{dir.path() / "prefix"};
  command_result install{};

  installed_prefix() {
    install = run_command({"cmake", "--install", REDUNDANCY_BUILD_DIR, "--prefix", prefix.string()});
    if (install.exit_code != 0) throw std::runtime_error("cmake --install failed:\n" + install.output);
  }
};

const installed_prefix& installed() {
  static const installed_prefix tree;
  return tree;
}

}  // namespace

BOOST_AUTO_TEST_CASE(files_land_under_the_prefix) {
  const auto& p = installed().prefix;
  BOOST_TEST(::access((p / "bin" / "redundancy").c_str(), X_OK) == 0);
  for (const auto* file :
       {"share/redundancy/web/index.html", "share/redundancy/web/app.js", "share/redundancy/web/style.css",
        "share/redundancy/invoke_harness.mjs", "share/doc/redundancy/redundancy.example.json",
        "share/doc/redundancy/prometheus/redundancy.rules.yml", "lib/systemd/system/redundancy.service"})
    BOOST_TEST(fs::is_regular_file(p / file), file);
  const fs::path source = REDUNDANCY_SOURCE_DIR;
  BOOST_TEST(read_text(p / "share/redundancy/invoke_harness.mjs") ==
             read_text(source / "src/netlify/invoke_harness.mjs"));
  BOOST_TEST(read_text(p / "lib/systemd/system/redundancy.service") == read_text(source / "conf/redundancy.service"));
  // The conffile belongs to the package only: an install into a prefix never writes to /etc.
  BOOST_TEST(!fs::exists(p / "etc"));
  BOOST_TEST(installed().install.output.find("/etc/redundancy") == std::string::npos, installed().install.output);
}

BOOST_AUTO_TEST_CASE(installed_binary_serves_the_dashboard_from_the_prefix) {
  // A mark only the installed copy has: the answer cannot come from the source tree's web/.
  const auto index = installed().prefix / "share/redundancy/web/index.html";
  const std::string mark = "<!-- served from the install prefix -->";
  if (read_text(index).find(mark) == std::string::npos) write_text(index, read_text(index) + mark);
  const auto answer = get_from(installed().prefix / "bin" / "redundancy", "/");
  BOOST_TEST(answer.status == 200);
  BOOST_TEST(answer.header("content-type").find("text/html") != std::string::npos);
  BOOST_TEST(answer.body == read_text(index));
  BOOST_TEST(get_from(installed().prefix / "bin" / "redundancy", "/app.js").status == 200);
}

BOOST_AUTO_TEST_CASE(an_explicit_web_root_still_wins) {
  const temp_dir web;
  write_text(web.path() / "index.html", "<p>custom dashboard</p>");
  const auto answer =
      get_from(installed().prefix / "bin" / "redundancy", "/", R"(, "web_root": ")" + web.path().string() + R"(")");
  BOOST_TEST(answer.status == 200);
  BOOST_TEST(answer.body == "<p>custom dashboard</p>");
}

BOOST_AUTO_TEST_CASE(a_binary_outside_build_and_prefix_has_no_dashboard) {
  // Only the build tree's binary falls back to the source web/; a lone copy serves no dashboard (and the API still
  // works).
  const temp_dir lone;
  fs::create_directories(lone.path() / "bin");
  fs::copy_file(installed().prefix / "bin" / "redundancy", lone.path() / "bin" / "redundancy");
  const auto binary = lone.path() / "bin" / "redundancy";
  BOOST_TEST(get_from(binary, "/").status == 404);
  BOOST_TEST(get_from(binary, "/api/health").body.find("\"status\"") != std::string::npos);
}
