// How much one daemon watches: the cap on each subsystem's targets.
#pragma once
#include <cstddef>

namespace redundancy {

// The most targets one subsystem watches: PM2 apps, workflows, functions (the design scale is 100
// apps, 50 workflows and 200 functions). A config that lists more is refused; more found at run
// time (ecosystem files, workflow and functions folders) are counted in a warning and not watched.
inline constexpr std::size_t max_targets = 10'000;

}  // namespace redundancy
