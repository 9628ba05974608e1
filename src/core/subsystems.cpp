// The one place that knows every subsystem type: each enabled section of the config becomes one.
#include "redundancy/core/subsystems.hpp"

#include "redundancy/pm2/pm2_subsystem.hpp"

namespace redundancy {

std::vector<scheduled_subsystem> make_subsystems(const config& c) {
  std::vector<scheduled_subsystem> made;
  if (c.pm2.enabled)
    made.push_back({std::make_shared<pm2::pm2_subsystem>(c), check_schedule{c.pm2.interval, c.pm2.timeout}});
  return made;
}

}  // namespace redundancy
