// The named contexts and functions an expression uses, for checking them against what the workflow
// schema allows at its key (`secrets` is not available in a job's `concurrency`, `hashFiles` only
// where steps run). A scan of the expression's words, not an evaluation: it needs no values.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::github {

struct function_call {
  std::string name{};
  std::size_t arguments{0};
};

struct expression_names {
  std::vector<std::string> contexts{};   // "github", "secrets": the first word of each property chain
  std::vector<std::string> functions{};  // "hashFiles", "success": each word called with ( )
  std::vector<function_call> calls{};    // every call, with how many arguments it passes
};

// How many arguments a function takes, at least and at most.
struct function_arity {
  std::size_t min{0};
  std::size_t max{0};
};

// The names in the text between `${{` and `}}` (or an `if:` condition), in order, each once.
// Properties after `.` and words inside 'string literals' are not names; true, false, null, NaN
// and Infinity are literals.
expression_names names_in_expression(std::string_view expression);

// What is wrong when the expression quotes a string with double quotes, which GitHub's grammar has
// no token for ("github.ref == \"main\"" is refused when the workflow is read); empty when it does
// not. Text inside 'single-quoted strings' does not count.
std::string double_quoted_string_problem(std::string_view expression);

// The functions every expression may call, whatever the schema lists: GitHub's own (case, contains,
// startsWith, endsWith, format, join, toJSON, fromJSON), compared case-insensitively.
bool is_always_available_function(std::string_view name);

// The arity of one of those (as @actions/expressions declares it); {0, 0} for any other name.
function_arity always_available_function_arity(std::string_view name);

// The arity a schema context item gives ("hashFiles(1,255)", "success(0,MAX)"); nullopt when the item
// is a named context, not a function.
std::optional<function_arity> schema_function_arity(std::string_view item);

}  // namespace redundancy::github
