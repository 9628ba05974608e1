// Fuzz target: the config parser (JSON with comments and trailing commas, durations, every section).
// Properties: parse_config never throws; an error names the source; an accepted config's redacted JSON
// never holds a secret it was given; its durations are within the 10-year ceiling and its thresholds
// from 1 to 100.
#include "redundancy/core/config.hpp"
#include "fuzz/fuzz_check.hpp"
#include "redundancy/core/duration.hpp"
#include "redundancy/core/limits.hpp"

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
  const auto& c = *parsed;
  for (const auto d : {c.pm2.interval,
                       c.pm2.timeout,
                       c.pm2.restart_delay,
                       c.github.interval,
                       c.github.timeout,
                       c.github.schedule_grace,
                       c.github.local_execution.timeout,
                       c.netlify.interval,
                       c.netlify.timeout,
                       c.netlify.deploy_timeout,
                       c.netlify.min_deploy_interval,
                       c.orchestrator.interval,
                       c.orchestrator.report_interval,
                       c.orchestrator.attempt_reset,
                       c.orchestrator.retention,
                       c.notify.repeat_every,
                       c.notify.retry_delay,
                       c.notify.give_up_after,
                       c.notify.timeout,
                       c.notify.group_window})
    FUZZ_REQUIRE(d.count() >= 0 && d <= max_duration);
  FUZZ_REQUIRE(c.pm2.memory_threshold_pct >= 1 && c.pm2.memory_threshold_pct <= 100);
  FUZZ_REQUIRE(c.pm2.cpu_threshold_pct >= 1 && c.pm2.cpu_threshold_pct <= 100);
  FUZZ_REQUIRE(c.pm2.processes.size() <= max_targets && c.github.workflows.size() <= max_targets);
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
