// The one place that knows every subsystem type: each enabled section of the config becomes one.
#include "redundancy/app/subsystems.hpp"

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

const std::vector<std::string>& subsystem_names() {
  static const std::vector<std::string> names{"pm2", "github", "netlify"};
  return names;
}

std::optional<scheduled_subsystem> make_subsystem(const config& c, std::string_view name) {
  if (name == "pm2" && c.pm2.enabled)
    return scheduled_subsystem{std::make_shared<pm2::pm2_subsystem>(c), schedule(c.pm2.interval, c.pm2.timeout)};
  if (name == "github" && c.github.enabled)
    return scheduled_subsystem{std::make_shared<github::github_subsystem>(c),
                               schedule(c.github.interval, c.github.timeout)};
  if (name == "netlify" && c.netlify.enabled)
    return scheduled_subsystem{std::make_shared<netlify::netlify_subsystem>(c),
                               schedule(c.netlify.interval, c.netlify.timeout)};
  return std::nullopt;
}

std::vector<scheduled_subsystem> make_subsystems(const config& c) {
  // Whatever kind of child a subsystem starts, the GitHub token's variable is not among what it
  // inherits (the local runner gives it to the steps that ask for it); set again on every reload.
  withhold_from_children({c.github.token_env});
  std::vector<scheduled_subsystem> made;
  for (const auto& name : subsystem_names())
    if (auto one = make_subsystem(c, name)) made.push_back(std::move(*one));
  return made;
}

}  // namespace redundancy
