// The one-line summary systemd shows as the service's status (`systemctl status redundancy`).
#pragma once
#include <boost/json/object.hpp>
#include <string>

namespace redundancy::systemd {

// Built from the /api/health body: the overall status, then each subsystem's status and summary,
// e.g. "degraded: pm2 healthy (3 apps online); github degraded (1 of 4 workflows failing); netlify
// disabled (...)", with the emergency's phase and attempts and a history problem in parentheses
// after the overall status. Fields that are missing or of the wrong type are left out rather than
// guessed.
std::string status_line(const boost::json::object& health);

}  // namespace redundancy::systemd
