// Validating a parsed workflow document against GitHub's workflow schema (workflow_schema.hpp) the way
// @actions/workflow-parser's template reader does: unknown and missing keys, wrong types, values
// outside the allowed ones, no alternative of a one-of matching, and `${{ }}` expressions where the
// schema allows none or where they name a context the key does not offer.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "redundancy/github/workflow_schema.hpp"

namespace redundancy::github {

struct schema_problem {
  int line{1};  // 1-based, of the key or value at fault
  int column{1};
  std::string path{};     // "jobs.build.steps[0]"; empty at the top level
  std::string message{};  // names the key or value and what was expected there
  bool suggests{false};   // it names the key or value most likely meant ("did you mean 'runs-on'?")
};

// The definition GitHub reads a workflow file against.
inline constexpr std::string_view workflow_root_definition = "workflow-root-strict";

// Every schema problem of `document` read as `root` (a definition of `schema`), in document order.
// Throws std::out_of_range when `root` is not one of the schema's definitions.
std::vector<schema_problem> check_against_schema(const YAML::Node& document, const workflow_schema& schema,
                                                 std::string_view root = workflow_root_definition);

}  // namespace redundancy::github
