// A GitHub Actions workflow file parsed into typed structs, with every validation problem found in
// it.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::github {

using string_map = std::map<std::string, std::string>;

// One entry of jobs.<id>.steps.
struct workflow_step {
  std::string id{};    // `id:`, empty when unset
  std::string name{};  // `name:`, else a name made from run/uses
  std::string run{};   // exactly one of run and uses is set in a valid step
  std::string uses{};
  string_map with{};
  string_map env{};
  std::string shell{};              // empty: the job's, then the workflow's default, then bash -e
  std::string working_directory{};  // empty: the job's, then the workflow's default
  std::string if_expr{};            // empty: success()
  std::string continue_on_error{};  // "true", "false" or an expression
  std::optional<double> timeout_minutes{};
  int line{0};  // 1-based line of the step in the file
};

// One entry of jobs.
struct workflow_job {
  std::string id{};
  std::string name{};
  std::vector<std::string> needs{};
  std::string if_expr{};
  string_map env{};
  std::string default_shell{};
  std::string default_working_directory{};
  std::optional<double> timeout_minutes{};
  std::string continue_on_error{};
  std::string uses{};   // a reusable workflow call; then there are no steps
  string_map matrix{};  // the first combination of strategy.matrix, as strings
  std::vector<workflow_step> steps{};
  int line{0};
};

struct workflow_input {
  std::string name{};
  std::string default_value{};
};

struct workflow {
  std::filesystem::path file{};
  std::string name{};                    // `name:`, else the file name
  std::vector<std::string> events{};     // push, schedule, workflow_dispatch, ...
  std::vector<std::string> schedules{};  // on.schedule[*].cron
  std::vector<workflow_input> inputs{};  // on.workflow_dispatch.inputs with their defaults
  std::vector<std::string> repository_dispatch_types{};
  string_map env{};
  std::string default_shell{};
  std::string default_working_directory{};
  std::vector<workflow_job> jobs{};  // in file order
  // Each problem names the file, the line and the YAML path:
  // "sync.yml:12: jobs.sync.steps[2]: a step needs 'run' or 'uses'". Empty when valid.
  std::vector<std::string> problems{};

  bool valid() const { return problems.empty(); }
  bool has_event(std::string_view e) const;
  // Whether a local run may stand in for this workflow: it runs on one of the deploy branch's own
  // events (push, schedule, workflow_dispatch, repository_dispatch). One triggered only by pull
  // requests, issues or releases runs someone else's change or context, never the deploy branch's.
  bool runs_on_deploy_branch_events() const;
  // Why a local run never stands in for it ("it runs only on pull_request_target, ..."); empty when
  // runs_on_deploy_branch_events().
  std::string not_run_locally_reason() const;
  const workflow_job* find_job(std::string_view id) const;
};

// Parses and validates YAML text; `file` names it in the messages. Never throws: a syntax error is
// a problem with its line and column, and the rest of the workflow is then empty.
workflow parse_workflow(std::string_view text, const std::filesystem::path& file);

// Reads and parses a file; an unreadable file is one problem.
workflow load_workflow(const std::filesystem::path& file);

// The workflow files found for watching, and those refused with the reason.
struct workflow_listing {
  std::vector<std::filesystem::path> files{};  // watched, in order
  struct refused_file {
    std::filesystem::path file{};
    std::string reason{};  // "a symlink to /tmp/evil.yml, outside /p/.github/workflows"
  };
  std::vector<refused_file> refused{};
};

// The workflow files to watch: `listed` (names or paths) resolved against `dir`, or every *.yml and
// *.yaml in `dir` (sorted) when the list is empty. A file is watched only when it lies inside `dir`
// once symlinks are resolved: a symlink to a file elsewhere (or a listed path outside) is refused,
// since whoever can plant a link must not choose what runs. A listed name that does not exist is
// watched (and shown unreadable). A missing folder gives none.
workflow_listing list_workflows(const std::filesystem::path& dir, const std::vector<std::string>& listed);

// list_workflows(dir, listed).files.
std::vector<std::filesystem::path> workflow_files(const std::filesystem::path& dir,
                                                  const std::vector<std::string>& listed);

// The jobs in an order that respects `needs` (file order among independent jobs). Only meaningful
// for a valid workflow (no cycles, no unknown names).
std::vector<const workflow_job*> jobs_in_needs_order(const workflow& w);

}  // namespace redundancy::github
