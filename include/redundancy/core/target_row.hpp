// A target as the API and `check --once` show it.
#pragma once
#include "redundancy/core/health.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace redundancy {

// The target's details, then name, our verdict as `status` and the reason; a status of the domain's
// own (PM2's "online") stays visible as `<subsystem>_status`.
boost::json::object target_row(const target_health& t, std::string_view subsystem);

}  // namespace redundancy
