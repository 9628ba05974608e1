// The one place that knows every subsystem type: each enabled section of the config becomes one.
#include "redundancy/core/subsystems.hpp"

#include "redundancy/netlify/netlify_subsystem.hpp"

namespace redundancy {

std::vector<scheduled_subsystem> make_subsystems(const config& c) {
  std::vector<scheduled_subsystem> made;
  if (c.netlify.enabled)
    made.push_back({std::make_shared<netlify::netlify_subsystem>(c), check_schedule{c.netlify.interval, c.netlify.timeout}});
  return made;
}

}  // namespace redundancy
