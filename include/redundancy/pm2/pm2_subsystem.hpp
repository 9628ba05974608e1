// The PM2 subsystem: watches the apps the project expects (pm2.processes plus every app of the
// ecosystem files), restarts what failed within bounded attempts, brings the PM2 daemon back.
#pragma once
#include "redundancy/core/config.hpp"
#include "redundancy/core/process.hpp"
#include "redundancy/core/subsystem.hpp"
#include "redundancy/pm2/bus_watcher.hpp"
#include "redundancy/pm2/ecosystem.hpp"
#include "redundancy/pm2/jlist.hpp"
#include "redundancy/pm2/manual_stops.hpp"
#include "redundancy/pm2/restart_fsm.hpp"
#include "redundancy/pm2/rpc_client.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace redundancy::pm2 {

// What the last check could tell about PM2 itself.
enum class pm2_state { unchecked, ok, daemon_down, not_answering, not_installed, bad_output };

std::string_view to_string(pm2_state s);

// Where the last check read PM2's list: over rpc.sock (getMonitorData), with `pm2 jlist`, or nowhere.
enum class list_source { none, rpc, jlist };
std::string_view to_string(list_source s);

// pm2.transport: "auto" (rpc.sock when it answers, else `pm2 jlist`), "socket" (rpc.sock only) or
// "cli" (`pm2 jlist` only, and no pub.sock events).
enum class transport_mode { automatic, socket, cli };
std::string_view to_string(transport_mode t);
std::optional<transport_mode> parse_transport_mode(std::string_view text);

class pm2_subsystem final : public subsystem {
 public:
  // Uses config.pm2, and config.project_dir / config.state_dir for relative paths and generated files.
  // Throws std::invalid_argument for a pm2.transport or pm2.cpu_action that names no choice (the config
  // reader refuses those; only a config built in code can have one).
  explicit pm2_subsystem(const config& cfg);
  ~pm2_subsystem() override;

  std::string_view name() const override { return "pm2"; }

  // Reads PM2's list per pm2.transport: getMonitorData over rpc.sock, else (auto) `pm2 jlist` after
  // probing the daemon without spawning one; then judges every app (expected or not). Every app target's
  // detail.source and the summary say which path was used.
  // Targets are the apps (detail.kind "app") and ecosystem files that failed to load (kind "ecosystem_file").
  awaitable<health> check() override;

  // Daemon down: pm2.daemon_restart_command, else `pm2 resurrect` when a dump exists, else every ecosystem
  // file; then the apps that are still down. Each down app: what its restart_fsm decides. Then oversized logs.
  awaitable<action_result> recover(const health& last) override;

  // `pm2 kill`, then every ecosystem file started, then `pm2 resurrect` for apps outside them, then a check;
  // with paused apps, each other app restarted on its own instead.
  awaitable<action_result> emergency(target_names left_alone) override;

  // "restart" with {"app": NAME} is restart_app(NAME); without an app, the emergency restart.
  boost::system::result<manual_work, std::string> manual(std::string_view verb, const boost::json::object& args,
                                                         const target_names& paused) override;

  // A person asked to restart one app: forgets given_up and the attempts, restarts it (or starts it from
  // its ecosystem file when PM2 does not know it), then checks.
  awaitable<action_result> restart_app(std::string name);

  // Rotates (copy and truncate, keeping pm2.log_keep files) the logs of expected apps over pm2.log_max_bytes,
  // unless a pm2-logrotate module runs. Uses the list of the last check.
  awaitable<action_result> rotate_logs();

  // Unless pm2.transport is "cli": keeps one rpc.sock connection for the checks and listens to
  // pub.sock; an expected app's exit, a `restart overlimit`, pm2:kill or the bus closing (daemon gone)
  // or coming back asks for a check, debounced so a burst of events makes one.
  void start_watching(asio::any_io_executor executor, std::function<void()> check_soon) override;
  void stop_watching() override;

  // The last check's result (state unknown before the first).
  const health& snapshot() const { return last_; }
  pm2_state state() const { return state_; }
  const std::filesystem::path& pm2_home() const { return pm2_home_; }
  list_source source() const { return source_; }
  // Checks asked for by events so far (after debouncing), and the watcher (null unless watching).
  std::uint64_t event_checks() const { return event_checks_; }
  const bus_watcher* events() const { return bus_.get(); }

 private:
  struct expected_app {
    std::optional<std::filesystem::path> file{};  // the ecosystem file defining it, if any
    restart_fsm fsm;
  };
  struct daemon_probe {
    bool running{false};    // pid alive or socket accepting
    bool answering{false};  // rpc.sock accepted a connection
    int pid{0};
  };

