// Fuzz target: the `pm2 jlist` parser (banner lines, then one JSON line of apps with secrets in them).
// Properties: never throws; an error never quotes the input (it holds secrets), checked with a marker
// that an input can only bring in itself.
#include "fuzz/fuzz_check.hpp"
#include "redundancy/pm2/jlist.hpp"

#include <chrono>

using namespace redundancy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const auto parsed = pm2::parse_jlist(text);
  if (!parsed) {
    // Any string value in the input may be a secret; "SECRETX" stands for one.
    if (text.find("SECRETX") != std::string_view::npos) FUZZ_REQUIRE(parsed.error().find("SECRETX") == std::string::npos);
    return 0;
  }
  const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}};
  for (const auto& app : *parsed) {
    FUZZ_REQUIRE(app.uptime(now).count() >= 0);
    FUZZ_REQUIRE(pm2::app_status_from_string(pm2::to_string(app.status)) == app.status);
  }
  return 0;
}
