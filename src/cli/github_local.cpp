// The local runner from the command line: a plan printed for people (or as JSON), and a run in the
// foreground that streams each step's output and ends the steps' processes on Ctrl-C.
#include "redundancy/cli/github_local.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <iostream>

#include "redundancy/cli/cli.hpp"
#include "redundancy/core/config.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/process.hpp"
#include "redundancy/github/local_runner.hpp"
#include "redundancy/github/plan.hpp"

namespace redundancy::cli {
namespace {

namespace json = boost::json;

std::optional<config> load(const std::optional<std::filesystem::path>& file) {
  auto loaded = load_config(file, current_environment());
  if (!loaded) {
    std::cerr << "redundancy: " << loaded.error() << "\n";
    return std::nullopt;
  }
  return std::move(*loaded);
}

std::string text(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

// One line per step: what it does here ("run", "satisfied", "skipped") and why.
void print_plan(std::ostream& os, const json::object& plan) {
  const auto& coverage = plan.at("coverage").as_object();
  os << text(plan.at("workflow")) << " (" << text(plan.at("name")) << "): " << text(coverage.at("runnable")) << " of "
     << text(coverage.at("total")) << " steps can run locally\n";
  if (const auto* why = plan.if_contains("not_run_locally")) os << "not run locally: " << text(*why) << "\n";
  for (const auto& jv : plan.at("jobs").as_array()) {
    const auto& job = jv.as_object();
    os << "job " << text(job.at("id"));
    if (!job.at("needs").as_array().empty()) {
      os << " (needs";
      for (const auto& n : job.at("needs").as_array()) os << " " << text(n);
      os << ")";
    }
    if (!text(job.at("if")).empty()) os << " if: " << text(job.at("if"));
    if (!job.at("matrix").as_object().empty()) os << " (first matrix combination only)";
    if (const auto* uses = job.if_contains("uses"))
      os << ": skipped: " << text(job.at("reason")) << " (" << text(*uses) << ")";
    os << "\n";
    for (const auto& sv : job.at("steps").as_array()) {
      const auto& step = sv.as_object();
      const std::string action = text(step.at("action"));
      os << "  " << action << std::string(10 - std::min<std::size_t>(action.size(), 9), ' ') << "line "
         << text(step.at("line")) << "  " << text(step.at("name"));
      if (action == "run")
        os << "  [" << text(step.at("shell")) << "]";
      else
        os << ": " << text(step.at("reason"));
      if (!text(step.at("if")).empty()) os << "  if: " << text(step.at("if"));
      os << "\n";
    }
  }
}

int plan_command(const config& c, const std::string& workflow, bool as_json) {
  const json::object plan = github::plan_workflow(c, workflow);
  if (const auto* error = plan.if_contains("error")) {
    std::cerr << "redundancy: " << text(*error) << "\n";
    return exit_code::usage;
  }
  const bool valid = plan.at("valid").as_bool();
  if (as_json) {
    std::cout << json::serialize(plan) << "\n";
  } else if (valid) {
    print_plan(std::cout, plan);
  }
  if (!valid) {
    std::cerr << text(plan.at("workflow")) << " is invalid and would never run:\n";
    for (const auto& p : plan.at("problems").as_array()) std::cerr << "  " << text(p) << "\n";
    return exit_code::failed;
  }
  return exit_code::ok;
}

int run_local_command(const config& c, const std::string& name, bool strict) {
  auto file = github::find_workflow_file(c, name);
  if (!file) {
    std::cerr << "redundancy: " << file.error() << "\n";
    return exit_code::usage;
  }
  const github::workflow w = github::load_workflow(*file);
  if (!w.valid()) {
    std::cerr << file->filename().string() << " is invalid and is never run:\n";
    for (const auto& p : w.problems) std::cerr << "  " << p << "\n";
    return exit_code::failed;
  }
  // The steps' output is the output; the runner's own log lines would repeat it.
  init_logging({.dir = {},
                .level = severity::warning,
                .max_file_bytes = 0,
                .max_files = 1,
                .to_stderr = true,
                .journal = false});
  asio::io_context io{1};
  asio::cancellation_signal stop;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool interrupted = false;
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    interrupted = true;
    stop.emit(asio::cancellation_type::terminal);  // ends the running step's process group
  });
  std::optional<github::local_run_report> finished;
  std::exception_ptr failure;
  asio::co_spawn(
      io,
      [&]() -> awaitable<github::local_run_report> {
        co_return co_await github::run_local(c, w, [](std::string_view s) { std::cout << s << std::flush; });
      },
      asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e, github::local_run_report r) {
        failure = e;
        if (!e) finished = std::move(r);
        signals.cancel();  // the last pending work: io.run() returns
      }));
  io.run();
  terminate_all_children(std::chrono::seconds(2));
  if (!finished) {
    std::string why = "failed";
    try {
      if (failure) std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      why = std::string("failed: ") + e.what();
    }
    std::cerr << "redundancy: the local run of " << file->filename().string()
              << (interrupted ? " was interrupted" : " " + why) << "\n";
    return exit_code::failed;
  }
  const github::local_run_report& report = *finished;
  if (!report.log_file.empty()) std::cerr << "log: " << report.log_file.string() << "\n";
  if (!report.summary_file.empty()) std::cerr << "step summaries: " << report.summary_file.string() << "\n";
  switch (report.conclusion) {
    case github::run_conclusion::success:
      return exit_code::ok;
    case github::run_conclusion::partial:
      if (strict) std::cerr << "partial run: failing because of --strict\n";
      return strict ? exit_code::failed : exit_code::ok;
    case github::run_conclusion::failure:
      if (report.result.steps.empty()) std::cerr << "redundancy: " << report.result.summary << "\n";
      return exit_code::failed;
  }
  return exit_code::failed;
}

}  // namespace

github_local_commands::github_local_commands(CLI::App& app, std::optional<std::filesystem::path>& config_file)
    : config_file_(config_file) {
  auto* github = app.get_subcommand("github");
  plan_ = github->add_subcommand("plan", "what a local run of WORKFLOW would execute and skip, without running it");
  plan_->add_option("workflow", workflow_, "the workflow: a watched one's file name, sync.yml or sync")->required();
  plan_->add_option("--config", config_file, "config file");
  plan_->add_flag("--json", json_, "print the plan as JSON");
  run_local_ =
      github->add_subcommand("run-local",
                             "run WORKFLOW's steps here and now, without a daemon, streaming their output; exit 0 when "
                             "it succeeded (also when steps had to be skipped, unless --strict), 1 when a step failed");
  run_local_->add_option("workflow", workflow_, "the workflow: a watched one's file name, sync.yml or sync")
      ->required();
  run_local_->add_option("--config", config_file, "config file");
  run_local_->add_flag("--strict", strict_, "exit 1 for a partial run too (steps or jobs that cannot run locally)");
}

std::optional<int> github_local_commands::run_parsed() {
  const bool plan = plan_->parsed();
  if (!plan && !run_local_->parsed()) return std::nullopt;
  auto c = load(config_file_);
  if (!c) return exit_code::usage;
  return plan ? plan_command(*c, workflow_, json_) : run_local_command(*c, workflow_, strict_);
}

}  // namespace redundancy::cli
