// `redundancy check --once [SUBSYSTEM]`: the checks run in this process, without a daemon (for cron).
#pragma once
#include "redundancy/core/config.hpp"

#include <string>

namespace redundancy::cli {

// Runs each enabled subsystem's check once (or only `subsystem`), prints the table (or JSON), and
// returns 0 when every one is healthy, degraded or disabled, 1 otherwise, 2 for an unknown subsystem.
int check_once(const config& c, const std::string& subsystem, bool json);

}  // namespace redundancy::cli
