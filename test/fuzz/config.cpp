// Fuzz target: the config parser (JSON with comments and trailing commas, durations, every section).
// Properties: parse_config never throws; an error names the source; an accepted config's redacted JSON
// never holds a secret it was given.
#include "fuzz/fuzz_check.hpp"
#include "redundancy/core/config.hpp"

#include <boost/json/serialize.hpp>

using namespace redundancy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  // One override, so the env path is exercised too; a fixed one keeps inputs reproducible.
  const env_lookup env{{"REDUNDANCY_PM2__INTERVAL", "10s"}};
  const auto parsed = parse_config(text, "fuzz.json", env);
  if (!parsed) {
    FUZZ_REQUIRE(parsed.error().starts_with("fuzz.json"));
    return 0;
  }
  const auto shown = boost::json::serialize(to_redacted_json(*parsed));
  auto never_shown = [&](const std::string& secret) {
    if (secret.size() >= 8) FUZZ_REQUIRE(shown.find(secret) == std::string::npos);
  };
  for (const auto& hook : parsed->notify.webhooks) {
    never_shown(hook.url);
    if (hook.secret) never_shown(*hook.secret);
    for (const auto& [name, value] : hook.headers) never_shown(value);
  }
  if (parsed->netlify.build_hook_url && parsed->netlify.build_hook_url->size() >= 8)
    FUZZ_REQUIRE(shown.find(*parsed->netlify.build_hook_url) == std::string::npos);
  return 0;
}
