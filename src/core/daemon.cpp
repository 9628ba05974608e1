// The daemon's life: start-up, the signal loop (TERM/INT stop, HUP reloads) and an orderly shutdown.
#include "redundancy/core/daemon.hpp"

#include "redundancy/core/asio.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/process.hpp"
#include "redundancy/core/scheduler.hpp"
#include "redundancy/core/subsystems.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace redundancy {
namespace {

using namespace std::chrono_literals;

// The whole shutdown must fit in 2 s: cancelled checks get drain_limit to end their children
// themselves, then whatever is left gets child_grace between SIGTERM and SIGKILL.
constexpr auto drain_limit = 1000ms;
constexpr auto child_grace = 600ms;

log_settings log_settings_for(const config& c) {
  return {
      .dir = c.log_dir,
      .level = severity_from_string(c.log.level).value_or(severity::info),
      .max_file_bytes = c.log.max_file_bytes,
      .max_files = c.log.max_files,
      .to_stderr = true,
      .journal = std::getenv("JOURNAL_STREAM") != nullptr,
  };
}

class daemon {
 public:
  daemon(config c, daemon_options options)
      : config_(std::move(c)), options_(std::move(options)), scheduler_(io_.get_executor()) {}

  int run() {
    init_logging(log_settings_for(config_));
    // Grandchildren orphaned by a tool we ran (pm2's own children, `sh -c 'a &'`) are re-parented
    // to us rather than to a PID 1 that may never reap them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::error_code ec;
    std::filesystem::create_directories(config_.state_dir, ec);
    if (ec) {
      RLOG("redundancy", error) << "cannot create state_dir " << config_.state_dir.string() << ": " << ec.message();
      return 1;
    }

    RLOG("redundancy", info) << "redundancy " << REDUNDANCY_VERSION << " starting, pid " << ::getpid()
                             << ", config " << config_.source << ", project " << config_.project_dir.string();
    for (auto& made : make_subsystems(config_)) scheduler_.add(std::move(made.target), made.schedule);
    if (scheduler_.states().empty())
      RLOG("redundancy", warning) << "no subsystem is enabled: nothing to watch";
    scheduler_.start();

    asio::co_spawn(io_, handle_signals(), asio::detached);
    io_.run();

    terminate_all_children(child_grace);
    RLOG("redundancy", info) << "stopped";
    flush_logs();
    return 0;
  }

 private:
  awaitable<void> handle_signals() {
    asio::signal_set signals(io_, SIGTERM, SIGINT, SIGHUP);
    for (;;) {
      auto [ec, number] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (number == SIGHUP) {
        reload();
        continue;
      }
      RLOG("redundancy", info) << "received " << (number == SIGTERM ? "SIGTERM" : "SIGINT") << ", stopping";
      co_await shut_down();
      co_return;
    }
  }

  // Cancels every check (the process runner ends and reaps their children), lets the loop drain for
  // a bounded time, then stops it; whatever is still running is ended by terminate_all_children.
  awaitable<void> shut_down() {
    scheduler_.stop();
    asio::steady_timer tick(io_);
    const auto deadline = std::chrono::steady_clock::now() + drain_limit;
    while (std::chrono::steady_clock::now() < deadline && (scheduler_.busy() || running_children() > 0)) {
      tick.expires_after(10ms);
      co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    io_.stop();
  }

  void reload() {
    auto loaded = load_config(options_.config_file, current_environment());
    if (!loaded) {
      RLOG("redundancy", error) << "reload refused, keeping the running config: " << loaded.error();
      return;
    }
    config next = std::move(*loaded);
    init_logging(log_settings_for(next));
    for (auto& made : make_subsystems(next))
      scheduler_.reschedule(made.target->name(), made.schedule);
    RLOG("redundancy", info) << "config reloaded from " << next.source;
    config_ = std::move(next);
  }

  asio::io_context io_{1};
  config config_;
  daemon_options options_;
  scheduler scheduler_;
};

}  // namespace

int run_daemon(config initial, const daemon_options& options) {
  return daemon(std::move(initial), options).run();
}

}  // namespace redundancy
