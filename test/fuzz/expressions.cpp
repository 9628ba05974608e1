// Fuzz target: GitHub expression substitution and conditions on their own, with every context filled
// and a secret. Properties: never throws; a secret handed out is remembered for masking, and masking
// removes it from the substituted text.
#include "redundancy/github/expressions.hpp"
#include "fuzz/fuzz_check.hpp"

using namespace redundancy::github;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = redundancy::fuzz::as_text(data, size);
  std::set<std::string> used;
  expression_context ctx;
  ctx.env = {{"NAME", "world"}, {"EMPTY", ""}};
  ctx.github = {{"sha", "abc123"}, {"event_name", "push"}, {"ref", "refs/heads/main"}};
  ctx.inputs = {{"mode", "full"}};
  ctx.matrix = {{"node", "20"}};
  ctx.runner = {{"os", "Linux"}};
  ctx.step_outputs = {{"prep", {{"version", "1.2"}}}};
  ctx.step_outcomes = {{"prep", "success"}};
  ctx.needs_results = {{"build", "failure"}};
  ctx.secret = [](const std::string& name) -> std::optional<std::string> {
    if (name == "TOKEN") return std::string("s3cr3t-token-value");
    return std::nullopt;
  };
  ctx.used_secrets = &used;
  ctx.job_failed = size % 2 == 1;

  if (const auto out = substitute(text, ctx)) {
    const auto masked = mask_secrets(*out, used);
    for (const auto& secret : used) FUZZ_REQUIRE(masked.find(secret) == std::string::npos);
  }
  (void)evaluate_condition(text, ctx);
  (void)uses_status_function(text);
  return 0;
}
