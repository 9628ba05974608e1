// Running a workflow's jobs and steps locally through the process runner, with GitHub's
// environment.
#include "redundancy/github/local_runner.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <cstdio>
#include <sstream>
#include <variant>

#include "redundancy/core/log.hpp"
#include "redundancy/core/process.hpp"
#include "redundancy/core/process_tracking.hpp"
#include "redundancy/github/expressions.hpp"
#include "redundancy/github/plan.hpp"
#include "redundancy/github/runner_temp.hpp"

namespace redundancy::github {

std::string_view to_string(run_conclusion c) {
  switch (c) {
    case run_conclusion::success:
      return "success";
    case run_conclusion::partial:
      return "partial";
    case run_conclusion::failure:
      return "failure";
  }
  return "failure";
}

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string utc_stamp(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// GITHUB_ENV and GITHUB_OUTPUT: `name=value` lines and `name<<DELIMITER` ... `DELIMITER` blocks.
string_map parse_key_values(const std::string& text) {
  string_map out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto heredoc = line.find("<<");
    const auto eq = line.find('=');
    if (heredoc != std::string::npos && (eq == std::string::npos || heredoc < eq)) {
      const std::string name = line.substr(0, heredoc);
      const std::string delimiter = line.substr(heredoc + 2);
      std::string value;
      bool first = true;
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line == delimiter) break;
        value += (first ? "" : "\n") + line;
        first = false;
      }
      out[name] = value;
    } else if (eq != std::string::npos) {
      out[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return out;
}

// One run's state: the log, the masks, the output tail.
class run_session {
 public:
  run_session(const config& c, const workflow& w, output_sink sink)
      : c_(c), w_(w), sink_(std::move(sink)) {}
  run_session(const run_session&) = delete;
  run_session& operator=(const run_session&) = delete;
  // The runner temp folder holds the steps' unmasked output and scripts: it goes with the session,
  // also when the run is cut short (a SIGTERM cancels it and its frame is destroyed).
  ~run_session() {
    std::error_code ec;
    if (!runner_temp_.empty()) std::filesystem::remove_all(runner_temp_, ec);
  }

  awaitable<local_run_report> run() {
    local_run_report report;
    if (!w_.valid()) {
      report.result.summary =
          w_.file.filename().string() + " is invalid and is never run: " + w_.problems.front();
      co_return report;
    }
    if (!c_.github.local_execution.enabled) {
      report.result.summary = "local execution is disabled (github.local_execution.enabled)";
      co_return report;
    }
    if (!w_.runs_on_deploy_branch_events()) {
      report.result.summary = w_.file.filename().string() + ": " + w_.not_run_locally_reason();
      co_return report;
    }
    if (!open_log())
      report.log_file.clear();
    else
      report.log_file = log_path_;
    auto temp = make_runner_temp();
    if (!temp) {
      report.result.summary = "cannot create a runner temp folder in " +
                              std::filesystem::temp_directory_path().string();
      co_return report;
    }
    runner_temp_ = std::move(*temp);
    workspace_ = std::filesystem::absolute(c_.project_dir).lexically_normal();
    deadline_ = clock::now() + c_.github.local_execution.timeout;

    co_await fill_github_context();
    emit("== " + w_.file.filename().string() + " (" + w_.name + ") in " + workspace_.string() +
         "\n");
    RLOG("github", info) << "running " << w_.file.filename().string() << " locally, log "
                         << log_path_.string();

    plan_ = make_plan(w_);
    for (const workflow_job* job : jobs_in_needs_order(w_)) co_await run_job(*job);

    std::error_code ec;
    std::filesystem::remove_all(runner_temp_, ec);
    runner_temp_.clear();

    report.conclusion = any_failure_       ? run_conclusion::failure
                        : skipped_.empty() ? run_conclusion::success
                                           : run_conclusion::partial;
    unsigned ran = 0;
    for (const auto& s : steps_)
      if (s.detail.rfind("skipped", 0) != 0) ++ran;
    std::string summary =
        w_.file.filename().string() + " ran locally: " + std::string(to_string(report.conclusion)) +
        " (" + std::to_string(ran) + " of " + std::to_string(steps_.size()) + " steps run";
    if (!first_failure_.empty()) summary += "; failed: " + first_failure_;
    if (!skipped_.empty()) {
      summary += "; skipped: ";
      for (std::size_t i = 0; i < skipped_.size(); ++i) summary += (i ? ", " : "") + skipped_[i];
    }
    summary += ")";
    emit("== " + summary + "\n");
    RLOG("github", info) << summary;
    report.result.ok = report.conclusion != run_conclusion::failure;
    report.result.summary = summary;
    report.result.steps = steps_;
    report.result.output_tail = tail_;
    report.summary_file = summary_path_;
    co_return report;
  }

 private:
  bool open_log() {
    const auto dir = c_.log_dir / "workflow-runs";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    log_path_ = dir / (w_.file.stem().string() + "-" + utc_stamp("%Y%m%dT%H%M%SZ") + ".log");
    for (int n = 2; std::filesystem::exists(log_path_, ec); ++n)
      log_path_ = dir / (w_.file.stem().string() + "-" + utc_stamp("%Y%m%dT%H%M%SZ") + "-" +
                         std::to_string(n) + ".log");
    log_.open(log_path_, std::ios::out | std::ios::trunc);
    return static_cast<bool>(log_);
  }

  // Everything shown or written goes through here, masked.
  void emit(const std::string& raw) {
    const std::string text = mask_secrets(raw, secrets_);
    if (log_) log_ << text << std::flush;
    if (sink_) sink_(text);
    tail_ += text;
    constexpr std::size_t keep = 8 * 1024;
    if (tail_.size() > keep) tail_.erase(0, tail_.size() - keep);
  }

  awaitable<std::string> git(std::vector<std::string> args) {
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

  awaitable<void> fill_github_context() {
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
      if (name == "REDUNDANCY_TOKEN" ||
          (name.starts_with("REDUNDANCY_") && name.find("__") != std::string::npos))
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

  void record(const std::string& name, bool ok, const std::string& detail) {
    steps_.push_back(action_step{.name = name, .ok = ok, .detail = mask_secrets(detail, secrets_)});
    RLOG("github", info) << w_.file.filename().string() << ": " << name << ": "
                         << mask_secrets(detail, secrets_);
  }

  void skip(const std::string& name, const std::string& reason, bool counts_as_partial) {
    if (counts_as_partial) skipped_.push_back(name + " (" + reason + ")");
    emit("-- " + name + ": skipped: " + reason + "\n");
    record(name, true, "skipped: " + reason);
  }

  // Substitutes a whole env map in order, each value seeing the ones before.
  boost::system::result<void, std::string> layer_env(const string_map& layer,
                                                     expression_context& ctx) {
    for (const auto& [k, v] : layer) {
      auto s = substitute(v, ctx);
      if (!s) return "env " + k + ": " + s.error();
      ctx.env[k] = *s;
    }
    return {};
  }

  awaitable<void> run_job(const workflow_job& job) {
    if (!job.uses.empty()) {
      job_results_[job.id] = "skipped";
      skip(job.id, "the reusable workflow " + job.uses + " is not run locally", true);
      co_return;
    }
    bool needs_ok = true;
    bool needs_failed = false;
    for (const auto& n : job.needs) {
      const auto& r = job_results_[n];
      needs_ok = needs_ok && r == "success";
      needs_failed = needs_failed || r == "failure";
    }
    expression_context ctx = base_;
    ctx.matrix = job.matrix;
    ctx.needs_results = job_results_;
    ctx.job_failed = needs_failed;
    if (!needs_ok && !uses_status_function(job.if_expr)) {
      job_results_[job.id] = "skipped";
      skip(job.id, "a job it needs did not succeed", false);
      co_return;
    }
    if (!job.if_expr.empty()) {
      auto run_it = evaluate_condition(job.if_expr, ctx);
      if (!run_it) {
        job_results_[job.id] = "skipped";
        skip(job.id, run_it.error(), true);
        co_return;
      }
      if (!*run_it) {
        job_results_[job.id] = "skipped";
        skip(job.id, "if: " + job.if_expr + " is false", false);
        co_return;
      }
    }
    ctx.job_failed = false;  // from here on, success() and failure() are about this job's steps
    if (auto r = layer_env(w_.env, ctx); !r) {
      fail_job(job, job.id, r.error());
      co_return;
    }
    if (auto r = layer_env(job.env, ctx); !r) {
      fail_job(job, job.id, r.error());
      co_return;
    }
    const auto job_timeout =
        job.timeout_minutes ? milliseconds(static_cast<long long>(*job.timeout_minutes * 60000))
                            : milliseconds(std::chrono::hours(6));
    const auto job_deadline = std::min(deadline_, clock::now() + job_timeout);
    emit("== job " + job.id + (job.matrix.empty() ? "" : " (first matrix combination)") + "\n");
    // Every process the job's steps start carries this id, also those that leave the step's process
    // group; at the job's end they are ended by it.
    tracked_job tracking;
    tracking_id_ = tracking.id();

    std::vector<std::string> extra_path;
    bool failed = false;
    for (std::size_t i = 0; i < job.steps.size(); ++i) {
      const workflow_step& step = job.steps[i];
      const std::string name = job.id + " / " + step.name;
      const step_plan* sp = nullptr;
      for (const auto& p : plan_.steps)
        if (p.step == &step) sp = &p;
      expression_context step_ctx = ctx;
      step_ctx.job_failed = failed;
      auto run_it = evaluate_condition(step.if_expr, step_ctx);
      if (!run_it) {
        skip(name, run_it.error(), true);
        mark_outcome(ctx, step, "skipped");
        continue;
      }
      if (!*run_it) {
        skip(name,
             step.if_expr.empty() ? "an earlier step failed" : "if: " + step.if_expr + " is false",
             false);
        mark_outcome(ctx, step, "skipped");
        continue;
      }
      if (!sp || sp->disposition == step_disposition::skipped) {
        skip(name, sp ? sp->reason : "not planned", true);
        mark_outcome(ctx, step, "skipped");
        continue;
      }
      if (sp->disposition == step_disposition::satisfied) {
        emit("-- " + name + ": " + sp->reason + "\n");
        record(name, true, "success: satisfied: " + sp->reason);
        mark_outcome(ctx, step, "success");
        continue;
      }
      if (auto r = layer_env(step.env, step_ctx); !r) {
        skip(name, r.error(), true);
        mark_outcome(ctx, step, "skipped");
        continue;
      }
      auto script = substitute(step.run, step_ctx);
      if (!script) {
        skip(name, script.error(), true);
        mark_outcome(ctx, step, "skipped");
        continue;
      }
      const bool ok =
          co_await run_step(job, step, i, *sp, *script, step_ctx, extra_path, job_deadline, ctx);
      bool tolerated = false;
      if (!ok && !step.continue_on_error.empty()) {
        auto coe = evaluate_condition("always() && (" + std::string(step.continue_on_error) + ")",
                                      step_ctx);
        tolerated = coe && *coe;
      }
      mark_outcome(ctx, step, ok ? "success" : "failure");
      if (!ok && tolerated) emit("-- " + name + ": failed, continuing (continue-on-error)\n");
      if (!ok && !tolerated) {
        failed = true;
        if (first_failure_.empty()) first_failure_ = name + " (" + last_describe_ + ")";
      }
      if (!ok && !tolerated) steps_.back().ok = false;
      if (!ok && tolerated) {
        steps_.back().ok = true;
        steps_.back().detail += " (continue-on-error)";
      }
    }
    bool job_tolerated = false;
    if (failed && !job.continue_on_error.empty()) {
      auto coe = evaluate_condition("always() && (" + job.continue_on_error + ")", ctx);
      job_tolerated = coe && *coe;
    }
    co_await end_job_processes(job, tracking);
    job_results_[job.id] = failed ? "failure" : "success";
    if (failed && !job_tolerated) any_failure_ = true;
    emit("== job " + job.id + ": " + job_results_[job.id] + "\n");
  }

  void fail_job(const workflow_job& job, const std::string& name, const std::string& why) {
    job_results_[job.id] = "failure";
    any_failure_ = true;
    if (first_failure_.empty()) first_failure_ = name + " (" + why + ")";
    emit("-- " + name + ": " + why + "\n");
    record(name, false, "failure: " + why);
  }

  static void mark_outcome(expression_context& ctx, const workflow_step& step,
                           const std::string& outcome) {
    if (!step.id.empty()) ctx.step_outcomes[step.id] = outcome;
  }

  awaitable<bool> run_step(const workflow_job& job, const workflow_step& step, std::size_t index,
                           const step_plan& sp, const std::string& script,
                           expression_context& step_ctx, std::vector<std::string>& extra_path,
                           clock::time_point job_deadline, expression_context& job_ctx) {
    const std::string name = job.id + " / " + step.name;
    const std::string base = runner_temp_.string() + "/" + job.id + "-" + std::to_string(index);
    const bool python =
        std::find_if(sp.command.begin(), sp.command.end(), [](const std::string& a) {
          return a.rfind("python", 0) == 0;
        }) != sp.command.end();
    const std::string script_file = base + (python ? ".py" : ".sh");
    {
      std::ofstream out(script_file, std::ios::binary | std::ios::trunc);
      out << script << "\n";
    }
    ::chmod(script_file.c_str(), 0700);
    const std::string env_file = base + ".env";
    const std::string output_file = base + ".output";
    const std::string path_file = base + ".path";
    const std::string summary_file = base + ".summary";
    for (const auto& f : {env_file, output_file, path_file, summary_file})
      std::ofstream{f, std::ios::trunc};

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
    env["GITHUB_ENV"] = env_file;
    env["GITHUB_OUTPUT"] = output_file;
    env["GITHUB_PATH"] = path_file;
    env["GITHUB_STEP_SUMMARY"] = summary_file;
    env[std::string(tracking_variable)] = tracking_id_;
    std::string path = env.count("PATH")
                           ? env["PATH"]
                           : (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    for (const auto& p : extra_path) path = p + ":" + path;
    env["PATH"] = path;

    std::vector<std::string> argv;
    for (const auto& a : sp.command) {
      std::string arg = a;
      if (auto pos = arg.find("{0}"); pos != std::string::npos) arg.replace(pos, 3, script_file);
      argv.push_back(arg);
    }
    if (auto exe = find_on_path(argv.front(), path)) argv.front() = exe->string();

    std::string wd = !step.working_directory.empty()          ? step.working_directory
                     : !job.default_working_directory.empty() ? job.default_working_directory
                                                              : w_.default_working_directory;
    if (auto s = substitute(wd, step_ctx); s) wd = *s;
    const std::filesystem::path cwd =
        wd.empty() ? workspace_ : (workspace_ / wd).lexically_normal();

    auto timeout =
        std::chrono::duration_cast<milliseconds>(std::min(job_deadline, deadline_) - clock::now());
    if (step.timeout_minutes)
      timeout =
          std::min(timeout, milliseconds(static_cast<long long>(*step.timeout_minutes * 60000)));
    if (timeout <= milliseconds(0)) {
      emit("-- " + name + ": no time left\n");
      last_describe_ = "not started: the job's or the run's time is used up";
      record(name, false, "failure: " + last_describe_);
      co_return false;
    }

    emit("-- " + name + " (line " + std::to_string(step.line) + ", in " + cwd.string() + ")\n");
    process_spec spec;
    // stdout and stderr go to one file, in the order the step wrote them, followed while the step
    // runs. A file, not a pipe: a background process the step starts (`server &`) keeps its output
    // going there without holding the step open; the step ends when its shell does, as on GitHub,
    // and the background process lives until the job ends.
    const std::string output_log = base + ".out";
    spec.argv = {"/bin/sh", "-c", "exec >\"$1\" 2>&1; shift; exec \"$@\"", "sh", output_log};
    spec.argv.insert(spec.argv.end(), argv.begin(), argv.end());
    spec.cwd = cwd;
    spec.env = std::move(env);
    // The token reaches a step only through an expression that asks for it (and is then masked).
    if (!c_.github.token_env.empty()) spec.unset_env.push_back(c_.github.token_env);
    spec.timeout = timeout;
    followed_output follow{output_log};
    const auto raced = co_await (run_process(std::move(spec)) || follow_output(follow));
    const process_result r = std::get<0>(raced);
    pump_output(follow, true);
    if (r.pid > 0) job_groups_.push_back(r.pid);
    if (!r.started()) emit(r.error + "\n");

    // What the step left for the ones after it.
    for (const auto& [k, v] : parse_key_values(read_file(env_file))) job_ctx.env[k] = v;
    if (!step.id.empty()) job_ctx.step_outputs[step.id] = parse_key_values(read_file(output_file));
    std::istringstream paths(read_file(path_file));
    for (std::string line; std::getline(paths, line);)
      if (!line.empty()) extra_path.push_back(line);
    keep_summary(name, read_file(summary_file));

    last_describe_ = r.describe();  // "exit 1", "killed by SIGTERM after timeout 1200ms", ...
    const std::string detail = std::string(r.ok() ? "success: " : "failure: ") + last_describe_ +
                               " in " + seconds_text(r.duration);
    emit("-- " + name + ": " + detail + "\n");
    record(name, r.ok(), detail);
    co_return r.ok();
  }

  // The output file of a running step and how much of it has been shown.
  struct followed_output {
    std::string file{};
    std::uintmax_t offset{0};
    std::string pending{};  // an unfinished line, held back so a secret is never split by a chunk
  };

  // Shows what the step wrote since the last look: whole lines while it runs, the rest at the end.
  void pump_output(followed_output& f, bool final) {
    std::ifstream in(f.file, std::ios::binary);
    if (in) {
      in.seekg(static_cast<std::streamoff>(f.offset));
      std::ostringstream s;
      s << in.rdbuf();
      const std::string fresh = s.str();
      f.offset += fresh.size();
      f.pending += fresh;
    }
    constexpr std::size_t longest_held_line = 64 * 1024;
    std::size_t upto = final ? f.pending.size() : f.pending.rfind('\n');
    if (upto == std::string::npos)
      upto = f.pending.size() > longest_held_line ? f.pending.size() : 0;
    else if (!final)
      ++upto;
    if (upto == 0) return;
    std::string chunk = f.pending.substr(0, upto);
    f.pending.erase(0, upto);
    if (final && chunk.back() != '\n') chunk += '\n';
    note_masks(chunk);
    emit(chunk);
  }

  // `::add-mask::VALUE` lines: VALUE is masked from there on, for the rest of the run (the line
  // itself included), as on GitHub.
  void note_masks(const std::string& chunk) {
    constexpr std::string_view command = "::add-mask::";
    for (std::size_t at = 0; at < chunk.size();) {
      auto end = chunk.find('\n', at);
      if (end == std::string::npos) end = chunk.size();
      std::string_view line(chunk.data() + at, end - at);
      at = end + 1;
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      if (!line.starts_with(command)) continue;
      line.remove_prefix(command.size());
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
      if (!line.empty()) secrets_.insert(std::string(line));
    }
  }

  // Polls the step's output file until cancelled (the step's process finishing wins the race).
  awaitable<void> follow_output(followed_output& f) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      timer.expires_after(std::chrono::milliseconds(150));
      co_await timer.async_wait(asio::use_awaitable);
      pump_output(f, false);
    }
  }

  // GITHUB_STEP_SUMMARY: shown, and kept beside the run's log as <log>.summary.md.
  void keep_summary(const std::string& step_name, const std::string& text) {
    if (text.empty()) return;
    const std::string masked = mask_secrets(text, secrets_);
    emit("-- " + step_name + ": step summary:\n" + masked + (masked.back() == '\n' ? "" : "\n"));
    if (log_path_.empty()) return;
    summary_path_ = log_path_;
    summary_path_.replace_extension(".summary.md");
    std::ofstream out(summary_path_, std::ios::binary | std::ios::app);
    out << masked << (masked.back() == '\n' ? "" : "\n");
  }

  // At the end of a job, GitHub ends the processes its steps left running; so does this runner.
  awaitable<void> end_job_processes(const workflow_job& job, tracked_job& tracking) {
    unsigned ended = 0;
    for (const int group : job_groups_)
      if (co_await end_process_group(group, std::chrono::seconds(2))) ++ended;
    job_groups_.clear();
    if (ended)
      emit("-- job " + job.id + ": ended " + std::to_string(ended) +
           " process group(s) its steps left running\n");
    if (const auto escaped = co_await tracking.end(std::chrono::seconds(2)))
      emit("-- job " + job.id + ": ended " + std::to_string(escaped) +
           " process(es) that had left their step's process group (found by " +
           std::string(tracking_variable) + ")\n");
  }

  static std::string seconds_text(std::chrono::milliseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(d.count()) / 1000.0);
    return buf;
  }

  const config& c_;
  const workflow& w_;
  output_sink sink_;
  std::filesystem::path log_path_{};
  std::ofstream log_{};
  std::filesystem::path runner_temp_{};
  std::filesystem::path workspace_{};
  clock::time_point deadline_{};
  expression_context base_{};
  workflow_plan plan_{};
  std::set<std::string> secrets_{};
  std::map<std::string, std::string> job_results_{};
  std::vector<action_step> steps_{};
  std::vector<std::string> skipped_{};
  std::string first_failure_{};
  std::string tail_{};
  bool any_failure_{false};
  std::vector<int> job_groups_{};  // process groups of the current job's finished steps
  std::string last_describe_{};    // how the last step's process ended, for the failure summary
  std::string tracking_id_{};      // the current job's RUNNER_TRACKING_ID
  std::filesystem::path summary_path_{};
};

}  // namespace

awaitable<local_run_report> run_local(const config& c, const workflow& w, output_sink on_output) {
  run_session session{c, w, std::move(on_output)};
  co_return co_await session.run();
}

awaitable<action_result> run_workflow_locally(const config& c, std::string_view name,
                                              std::function<void(std::string_view)> on_output) {
  auto file = find_workflow_file(c, name);
  if (!file)
    co_return action_result{.ok = false, .summary = file.error(), .steps = {}, .output_tail = {}};
  const workflow w = load_workflow(*file);
  auto report = co_await run_local(c, w, std::move(on_output));
  co_return report.result;
}

}  // namespace redundancy::github
