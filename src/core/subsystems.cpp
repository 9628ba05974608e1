// The one place that knows every subsystem type: each enabled section of the config becomes one.
#include "redundancy/core/subsystems.hpp"

namespace redundancy {

std::vector<scheduled_subsystem> make_subsystems(const config& c) {
  std::vector<scheduled_subsystem> made;
  (void)c;
  return made;
}

}  // namespace redundancy
