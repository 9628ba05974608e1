// The one place that knows every subsystem type: each enabled section of the config becomes one.
#include "redundancy/core/subsystems.hpp"

#include "redundancy/core/process.hpp"

#include "redundancy/github/subsystem.hpp"
#include "redundancy/netlify/netlify_subsystem.hpp"
#include "redundancy/pm2/pm2_subsystem.hpp"

namespace redundancy {
namespace {

// A subsystem bounds each tool it runs by its own `timeout`; the scheduler's bound on the whole check
// is looser, so it only cuts a check that is stuck between tools, never one tool's own timeout.
constexpr std::chrono::seconds check_margin{10};

check_schedule schedule(std::chrono::milliseconds interval, std::chrono::milliseconds timeout) {
  return {.interval = interval, .timeout = timeout + check_margin};
}

}  // namespace

std::vector<scheduled_subsystem> make_subsystems(const config& c) {
  // Whatever kind of child a subsystem starts, the GitHub token's variable is not among what it
  // inherits (the local runner gives it to the steps that ask for it); set again on every reload.
  withhold_from_children({c.github.token_env});
  std::vector<scheduled_subsystem> made;
  if (c.pm2.enabled)
    made.push_back({std::make_shared<pm2::pm2_subsystem>(c), schedule(c.pm2.interval, c.pm2.timeout)});
  if (c.github.enabled)
    made.push_back({std::make_shared<github::github_subsystem>(c), schedule(c.github.interval, c.github.timeout)});
  if (c.netlify.enabled)
    made.push_back({std::make_shared<netlify::netlify_subsystem>(c), schedule(c.netlify.interval, c.netlify.timeout)});
  return made;
}

}  // namespace redundancy
