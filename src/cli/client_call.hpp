// Internal to the client commands: one API call as a command describes it, and the session that
// makes it and maps the answer to an exit code (client_session.cpp).
#pragma once
#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "redundancy/cli/client_commands.hpp"

namespace redundancy::cli::client_detail {

// How a command reads the answer and chooses its exit code.
enum class reply_kind {
  health,     // GET /api/health: 200 ok, 503 unhealthy
  status,     // GET /api/status: exit by the overall status
  subsystem,  // GET /api/subsystems/{name}: exit by that subsystem's status
  report,     // GET /api/report: printed as indented JSON
  events,     // GET /api/events
  action,     // POST that answers 202 {"action_id"}
  pause,      // POST /api/pause or /api/resume: 200 {"target", "paused_until"}
};

struct api_call {
  std::string method{"GET"};
  std::string path{};
  std::optional<boost::json::object> body{};
  reply_kind kind{reply_kind::status};
  std::string what{};  // for messages: "check pm2", "restart api"
};

// Resolves the daemon and the token, then runs the call on a local io_context; the exit code.
int perform(const api_call& c, const client_commands::options& o, const config& cfg, const env_lookup& env);

}  // namespace redundancy::cli::client_detail
