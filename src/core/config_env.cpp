// Environment overrides: REDUNDANCY_<SECTION>__<KEY>=value set on the JSON tree before it is
// mapped.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <cctype>

#include "config_internal.hpp"

namespace redundancy {
namespace config_detail {
namespace {

namespace json = boost::json;

constexpr std::string_view prefix = "REDUNDANCY_";

// Variables with the prefix that are not config keys: the config file itself and the CLI client's.
constexpr std::array<std::string_view, 3> not_overrides{"REDUNDANCY_CONFIG", "REDUNDANCY_URL", "REDUNDANCY_TOKEN"};

// "GITHUB__LOCAL_EXECUTION__TIMEOUT" -> {"github", "local_execution", "timeout"}; an empty segment
// ("PM2____X", a trailing "__") makes the list empty.
std::vector<std::string> key_segments(std::string_view rest) {
  std::vector<std::string> segments;
  while (true) {
    const auto split = rest.find("__");
    std::string segment(rest.substr(0, split));
    if (segment.empty()) return {};
    std::transform(segment.begin(), segment.end(), segment.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    segments.push_back(std::move(segment));
    if (split == std::string_view::npos) return segments;
    rest.remove_prefix(split + 2);
  }
}

// The value as JSON when it parses as JSON (numbers, booleans, null, arrays, objects), else as a
// string.
json::value override_value(const std::string& text) {
  json::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (!ec) return parsed;
  return json::string(text);
}

}  // namespace

override_origins apply_env_overrides(json::object& root, const env_lookup& env, error_list& errors) {
  // The schema is the built-in defaults' tree: it has every key (nullable ones as null).
  const json::object schema = to_json(config{}, false);
  override_origins origins;
  // env is ordered, so a whole section (REDUNDANCY_PM2) is set before its keys (REDUNDANCY_PM2__X).
  for (const auto& [name, text] : env) {
    if (!name.starts_with(prefix)) continue;
    if (std::find(not_overrides.begin(), not_overrides.end(), name) != not_overrides.end()) continue;

    const auto segments = key_segments(std::string_view(name).substr(prefix.size()));
    std::string path;
    const json::object* schema_level = &schema;
    bool known = !segments.empty();
    for (std::size_t i = 0; known && i < segments.size(); ++i) {
      path += (i == 0 ? "" : ".") + segments[i];
      const json::value* entry = schema_level->if_contains(segments[i]);
      if (!entry) {
        known = false;
      } else if (i + 1 < segments.size()) {
        // Only sections have keys below them; probe_paths' own keys are not fixed, so not
        // addressable.
        schema_level = entry->if_object();
        known = schema_level != nullptr && !entry->get_object().empty();
      }
    }
    if (!known) {
      errors.push_back(name + ": no config key " + (path.empty() ? "named by it" : "\"" + path + "\"") +
                       " (overrides are REDUNDANCY_<SECTION>__<KEY>, like REDUNDANCY_PM2__INTERVAL)");
      continue;
    }

    // Walk the tree, creating missing sections; a section of the wrong type is left for the mapper
    // to report.
    json::object* level = &root;
    for (std::size_t i = 0; level && i + 1 < segments.size(); ++i) {
      json::value& next = (*level)[segments[i]];
      if (next.is_null()) next = json::object{};
      level = next.if_object();
    }
    if (!level) continue;
    auto& value = (*level)[segments.back()] = override_value(text);
    if (value.is_object() || value.is_array()) find_duplicate_keys(text, name + ": ", path, errors);
    origins[path] = name;
  }
  return origins;
}

}  // namespace config_detail

env_lookup current_environment() {
  env_lookup env;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text = *entry;
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    env.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return env;
}

}  // namespace redundancy
