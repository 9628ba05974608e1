// Internal to the client commands: the daemon's JSON answers as tables and text for people
// (client_render.cpp).
#pragma once
#include <boost/json/value.hpp>
#include <ostream>
#include <string>
#include <string_view>

namespace redundancy::cli::client_detail {

// A member of a JSON object, nullptr when v is no object or has no such key.
const boost::json::value* find(const boost::json::value& v, std::string_view key);
// A JSON value as a table cell: strings as they are, null or missing as "-".
std::string cell(const boost::json::value* v);
// The cell of v's member `key`.
std::string cell(const boost::json::value& v, std::string_view key);

// Indented JSON for people; Boost.JSON only prints compact text.
void pretty_print(std::ostream& os, const boost::json::value& v, int indent = 0);

// GET /api/health and GET /api/status as tables: the overall line, one row per subsystem, then
// (`detailed`, status only) each subsystem's targets and the daemon's own line.
void print_overview(std::ostream& os, const boost::json::value& v, bool detailed, bool colour);
// GET /api/subsystems/{name}: its line, then its targets.
void print_subsystem(std::ostream& os, const std::string& name, const boost::json::value& v, bool colour);
void print_events(std::ostream& os, const boost::json::value& v, bool colour);
// An action from GET /api/actions/{id}: its state, then each step and, when it failed, its output.
void print_action(std::ostream& os, const boost::json::value& a, bool colour);

}  // namespace redundancy::cli::client_detail
