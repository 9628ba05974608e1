// The scripts the pm2 layer hands to node: ecosystem_reader.cjs (read_ecosystem) and
// ecosystem_writer.cjs (write_json_ecosystem), embedded at build time.
#define BOOST_TEST_MODULE pm2_embedded_js
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/embedded_js.hpp"
#include "support/embedded_js.hpp"

BOOST_AUTO_TEST_CASE(the_ecosystem_reader_is_the_file_in_src) {
  redundancy::test::check_embedded_script(redundancy::pm2::ecosystem_reader_js, "src/pm2/ecosystem_reader.cjs");
}

BOOST_AUTO_TEST_CASE(the_ecosystem_writer_is_the_file_in_src) {
  redundancy::test::check_embedded_script(redundancy::pm2::ecosystem_writer_js, "src/pm2/ecosystem_writer.cjs");
}
