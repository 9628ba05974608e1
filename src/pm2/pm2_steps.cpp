// One step of an action: a `pm2` command (or pm2.daemon_restart_command) run and recorded, cancelled
// when the daemon it talks to dies; and starting apps from an ecosystem file.
#include "redundancy/pm2/pm2_subsystem.hpp"

#include "pm2_subsystem_internal.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/text.hpp"

#include <functional>
#include <sstream>

namespace redundancy::pm2 {

using detail::tail_bytes;

namespace {

void append_tail(std::string& tail, std::string_view text) {
  tail.append(text);
  if (tail.size() > tail_bytes) tail.erase(0, tail.size() - tail_bytes);
}

// The generated JSON ecosystem for `file`: a name PM2 treats as config, unique per source path.
std::filesystem::path generated_path(const std::filesystem::path& state_dir, const std::filesystem::path& file) {
  std::ostringstream name;
  name << file.filename().string() << '.' << std::hex << (std::hash<std::string>{}(file.string()) & 0xffffffu)
       << ".json";
  return state_dir / "pm2" / name.str();
}

}  // namespace

awaitable<bool> pm2_subsystem::run_step(action_result& result, std::string name, std::vector<std::string> argv,
                                        bool pm2) {
  process_result r;
  // The daemon a `pm2` command talks to: should it die under the command, the command would wait for
  // it until pm2.timeout. `pm2 kill` means it to die.
  int daemon = pm2 && (argv.empty() || argv.front() != "kill") ? detail::read_pid(pm2_home_ / "pm2.pid") : 0;
  if (!detail::pid_alive(daemon)) daemon = 0;
  if (daemon) {
    const auto started = std::chrono::steady_clock::now();
    auto outcome = co_await (run_pm2(std::move(argv)) || detail::until_dead(daemon));
    if (outcome.index() == 1) {
      // run_pm2 was cancelled: its process group is ended and reaped.
      daemon_died_ = true;
      const auto after =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      std::string detail = "cancelled after " + std::to_string(after.count()) + " ms: the PM2 daemon (pid " +
                           std::to_string(daemon) + ") it talked to died";
      append_tail(result.output_tail, "$ " + name + "\n" + detail + "\n");
      RLOG("pm2", warning) << name << ": " << detail;
      result.steps.push_back({.name = std::move(name), .ok = false, .detail = std::move(detail)});
      co_return false;
    }
    r = std::move(std::get<0>(outcome));
  } else if (pm2) {
    r = co_await run_pm2(std::move(argv));
  } else {
    process_spec spec;
    spec.argv = std::move(argv);
    spec.cwd = project_dir_;
    spec.inherit = child_env::pm2;  // a daemon_restart_command is PM2's too
    spec.env["PM2_HOME"] = pm2_home_.string();
    spec.timeout = pm2_.timeout;
    r = co_await run_process(std::move(spec));
  }
  std::string detail = r.describe();
  if (!r.ok()) {
    auto why = failure_line(r.err.empty() ? r.out : r.err);
    if (!why.empty()) detail += ": " + why;
  }
  append_tail(result.output_tail, "$ " + name + "\n");
  append_tail(result.output_tail, r.out.substr(r.out.size() > tail_bytes ? r.out.size() - tail_bytes : 0));
  append_tail(result.output_tail, r.err.substr(r.err.size() > tail_bytes ? r.err.size() - tail_bytes : 0));
  RLOG("pm2", info) << name << ": " << detail;
  result.steps.push_back({.name = std::move(name), .ok = r.ok(), .detail = std::move(detail)});
  co_return r.ok();
}

awaitable<bool> pm2_subsystem::start_from_file(action_result& result, const std::filesystem::path& file,
                                               std::optional<std::string> only) {
  std::filesystem::path config_file = file;
  if (!pm2_treats_as_config(file)) {
    // PM2 would run this file as a script: hand it an equivalent JSON ecosystem instead.
    config_file = generated_path(state_dir_, file);
    auto error = co_await write_json_ecosystem(file, config_file, pm2_.timeout);
    if (!error.empty()) {
      result.steps.push_back({.name = "convert " + file.filename().string(), .ok = false, .detail = error});
      co_return false;
    }
  }
  std::vector<std::string> args{"start", config_file.string()};
  std::string name = "pm2 start " + file.filename().string();
  if (only) {
    args.push_back("--only");
    args.push_back(*only);
    name += " --only " + *only;
  }
  const bool ok = co_await run_step(result, std::move(name), std::move(args), true);
  started_from_file_ |= ok;
  co_return ok;
}

}  // namespace redundancy::pm2
