// The script the netlify layer hands to node: batch_check.cjs (check_syntax_all), embedded at build time.
#define BOOST_TEST_MODULE netlify_embedded_js
#include <boost/test/unit_test.hpp>

#include "redundancy/netlify/embedded_js.hpp"
#include "support/embedded_js.hpp"

BOOST_AUTO_TEST_CASE(the_batch_check_is_the_file_in_src) {
  redundancy::test::check_embedded_script(redundancy::netlify::batch_check_js, "src/netlify/batch_check.cjs");
}
