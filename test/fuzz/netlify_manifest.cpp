// Fuzz target: the functions manifest parser. Properties: never throws; what it accepts renders and
// parses back to the same functions; stale detection runs on anything it accepts.
#include "fuzz/fuzz_check.hpp"
#include "redundancy/netlify/manifest.hpp"

using namespace redundancy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = netlify::parse_manifest(fuzz::as_text(data, size));
  if (!parsed) return 0;
  const auto text = netlify::render_manifest(parsed->functions, sys_time{std::chrono::seconds{1'700'000'000}});
  const auto again = netlify::parse_manifest(text);
  FUZZ_REQUIRE(again.has_value());
  FUZZ_REQUIRE(again->functions == parsed->functions);
  (void)netlify::manifest_problems(*parsed, {}, "/nonexistent/redundancy-fuzz");
  return 0;
}
