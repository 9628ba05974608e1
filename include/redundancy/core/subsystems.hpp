// Builds the watched subsystems (pm2, github, netlify) that the config enables.
#pragma once
#include "redundancy/core/config.hpp"
#include "redundancy/core/scheduler.hpp"
#include "redundancy/core/subsystem.hpp"

#include <memory>
#include <vector>

namespace redundancy {

struct scheduled_subsystem {
  std::shared_ptr<subsystem> target{};
  check_schedule schedule{};
};

// One subsystem per enabled section of `c`. Also withholds github.token_env's variable from every
// child from now on (withhold_from_children), so each caller with a config gets that for free.
std::vector<scheduled_subsystem> make_subsystems(const config& c);

}  // namespace redundancy
