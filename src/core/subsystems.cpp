// The one place that knows every subsystem type: each enabled section of the config becomes one.
#include "redundancy/core/subsystems.hpp"

#include "redundancy/github/subsystem.hpp"

namespace redundancy {

std::vector<scheduled_subsystem> make_subsystems(const config& c) {
  std::vector<scheduled_subsystem> made;
  if (c.github.enabled)
    made.push_back({std::make_shared<github::github_subsystem>(c),
                    check_schedule{c.github.interval, c.github.timeout}});
  return made;
}

}  // namespace redundancy
