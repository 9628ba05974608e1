// Internal to the config loader: the pieces config.cpp joins (mapping, environment overrides, JSON
// output).
#pragma once
#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <vector>

#include "redundancy/core/config.hpp"

namespace redundancy::config_detail {

// Error messages without the source prefix, one per problem ("pm2.interval: expected ...").
using error_list = std::vector<std::string>;

// JSON path ("github.local_execution.timeout") -> the environment variable that set it.
using override_origins = std::map<std::string, std::string>;

// Sets every REDUNDANCY_<SECTION>__<KEY> variable of env on root (creating sections as needed) so
// that the mapper validates overrides like file values. A variable naming no config key is an
// error.
override_origins apply_env_overrides(boost::json::object& root, const env_lookup& env, error_list& errors);

// Appends "<where>line 7: pm2.interval given twice (first on line 3)" for each key that text (JSON
// that has parsed, comments and trailing commas allowed) repeats within one object; root_path is
// the path of text's top-level value ("" for the file).
void find_duplicate_keys(std::string_view text, std::string_view where, const std::string& root_path,
                         error_list& errors);

// Reads root into c: keys absent keep c's values, every present value is type- and range-checked.
// Errors name the JSON path, and the variable when an override set it.
void map_config(const boost::json::object& root, const override_origins& origins, config& c, error_list& errors);

// c in the input schema (durations formatted, commands as arrays); secrets "<redacted>" when
// redact.
boost::json::object to_json(const config& c, bool redact);

}  // namespace redundancy::config_detail
