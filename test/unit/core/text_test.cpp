// The small text helpers: trim, and the line of a failed child's output that says what failed.
#define BOOST_TEST_MODULE core_text
#include <boost/test/unit_test.hpp>

#include "redundancy/core/text.hpp"

using namespace redundancy;

BOOST_AUTO_TEST_CASE(trim_removes_ascii_white_space_at_both_ends) {
  BOOST_TEST(trim(" \t a b \r\n") == "a b");
  BOOST_TEST(trim(" \n ").empty());
}

// Issue 25: a failing step said "exit 1: Node.js v20.20.2", the last line of Node's crash report.
BOOST_AUTO_TEST_CASE(a_node_stack_gives_its_error_line_not_the_version_it_ends_with) {
  const std::string crash =
      "/srv/app/ecosystem.config.js:3\n"
      "  throw new Error('DATABASE_URL is not set');\n"
      "  ^\n\n"
      "Error: DATABASE_URL is not set\n"
      "    at Object.<anonymous> (/srv/app/ecosystem.config.js:3:9)\n"
      "    at Module._compile (node:internal/modules/cjs/loader:1364:14)\n\n"
      "Node.js v20.20.2\n";
  BOOST_TEST(failure_line(crash) == "Error: DATABASE_URL is not set");
  BOOST_TEST(failure_line("x\nTypeError: apps is not iterable\n    at y\n") == "TypeError: apps is not iterable");
}

BOOST_AUTO_TEST_CASE(pm2_and_npm_errors_are_found_among_other_lines) {
  BOOST_TEST(failure_line("[PM2] Spawning PM2 daemon\n[PM2][ERROR] Process web not found\n[PM2] done\n") ==
             "[PM2][ERROR] Process web not found");
  BOOST_TEST(failure_line("npm WARN old\nnpm ERR! code ENOENT\nnpm ERR! more\n") == "npm ERR! code ENOENT");
}

BOOST_AUTO_TEST_CASE(without_an_error_line_the_last_meaningful_line_is_given_clipped) {
  BOOST_TEST(failure_line("starting\nstill going\n\n") == "still going");
  BOOST_TEST(failure_line("killed\nNode.js v20.20.2\n") == "killed");
  BOOST_TEST(failure_line("").empty());
  BOOST_TEST(failure_line(std::string(1000, 'x')).size() == 300u);
  BOOST_TEST(failure_line("a MyError: not a name followed by Error:") == "a MyError: not a name followed by Error:");
}
