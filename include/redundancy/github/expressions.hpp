// The part of GitHub's `${{ }}` expression language a local run needs: context values, status
// functions, !, &&, ||, ==, != and literals. Anything else is refused with a reason, never guessed.
#pragma once
#include <boost/system/result.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "redundancy/github/workflow.hpp"

namespace redundancy::github {

// What an expression can see at one point of a local run.
struct expression_context {
  string_map env{};                                    // workflow, job and step env plus GITHUB_ENV additions
  string_map github{};                                 // workspace, repository, ref, sha, event_name, workflow
  string_map inputs{};                                 // workflow_dispatch defaults
  string_map matrix{};                                 // the job's first combination
  string_map runner{};                                 // os, temp
  std::map<std::string, string_map> step_outputs{};    // steps.<id>.outputs.<name>
  std::map<std::string, std::string> step_outcomes{};  // steps.<id>.outcome: success, failure, skipped
  std::map<std::string, std::string> needs_results{};  // needs.<job>.result
  // secrets.X: looked up by name (the daemon's environment); every value handed out is remembered
  // in `used_secrets` so that logs can mask it.
  std::function<std::optional<std::string>(const std::string&)> secret{};
  std::set<std::string>* used_secrets{nullptr};

  // The job's state for the status functions.
  bool job_failed{false};  // a step (or a needed job) has failed: success() false, failure() true
  bool cancelled{false};
};

// Replaces every `${{ expr }}` in text with its value (missing context values are empty strings, as
// on GitHub). An expression outside the supported set is an error naming it.
boost::system::result<std::string, std::string> substitute(std::string_view text, const expression_context& ctx);

// Evaluates an `if:` (with or without the `${{ }}` wrapper; empty means success()). Without a
// status function the expression is implicitly `success() && (expr)`, as on GitHub.
boost::system::result<bool, std::string> evaluate_condition(std::string_view expr, const expression_context& ctx);

// True when the expression names always(), failure() or cancelled(): a job with such an `if` runs
// even when a job it needs failed.
bool uses_status_function(std::string_view expr);

// Replaces every occurrence of each secret value, and of each non-blank line of a multi-line one,
// with "***".
std::string mask_secrets(std::string text, const std::set<std::string>& secrets);

}  // namespace redundancy::github
