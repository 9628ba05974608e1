// Masking secrets: every occurrence, the longest first, nothing for empty values.
#define BOOST_TEST_MODULE secret_mask
#include "redundancy/core/secret_mask.hpp"

#include <boost/test/unit_test.hpp>

using redundancy::secret_mask;

BOOST_AUTO_TEST_CASE(every_occurrence_is_masked_the_longest_secret_first) {
  secret_mask mask;
  // "abc" inside "xabcx": were "abc" masked first, "x***x" would be left for the longer one to miss.
  mask.set({"abc", "", "xabcx", "abc"});
  BOOST_TEST(mask.apply("xabcx and abc and abcabc") == "*** and *** and ******");
  BOOST_TEST(mask.apply("nothing here") == "nothing here");
  BOOST_TEST(mask.apply("") == "");
}

BOOST_AUTO_TEST_CASE(a_secret_that_holds_the_mask_is_not_masked_forever) {
  secret_mask mask;
  mask.set({"*"});
  BOOST_TEST(mask.apply("a*b") == "a***b");
}

BOOST_AUTO_TEST_CASE(set_replaces_the_secrets) {
  secret_mask mask;
  mask.set({"old-token"});
  mask.set({"new-token"});
  BOOST_TEST(mask.apply("old-token new-token") == "old-token ***");
}
