// The github subsystem: its token and API client, its watched files, and the manual actions the
// API asks of it (the checks are in subsystem_check.cpp, backups and triggers in
// subsystem_recovery.cpp).
#include "redundancy/github/subsystem.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <set>

#include "redundancy/core/limits.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/github/local_runner.hpp"

namespace redundancy::github {
namespace {

std::string env_or_empty(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

}  // namespace

github_subsystem::github_subsystem(const config& c) : c_(c), memory_(c.state_dir / "github-backups.json") {}

std::vector<std::filesystem::path> github_subsystem::files() const {
  return workflow_files(c_.project_dir / c_.github.workflows_dir, c_.github.workflows);
}

std::unique_ptr<github_api>& github_subsystem::api() {
  const std::string token = env_or_empty(c_.github.token_env);
  if (!c_.github.repository || token.empty())
    api_.reset();
  else if (!api_ || token != api_token_) {
    // A rotated token invalidates every cached ETag, so the client (and its cache) starts afresh.
    api_ = std::make_unique<github_api>(c_.github, token);
    api_token_ = token;
  }
  return api_;
}

std::string github_subsystem::deploy_branch() const { return c_.github.dispatch.ref.value_or(default_branch_); }

std::optional<std::string> github_subsystem::unknown_target(std::string_view verb,
                                                            const boost::json::object& args) const {
  if (verb != "trigger") return std::nullopt;
  const auto* wname = args.if_contains("workflow");
  if (!wname || !wname->is_string()) return std::nullopt;  // absent: all; not a string: a 400
  auto file = find_workflow_file(c_, wname->get_string());
  if (file) return std::nullopt;
  return file.error();
}

boost::system::result<subsystem::manual_work, std::string> github_subsystem::manual(std::string_view verb,
                                                                                    const boost::json::object& args,
                                                                                    const target_names& paused) {
  using answer = boost::system::result<manual_work, std::string>;
  if (verb != "trigger") return subsystem::manual(verb, args, paused);
  std::vector<std::string> modes = c_.github.backup;
  if (const auto* m = args.if_contains("mode"); m && !m->is_null()) {
    if (!m->is_string() || (m->get_string() != "local" && m->get_string() != "dispatch"))
      return answer(boost::system::in_place_error, std::string("mode: expected \"local\" or \"dispatch\""));
    modes = {std::string(m->get_string())};
  }
  std::vector<workflow> targets;
  if (const auto* wname = args.if_contains("workflow"); wname && !wname->is_null()) {
    if (!wname->is_string())
      return answer(boost::system::in_place_error, std::string("workflow: expected a file name"));
    auto file = find_workflow_file(c_, wname->get_string());
    if (!file) return answer(boost::system::in_place_error, file.error());
    auto wf = load_workflow(*file);
    if (!wf.valid())
      return answer(boost::system::in_place_error,
                    file->filename().string() + " is invalid and is never run: " + wf.problems.front());
    if (modes == std::vector<std::string>{"local"} && !wf.runs_on_deploy_branch_events())
      return answer(boost::system::in_place_error, file->filename().string() + ": " + wf.not_run_locally_reason());
    targets.push_back(std::move(wf));
  } else {
    for (const auto& file : files()) {
      auto wf = load_workflow(file);
      if (wf.valid() && !paused.contains(file.filename().string())) targets.push_back(std::move(wf));
    }
    if (targets.empty())
      return answer(boost::system::in_place_error, std::string("no valid workflow to trigger that is not paused"));
  }
  // A plain lambda around a member coroutine: the coroutine's frame owns its copies of the
  // arguments.
  auto self = shared_from_this();
  manual_work work = [self, targets = std::move(targets), modes]() { return self->run_trigger(targets, modes); };
  return answer(boost::system::in_place_value, std::move(work));
}

}  // namespace redundancy::github
