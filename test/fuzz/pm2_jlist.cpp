// Fuzz target: the `pm2 jlist` parser (banner lines, then one JSON line of apps with secrets in them).
// Properties: never throws; an error never quotes the input (it holds secrets), checked with a marker
// that an input can only bring in itself; the streaming parse gives what parse_app_list gives on the
// same line parsed as a whole tree (the same apps or the same error).
#include "fuzz/fuzz_check.hpp"
#include "redundancy/pm2/jlist.hpp"

#include <boost/json/parse.hpp>

#include <chrono>

namespace {

// The line parse_jlist reads: the last one that holds anything.
std::string_view last_line(std::string_view text) {
  while (!text.empty() && std::string_view(" \t\r\n").find(text.back()) != std::string_view::npos)
    text.remove_suffix(1);
  const auto nl = text.rfind('\n');
  return nl == std::string_view::npos ? text : text.substr(nl + 1);
}

}  // namespace

using namespace redundancy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const auto parsed = pm2::parse_jlist(text);
  boost::system::error_code ec;
  const auto line = last_line(text);
  const auto tree = boost::json::parse(line, ec);
  if (!line.empty() && !ec) {
    const auto whole = pm2::parse_app_list(tree, "pm2 jlist output");
    FUZZ_REQUIRE(parsed.has_value() == whole.has_value());
    FUZZ_REQUIRE(parsed.has_value() ? *parsed == *whole : parsed.error() == whole.error());
  } else {
    FUZZ_REQUIRE(!parsed);
  }
  if (!parsed) {
    // Any string value in the input may be a secret; "SECRETX" stands for one.
    if (text.find("SECRETX") != std::string_view::npos)
      FUZZ_REQUIRE(parsed.error().find("SECRETX") == std::string::npos);
    return 0;
  }
  const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}};
  for (const auto& app : *parsed) {
    FUZZ_REQUIRE(app.uptime(now).count() >= 0);
    FUZZ_REQUIRE(pm2::app_status_from_string(pm2::to_string(app.status)) == app.status);
  }
  return 0;
}
