// The script the pm2 layer hands to node: ecosystem_apps.cjs (read_ecosystem and write_json_ecosystem),
// embedded at build time.
#define BOOST_TEST_MODULE pm2_embedded_js
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/embedded_js.hpp"
#include "support/embedded_js.hpp"

BOOST_AUTO_TEST_CASE(the_ecosystem_script_is_the_file_in_src) {
  redundancy::test::check_embedded_script(redundancy::pm2::ecosystem_apps_js, "src/pm2/ecosystem_apps.cjs");
}
