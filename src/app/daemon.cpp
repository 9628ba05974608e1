// The daemon's life: start-up, the signal loop (TERM/INT stop, HUP reloads) and an orderly shutdown.
#include "redundancy/app/daemon.hpp"

#include "daemon_parts.hpp"
#include "listeners.hpp"
#include "redundancy/app/subsystems.hpp"
#include "redundancy/core/asio.hpp"
#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/child_ledger.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/process.hpp"
#include "redundancy/core/scheduler.hpp"
#include "redundancy/core/state_lock.hpp"
#include "redundancy/github/runner_temp.hpp"
#include "redundancy/http/api.hpp"
#include "redundancy/http/router.hpp"
#include "redundancy/http/server.hpp"
#include "redundancy/http/token.hpp"
#include "redundancy/metrics/metrics.hpp"
#include "redundancy/orchestrator/actions.hpp"
#include "redundancy/orchestrator/notify.hpp"
#include "redundancy/orchestrator/orchestrator.hpp"
#include "redundancy/orchestrator/store.hpp"
#include "redundancy/systemd/notify.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <vector>

namespace redundancy {
namespace {

using namespace std::chrono_literals;

// The whole shutdown must fit in 2 s: cancelled checks get drain_limit to end their children
// themselves, then whatever is left gets child_grace between SIGTERM and SIGKILL.
constexpr auto drain_limit = 1000ms;
constexpr auto child_grace = 600ms;

class daemon {
 public:
  daemon(config c, daemon_options options)
      : config_(std::move(c)),
        options_(std::move(options)),
        token_(token_for(config_)),
        scheduler_(io_.get_executor()),
        history_(open_history(config_, history_problem_)),
        actions_(io_.get_executor(), history_, scheduler_),
        policy_(config_, scheduler_, actions_, history_, metrics_),
        notifier_(io_.get_executor(), config_.notify, history_),
        server_(io_.get_executor(), server_settings_for(config_, token_), routes_) {
    mask_secrets(config_);
    // The orchestrator tells, its listeners (webhooks, systemd) hear: the policy layer stays free of HTTP.
    policy_.set_sink(listeners_);
    notifier_.record = [this](std::string subsystem, std::string target, std::string kind, std::string severity,
                              std::string message, boost::json::object data) {
      policy_.record_event(std::move(subsystem), std::move(target), std::move(kind), std::move(severity),
                           std::move(message), std::move(data));
    };
    add_api_routes(routes_, {.policy = policy_,
                             .checks = scheduler_,
                             .actions = actions_,
                             .history = history_,
                             .numbers = metrics_,
                             .started_at = std::chrono::system_clock::now()});
    if (history_problem_) policy_.set_history_problem(*history_problem_);
  }

  int run() {
    // Grandchildren orphaned by a tool we ran (pm2's own children, `sh -c 'a &'`) are re-parented
    // to us rather than to a PID 1 that may never reap them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::error_code ec;
    std::filesystem::create_directories(config_.state_dir, ec);
    if (ec) {
      RLOG("redundancy", error) << "cannot create state_dir " << config_.state_dir.string() << ": " << ec.message();
      return 1;
    }

    RLOG("redundancy", info) << "redundancy " << REDUNDANCY_VERSION << " starting, pid " << ::getpid() << ", config "
                             << config_.source << ", project " << config_.project_dir.string();
    // A previous life killed with SIGKILL could not end its children: a hung pm2 or deploy would run
    // on, holding locks and the PM2 daemon's attention. End them before starting anything new.
    const auto ledger = config_.state_dir / "child-ledger";
    const auto leftovers = end_leftover_children(ledger, child_grace);
    use_child_ledger(ledger);
    if (auto bound = server_.listen(); !bound) {
      RLOG("http", error) << bound.error();
      return 1;
    }
    const auto address = publish_address();

    asio::co_spawn(io_, server_.run(), asio::detached);
    // Queued behind the server's start and ahead of the first checks: the loop's first act once the
    // port accepts, so systemd hears READY before any STATUS.
    asio::post(io_, [this, address] { systemd_.ready("starting: listening on http://" + address + "/"); });
    for (auto& made : make_subsystems(config_)) add_subsystem(std::move(made));
    if (scheduler_.states().empty()) RLOG("redundancy", warning) << "no subsystem is enabled: nothing to watch";
    // Before the policy: its first events (and the outbox kept from before) are the notifier's.
    notifier_.start();
    policy_.start();
    if (!leftovers.empty()) {
      std::size_t processes = 0;
      boost::json::array groups;
      for (const auto& g : leftovers) {
        processes += g.members;
        groups.push_back(g.pgid);
      }
      policy_.record_event("orchestrator", "", "leftover_children_ended", "warning",
                           "ended " + std::to_string(processes) + " processes in " + std::to_string(leftovers.size()) +
                               " process groups that a previous run (killed before it could end them) left running",
                           {{"process_groups", std::move(groups)}, {"processes", processes}});
    }
    scheduler_.start();

    asio::co_spawn(io_, handle_signals(), asio::detached);
    asio::co_spawn(io_, reap_orphans_now_and_then(), asio::detached);
    io_.run();

    terminate_all_children(child_grace);
    // Actions cut short by the stop are recorded as such now, not only when (if) the daemon starts again.
    if (const auto interrupted = history_.mark_unfinished_interrupted())
      RLOG("orchestrator", warning) << interrupted << " unfinished actions marked interrupted at shutdown";
    return 0;
  }

