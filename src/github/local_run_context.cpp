// The local runner's contexts: the github, runner, inputs and secrets contexts of the expressions,
// the env layers, the steps' outcomes, and the environment a step runs in.
#include <cstdlib>

#include "local_run_session.hpp"
#include "redundancy/core/process.hpp"

namespace redundancy::github {

awaitable<std::string> run_session::git(std::vector<std::string> args) {
  process_spec spec;
  spec.argv = {"git"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.cwd = workspace_;
  spec.timeout = std::chrono::seconds(10);
  auto r = co_await run_process(std::move(spec));
  std::string out = r.ok() ? r.out : std::string();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  co_return out;
}

awaitable<void> run_session::fill_github_context() {
  // Arguments built in their own statements: g++ 12 crashes on initializer lists inside co_await.
  std::vector<std::string> sha_args{"rev-parse", "HEAD"};
  std::vector<std::string> ref_args{"symbolic-ref", "-q", "HEAD"};
  const std::string sha = co_await git(std::move(sha_args));
  const std::string ref = co_await git(std::move(ref_args));
  base_.github = {{"workspace", workspace_.string()},
                  {"repository", c_.github.repository.value_or("")},
                  {"ref", ref},
                  {"sha", sha},
                  {"event_name", "workflow_dispatch"},
                  {"workflow", w_.name}};
  base_.runner = {{"os", "Linux"}, {"temp", runner_temp_.string()}};
  for (const auto& in : w_.inputs) base_.inputs[in.name] = in.default_value;
  // github.token_env's value is what a step gets for secrets.GITHUB_TOKEN and github.token, as on
  // GitHub; the variable itself is never in a step's environment (run_step unsets it).
  const char* token = std::getenv(c_.github.token_env.c_str());
  const std::string token_value = token ? token : "";
  base_.secret = [token_value](const std::string& name) -> std::optional<std::string> {
    if (name == "GITHUB_TOKEN") {
      if (token_value.empty()) return std::nullopt;
      return token_value;
    }
    // The daemon's API token and its config overrides (REDUNDANCY_NOTIFY__..., which may hold
    // webhook URLs) are no step's secrets.
    if (name == "REDUNDANCY_TOKEN" || (name.starts_with("REDUNDANCY_") && name.find("__") != std::string::npos))
      return std::nullopt;
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  base_.github["token"] = token_value;
  base_.used_secrets = &secrets_;
  // The API token is a secret whether or not a step asks for it.
  if (!token_value.empty()) secrets_.insert(token_value);
}

// Substitutes a whole env map in order, each value seeing the ones before.
boost::system::result<void, std::string> run_session::layer_env(const string_map& layer, expression_context& ctx) {
  for (const auto& [k, v] : layer) {
    auto s = substitute(v, ctx);
    if (!s) return "env " + k + ": " + s.error();
    ctx.env[k] = *s;
  }
  return {};
}

void run_session::mark_outcome(expression_context& ctx, const workflow_step& step, const std::string& outcome) {
  if (!step.id.empty()) ctx.step_outcomes[step.id] = outcome;
}

std::map<std::string, std::string> run_session::step_environment(const workflow_job& job,
                                                                 const expression_context& step_ctx,
                                                                 const step_files& files,
                                                                 const std::vector<std::string>& extra_path) const {
  // The environment: the layers, then GitHub's own variables, then PATH with GITHUB_PATH
  // additions.
  std::map<std::string, std::string> env = step_ctx.env;
  env["CI"] = "true";
  env["GITHUB_ACTIONS"] = "true";
  env["GITHUB_WORKSPACE"] = workspace_.string();
  env["GITHUB_WORKFLOW"] = w_.name;
  env["GITHUB_REPOSITORY"] = base_.github.at("repository");
  env["GITHUB_REF"] = base_.github.at("ref");
  env["GITHUB_SHA"] = base_.github.at("sha");
  env["GITHUB_EVENT_NAME"] = "workflow_dispatch";
  env["GITHUB_JOB"] = job.id;
  env["RUNNER_TEMP"] = runner_temp_.string();
  env["RUNNER_OS"] = "Linux";
  env["GITHUB_ENV"] = files.env;
  env["GITHUB_OUTPUT"] = files.output;
  env["GITHUB_PATH"] = files.path;
  env["GITHUB_STEP_SUMMARY"] = files.summary;
  env[std::string(tracking_variable)] = tracking_id_;
  std::string path = env.count("PATH") ? env["PATH"] : (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  for (const auto& p : extra_path) path = p + ":" + path;
  env["PATH"] = path;
  return env;
}

}  // namespace redundancy::github
