// The local runner's steps: a step's script, command line, working folder and timeout, run as a
// process whose output file is followed while it runs.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <variant>

#include "local_run_session.hpp"
#include "redundancy/core/process.hpp"

namespace redundancy::github {

using std::chrono::milliseconds;

awaitable<bool> run_session::run_step(const workflow_job& job, const workflow_step& step, std::size_t index,
                                      const step_plan& sp, const std::string& script, expression_context& step_ctx,
                                      std::vector<std::string>& extra_path, clock::time_point job_deadline,
                                      expression_context& job_ctx) {
  const std::string name = job.id + " / " + step.name;
  const std::string base = runner_temp_.string() + "/" + job.id + "-" + std::to_string(index);
  const bool python = std::find_if(sp.command.begin(), sp.command.end(),
                                   [](const std::string& a) { return a.rfind("python", 0) == 0; }) != sp.command.end();
  const std::string script_file = base + (python ? ".py" : ".sh");
  {
    std::ofstream out(script_file, std::ios::binary | std::ios::trunc);
    out << script << "\n";
  }
  ::chmod(script_file.c_str(), 0700);
  const step_files files = make_step_files(base);

  std::map<std::string, std::string> env = step_environment(job, step_ctx, files, extra_path);
  const std::string path = env["PATH"];

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
  const std::filesystem::path cwd = wd.empty() ? workspace_ : (workspace_ / wd).lexically_normal();

  auto timeout = std::chrono::duration_cast<milliseconds>(std::min(job_deadline, deadline_) - clock::now());
  if (step.timeout_minutes)
    timeout = std::min(timeout, milliseconds(static_cast<long long>(*step.timeout_minutes * 60000)));
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

  take_step_files(files, step, name, job_ctx, extra_path);

  last_describe_ = r.describe();  // "exit 1", "killed by SIGTERM after timeout 1200ms", ...
  const std::string detail =
      std::string(r.ok() ? "success: " : "failure: ") + last_describe_ + " in " + seconds_text(r.duration);
  emit("-- " + name + ": " + detail + "\n");
  record(name, r.ok(), detail);
  co_return r.ok();
}

// Shows what the step wrote since the last look: whole lines while it runs, the rest at the end.
void run_session::pump_output(followed_output& f, bool final) {
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

// Polls the step's output file until cancelled (the step's process finishing wins the race).
awaitable<void> run_session::follow_output(followed_output& f) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(150));
    co_await timer.async_wait(asio::use_awaitable);
    pump_output(f, false);
  }
}

}  // namespace redundancy::github
