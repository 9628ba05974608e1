// Fuzz target: GitHub's workflow runs answer, parsed at the edge, then judged against a scheduled
// workflow (consecutive failures, missed cron ticks). Properties: never throws; the assessment's
// counts agree with each other.
#include "fuzz/fuzz_check.hpp"
#include "redundancy/github/monitor.hpp"

#include <boost/json/parse.hpp>

using namespace redundancy;
using namespace redundancy::github;

namespace {
const workflow& scheduled() {
  static const workflow w = parse_workflow(R"(name: nightly
on:
  schedule:
    - cron: "*/15 * * * *"
  workflow_dispatch:
jobs:
  sync:
    runs-on: ubuntu-latest
    steps:
      - run: echo sync
)",
                                           "nightly.yml");
  return w;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  const auto body = boost::json::parse(fuzz::as_text(data, size), ec);
  if (ec) return 0;
  const auto runs = parse_runs(body);
  if (!runs) {
    FUZZ_REQUIRE(!runs.error().empty());
    return 0;
  }
  FUZZ_REQUIRE(scheduled().valid());
  const workflow_observation seen{.runs = *runs, .page_full = size % 2 == 0, .state = "active"};
  const assessment_settings settings{.max_failures = 3, .now = sys_time{std::chrono::seconds{1'700'000'000}}};
  const auto verdict = assess(scheduled(), seen, settings);
  FUZZ_REQUIRE(verdict.missed_ticks == verdict.missed.size());
  FUZZ_REQUIRE(verdict.missed_ticks <= verdict.consecutive_failures);
  FUZZ_REQUIRE(!verdict.backup_wanted || verdict.state == status::unhealthy);
  return 0;
}