  // What a check found wrong, worst first, and whether an expected app is unhealthy or degraded.
  struct findings {
    std::vector<std::string> problems{};
    std::vector<std::string> warnings{};
    bool any_unhealthy{false};
    bool any_degraded{false};
  };

  struct debouncer;
  // The check's parts, in order: the expected set (ecosystem files refreshed), PM2's list along the
  // transport ladder (sets state_, source_, list_), each app judged, the dump and the daemon's memory.
  awaitable<void> gather_expected(health& h, findings& found);
  awaitable<daemon_probe> read_list(findings& found);
  void judge_apps(health& h, findings& found, fsm_clock::time_point now);
  void warn_about_dangers(const daemon_probe& probe, findings& found);
  // Whether this check measures the logs (clearing what the last measure found), and the measure of one
  // expected app's logs.
  bool logs_due(fsm_clock::time_point now);
  void measure_logs_of(const std::string& name, const std::vector<const app_entry*>& instances);
  awaitable<daemon_probe> probe_daemon();
  awaitable<boost::system::result<std::vector<app_entry>, rpc_error>> read_over_rpc();
  void on_bus(const bus_notice& notice);
  void check_soon(std::string why);
  awaitable<process_result> run_pm2(std::vector<std::string> args, std::size_t expected_out = 0);
  awaitable<bool> run_step(action_result& result, std::string name, std::vector<std::string> argv, bool pm2);
  awaitable<bool> start_from_file(action_result& result, const std::filesystem::path& file,
                                  std::optional<std::string> only);
  awaitable<void> recover_apps(action_result& result, const target_names& paused);
  // Whether a person stopped `app` on purpose and pm2.restart_manual_stops leaves it so.
  bool stopped_by_hand(std::string_view app) const { return !pm2_.restart_manual_stops && manual_stops_.contains(app); }
  // The emergency when apps are paused or stopped by hand: each other expected app restarted on its own,
  // no `pm2 kill`.
  awaitable<action_result> restart_all_but(target_names left_alone);
  // `pm2 restart NAME` when PM2 lists it, else (or when that fails) its start from its ecosystem file.
  awaitable<void> restart_or_start(action_result& result, const std::string& name, bool listed);

  // While PM2's daemon is going down (pm2:kill announced: it deletes every app, then exits) or coming up
  // (a young pid whose rpc.sock refuses), a repair would talk to a daemon that will not answer it. Waits,
  // at most pm2.timeout, for it to be gone or to answer; returns whether it waited.
  awaitable<bool> settle_daemon();
  // One round of recovery for the state of the last check; false when there is nothing it can do.
  awaitable<bool> repair(action_result& result, const target_names& paused);
  awaitable<void> recover_daemon(action_result& result);
  expected_app& expected(const std::string& name);
  std::vector<std::filesystem::path> ecosystem_paths() const;
  restart_settings fsm_settings() const;
  std::optional<std::filesystem::path> file_of(const std::string& name) const;
  bool dump_has_apps() const;
  std::set<std::string> dumped_names() const;  // the apps dump.pm2 holds (none when unreadable)
  // pm2.save_after_recovery: `pm2 save` once a check lists what the recovery started from its files,
  // unless saving would drop an app the dump has.
  awaitable<void> save_started_apps(action_result& result);

  pm2_config pm2_;
  transport_mode transport_;
  pm2_cpu_action cpu_action_;
  std::filesystem::path project_dir_;
  std::filesystem::path state_dir_;
  std::filesystem::path pm2_home_;
  ecosystem_cache ecosystems_;
  manual_stops manual_stops_;
  std::vector<ecosystem_file> files_{};
  std::map<std::string, expected_app> expected_{};
  std::vector<app_entry> list_{};  // the last jlist
  std::size_t last_jlist_bytes_{0};
  std::vector<std::filesystem::path> oversized_logs_{};
  std::vector<std::string> log_warnings_{};  // about oversized_logs_, repeated until they are measured again
  std::optional<fsm_clock::time_point> logs_measured_at_{};
  pm2_state state_{pm2_state::unchecked};
  health last_{};
  std::mt19937_64 random_;
  list_source source_{list_source::none};
  std::unique_ptr<rpc_client> rpc_{};  // while watching: one connection kept for every check
  std::shared_ptr<bus_watcher> bus_{};
  std::shared_ptr<debouncer> debounce_{};
  std::uint64_t event_checks_{0};
  int going_down_pid_{0};          // the daemon that announced pm2:kill, until it is gone
  bool daemon_was_gone_{false};    // seen down or going since it last answered: a new one may be starting
  int answered_pid_{0};            // the last daemon that answered: another pid is a new one, maybe starting
  bool daemon_died_{false};        // a step of this round was cancelled: its daemon died under it
  bool started_from_file_{false};  // this recovery started apps from an ecosystem file
};

}  // namespace redundancy::pm2
