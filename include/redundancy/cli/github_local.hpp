// `redundancy github plan WORKFLOW` and `redundancy github run-local WORKFLOW`: the local runner
// used from the command line, in this process, without a daemon.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace redundancy::cli {

class github_local_commands {
 public:
  // Adds `plan` and `run-local` under the existing `github` subcommand of `app`; `config_file` is
  // the global --config, which the subcommands also accept after themselves.
  github_local_commands(CLI::App& app, std::optional<std::filesystem::path>& config_file);

  // The exit code of the command given, or nullopt when neither was.
  // plan: 0 valid, 1 invalid (problems printed), 2 not found or config error.
  // run-local: 0 success (and partial, unless --strict), 1 failure, invalid, partial with --strict
  // or interrupted, 2 not found or config error.
  std::optional<int> run_parsed();

 private:
  CLI::App* plan_{nullptr};
  CLI::App* run_local_{nullptr};
  std::optional<std::filesystem::path>& config_file_;
  std::string workflow_{};
  bool json_{false};
  bool strict_{false};
};

}  // namespace redundancy::cli
