// The text helpers of the HTTP layer: percent decoding and the UTF-8 check that guards request targets.
#define BOOST_TEST_MODULE http_message
#include <boost/test/unit_test.hpp>

#include "redundancy/http/message.hpp"

using namespace redundancy::http;
using namespace std::string_view_literals;

BOOST_AUTO_TEST_CASE(valid_utf8_is_accepted) {
  for (const auto text : {""sv, "plain ascii"sv, "caf\xc3\xa9"sv, "\xe2\x82\xac"sv, "\xf0\x9f\x98\x80"sv,
                          "\xf4\x8f\xbf\xbf"sv /* U+10FFFF */, "\xed\x9f\xbf"sv /* U+D7FF */, "a\0b"sv})
    BOOST_TEST(is_valid_utf8(text));
}

BOOST_AUTO_TEST_CASE(malformed_utf8_is_refused) {
  for (const auto text : {"\x80"sv,                  // a continuation byte alone
                          "\xc3"sv,                  // truncated
                          "\xe2\x82"sv,              // truncated
                          "\xc3\x28"sv,              // a lead byte without its continuation
                          "\xc0\xaf"sv,              // overlong '/'
                          "\xe0\x80\xaf"sv,          // overlong '/'
                          "\xf0\x80\x80\xaf"sv,      // overlong '/'
                          "\xed\xa0\x80"sv,          // U+D800, a surrogate
                          "\xf4\x90\x80\x80"sv,      // above U+10FFFF
                          "\xf8\x88\x80\x80\x80"sv,  // a five-byte form
                          "\xff"sv, "ok\xfe"sv})
    BOOST_TEST(!is_valid_utf8(text));
}

BOOST_AUTO_TEST_CASE(percent_decoding) {
  BOOST_TEST(*percent_decode("/a%20b+c") == "/a b+c");
  BOOST_TEST(*percent_decode("a+b", true) == "a b");
  BOOST_TEST(*percent_decode("%ff%00") == std::string("\xff\0", 2));
  BOOST_TEST(!percent_decode("%").has_value());
  BOOST_TEST(!percent_decode("%4").has_value());
  BOOST_TEST(!percent_decode("%zz").has_value());
}
