// Builds the watched subsystems (pm2, github, netlify) that the config enables.
#pragma once
#include "redundancy/core/config.hpp"
#include "redundancy/core/scheduler.hpp"
#include "redundancy/core/subsystem.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy {

struct scheduled_subsystem {
  std::shared_ptr<subsystem> target{};
  check_schedule schedule{};
};

// Every subsystem the config enables, in the order pm2, github, netlify. Also withholds github.token_env's
// variable from every child from now on (withhold_from_children), so each caller with a config gets that
// for free.
std::vector<scheduled_subsystem> make_subsystems(const config& c);

// The names of every subsystem type, enabled or not: "pm2", "github", "netlify".
const std::vector<std::string>& subsystem_names();

// The subsystem `name` as the config sets it up; nullopt when the config disables it (or no such type).
std::optional<scheduled_subsystem> make_subsystem(const config& c, std::string_view name);

}  // namespace redundancy