 private:
  awaitable<void> handle_signals() {
    for (;;) {
      auto [ec, number] = co_await signals_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (number == SIGHUP) {
        systemd_.reloading();
        const auto refused = reload();
        systemd_.ready(refused ? "reload refused, running config kept: " + *refused : std::string{});
        continue;
      }
      RLOG("redundancy", info) << "received " << (number == SIGTERM ? "SIGTERM" : "SIGINT") << ", stopping";
      systemd_.stopping();
      co_await shut_down();
      co_return;
    }
  }

  // We are a subreaper: tools' orphans (a daemonising pm2, `sh -c 'a &'`) become our children, and
  // nothing else would ever wait for them.
  awaitable<void> reap_orphans_now_and_then() {
    asio::steady_timer timer(io_);
    for (;;) {
      timer.expires_after(5s);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      reap_orphans();
    }
  }

  // Cancels every check (the process runner ends and reaps their children), lets the loop drain for
  // a bounded time, then stops it; whatever is still running is ended by terminate_all_children.
  awaitable<void> shut_down() {
    server_.stop();
    for (const auto& [name, s] : scheduler_.states()) s.target->stop_watching();
    scheduler_.stop();
    asio::steady_timer tick(io_);
    const auto deadline = std::chrono::steady_clock::now() + drain_limit;
    while (std::chrono::steady_clock::now() < deadline && (scheduler_.busy() || running_children() > 0)) {
      tick.expires_after(10ms);
      co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    io_.stop();
  }

  void add_subsystem(scheduled_subsystem made) {
    // A subsystem's own watches (PM2's event bus) ask for checks between the intervals.
    const std::string name{made.target->name()};
    made.target->start_watching(io_.get_executor(), [this, name] { scheduler_.check_now(name); });
    scheduler_.add(std::move(made.target), made.schedule);
  }

  // Logs the bound address, warns when it is beyond loopback, and writes it to http.addr, where
  // clients (the CLI, tests) read the real port when the config asked for port 0. Returns it.
  std::string publish_address() {
    const auto endpoint = server_.local_endpoint();
    const auto address =
        (endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]" : endpoint.address().to_string()) +
        ":" + std::to_string(endpoint.port());
    RLOG("http", info) << "listening on http://" << address << "/";
    if (server_.beyond_loopback())
      RLOG("http", warning) << "listening on " << address << ", which is not a loopback address: every path but "
                            << joined(config_.http.public_routes)
                            << " (http.public_routes) needs the token; the API is plain HTTP, so reach it "
                               "from other machines through a reverse proxy with TLS (README: Beyond loopback)";
    if (auto error = write_file_atomically(config_.state_dir / "http.addr", address + "\n"))
      RLOG("http", warning) << "cannot write http.addr: " << *error;
    return address;
  }

  // No action output, event or log line shows the token or a secret of c from now on.
  void mask_secrets(const config& c) {
    const auto secrets = secrets_of(c, token_);
    actions_.set_secrets(secrets);
    policy_.set_secrets(secrets);
    mask_in_logs(secrets);
  }

  // Applies every changed key of the file: subsystems whose section changed are stopped and built
  // again (their state starts afresh), the listener moves when http.listen changed, the rest is
  // handed to its owner. Keys only a restart can change refuse the whole reload. Returns why the
  // reload was refused, if it was.
  std::optional<std::string> reload() {
    auto loaded = load_config(options_.config_file, current_environment());
    if (!loaded) {
      RLOG("redundancy", error) << "reload refused, keeping the running config: " << loaded.error();
      return loaded.error();
    }
    config next = std::move(*loaded);
    auto changed = changed_keys(config_, next);

    std::vector<std::string> restart_only;
    for (const auto& key : changed)
      if (needs_restart(key)) restart_only.push_back(key);
    if (!restart_only.empty()) {
      const auto why = joined(restart_only) + " can only change with a restart";
      RLOG("redundancy", error) << "reload refused, keeping the running config: " << why;
      policy_.record_event("orchestrator", "", "config_reload_refused", "warning",
                           "config reload from " + next.source + " refused, running config kept: " + why,
                           {{"source", next.source}, {"restart_keys", json_strings(restart_only)}});
      return why;
    }

    // The listener first: the only part that can fail. The old address stays in force if it does.
    boost::json::object not_applied;
    if (next.http.listen != config_.http.listen) {
      if (auto moved = server_.rebind(next.http.listen); !moved) {
        RLOG("http", error) << "reload: http.listen not applied, still listening on " << config_.http.listen << ": "
                            << moved.error();
        not_applied["http.listen"] = moved.error();
        next.http.listen = config_.http.listen;
        std::erase(changed, "http.listen");
      }
    }

    init_logging(log_settings_for(next));
    // The old name too: its variable is still in our environment, and must not reach a child now.
    withhold_from_children({config_.github.token_env, next.github.token_env});
    std::vector<std::string> rebuilt;
    for (const auto& name : subsystem_names()) {
      if (!changes_subsystem(changed, name)) continue;
      if (const auto* running = scheduler_.state(name)) {
        running->target->stop_watching();
        scheduler_.remove(name);
      }
      if (auto made = make_subsystem(next, name)) add_subsystem(std::move(*made));
      RLOG("redundancy", info) << name << ": " << (scheduler_.state(name) ? "rebuilt" : "stopped")
                               << " for the reloaded config";
      rebuilt.push_back(name);
    }
    policy_.apply(next);
    notifier_.apply(next.notify);
    // The token file is read again whether or not its name changed: replacing it is how a token is rotated.
    token_ = token_for(next);
    server_.set_token(token_);
    mask_secrets(next);
    server_.set_allowed_hosts(next.http.allowed_hosts);
    server_.set_public_routes(next.http.public_routes);
    if (next.http.web_root != config_.http.web_root) server_.set_web_root(web_root_for(next));
    config_ = std::move(next);
    if (std::find(changed.begin(), changed.end(), "http.listen") != changed.end()) publish_address();

    std::string message = "config reloaded from " + config_.source + ": ";
    message += changed.empty() ? "nothing changed" : "changed " + joined(changed);
    if (!rebuilt.empty()) message += "; subsystems rebuilt: " + joined(rebuilt);
    if (const auto* listen_error = not_applied.if_contains("http.listen"))
      message +=
          "; http.listen not applied, still " + config_.http.listen + ": " + std::string(listen_error->as_string());
    const bool complete = not_applied.empty();
    RLOG_AT("redundancy", complete ? severity::info : severity::warning) << message;
    policy_.record_event("orchestrator", "", "config_reloaded", complete ? "info" : "warning", message,
                         {{"source", config_.source},
                          {"changed", json_strings(changed)},
                          {"rebuilt", json_strings(rebuilt)},
                          {"not_applied", std::move(not_applied)}});
    return std::nullopt;
  }

  asio::io_context io_{1};
  config config_;
  daemon_options options_;
  std::string token_;  // the API token, for masking; the server holds its own copy
  scheduler scheduler_;
  std::optional<std::string> history_problem_;
  store history_;
  metrics metrics_;
  action_runner actions_;
  orchestrator policy_;
  notifier notifier_;  // webhooks
  http::router routes_;
  http::server server_;
  systemd::notifier systemd_{io_.get_executor(), current_environment(), ::getpid()};
  listeners listeners_{notifier_, systemd_};
  // Caught from construction on: a SIGHUP sent the moment READY=1 arrives must reload, not kill us.
  asio::signal_set signals_{io_, SIGTERM, SIGINT, SIGHUP};
};

}  // namespace

int run_daemon(config initial, const daemon_options& options) {
  // Before anything is touched (the log files, the history whose unfinished actions the constructor
  // marks interrupted, the ledger whose children run() ends): a second daemon on this state_dir would
  // take the first one's actions and children for leftovers of a dead run.
  auto lock = state_lock::take(initial.state_dir);
  if (!lock) {
    std::cerr << "redundancy: " << lock.error() << "\n";
    return 2;  // as a config error: this config cannot run here now
  }
  // Logging next: everything after it, opening the history included, has something to say.
  init_logging(log_settings_for(initial));
  // Only we write here now: the temporary files of a writer killed mid-write are garbage.
  for (const auto& folder : {initial.state_dir, initial.log_dir})
    for (const auto& removed : remove_atomic_leftovers(folder))
      RLOG("redundancy", info) << "removed " << removed.string() << ", left by a run killed while writing it";
  // A local run killed with us (SIGKILL) could not remove its folder, which holds its steps' unmasked output.
  for (const auto& removed : github::remove_runner_temps_of_ended_runs())
    RLOG("github", info) << "removed " << removed.string() << ", the runner folder of a run that was killed";
  const auto address_file = initial.state_dir / "http.addr";
  const int code = daemon(std::move(initial), options).run();
  // Nobody listens there any more (a daemon killed leaves it: readers ask the lock whether one runs).
  std::error_code ec;
  std::filesystem::remove(address_file, ec);
  // Only now has every part let go (the loop's unfinished work destroyed, the history closed), so that
  // after "stopped" the process has nothing left to do but exit.
  if (code == 0) RLOG("redundancy", info) << "stopped";
  flush_logs();
  return code;
}

}  // namespace redundancy
