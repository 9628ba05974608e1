// The named contexts and functions an expression uses, for checking them against what the workflow
// schema allows at its key (`secrets` is not available in a job's `concurrency`, `hashFiles` only
// where steps run). A scan of the expression's words, not an evaluation: it needs no values.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::github {

struct expression_names {
  std::vector<std::string> contexts{};   // "github", "secrets": the first word of each property chain
  std::vector<std::string> functions{};  // "hashFiles", "success": each word called with ( )
};

// The names in the text between `${{` and `}}` (or an `if:` condition), in order, each once.
// Properties after `.` and words inside 'string literals' are not names; true, false, null, NaN
// and Infinity are literals.
expression_names names_in_expression(std::string_view expression);

// What is wrong when the expression quotes a string with double quotes, which GitHub's grammar has
// no token for ("github.ref == \"main\"" is refused when the workflow is read); empty when it does
// not. Text inside 'single-quoted strings' does not count.
std::string double_quoted_string_problem(std::string_view expression);

// The functions every expression may call, whatever the schema lists: GitHub's own (contains,
// startsWith, endsWith, format, join, toJSON, fromJSON), compared case-insensitively.
bool is_always_available_function(std::string_view name);

}  // namespace redundancy::github
