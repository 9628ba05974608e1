// Runs each subsystem's check on its own timer, bounded by a timeout, and keeps the latest result.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/health.hpp"
#include "redundancy/core/subsystem.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace redundancy {

// How a check ended; the label of redundancy_checks_total.
enum class check_outcome { ok, failed, error, timeout };
std::string_view to_string(check_outcome o);

struct check_schedule {
  std::chrono::milliseconds interval{std::chrono::seconds(30)};
  std::chrono::milliseconds timeout{std::chrono::seconds(20)};
};

// What the scheduler knows of one subsystem, read by the API without waiting.
struct subsystem_state {
  std::shared_ptr<subsystem> target{};
  check_schedule schedule{};
  health last{};
  bool checked{false};  // at least one check has completed
  check_outcome last_outcome{check_outcome::ok};
  std::chrono::milliseconds last_duration{};
  sys_time next_check_at{};
  unsigned consecutive_failures{0};
  std::uint64_t checks{0};
  bool running{false};
  // How long after its due time the last check started, when its timer started it; empty when it
  // was asked for (check_now, the first check). The event loop's stalls show here first.
  std::optional<std::chrono::duration<double>> last_lateness{};
};

class scheduler {
 public:
  // Called after every completed check, pass or fail, with the subsystem's state.
  using observer = std::function<void(const subsystem_state&)>;

  explicit scheduler(asio::any_io_executor executor);
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;
  ~scheduler();

  // Registers a subsystem; its loop starts with start() (or at once when already started).
  void add(std::shared_ptr<subsystem> target, check_schedule schedule);
  // Changes a subsystem's interval and timeout (config reload); takes effect from the next wait.
  void reschedule(std::string_view name, check_schedule schedule);
  // Unregisters a subsystem (config reload): its loop ends and a check in flight is cancelled (its
  // children are ended by the process runner); its state is gone at once, so add() may register a new
  // one of the same name right after. False when no such subsystem is registered.
  bool remove(std::string_view name);
  void on_checked(observer o) { observer_ = std::move(o); }

  void start();
  asio::any_io_executor executor() const { return executor_; }
  // Cancels every loop and the checks in flight (their children are ended by the process runner).
  void stop();

  // Asks for a check as soon as possible. A request made while a check of that subsystem runs is merged
  // into a single follow-up check, however many arrive; never two checks of one subsystem at once.
  // Returns false when no such subsystem is registered. An empty name means every subsystem.
  bool check_now(std::string_view name);
  // Asks for a check of `name` (empty: every subsystem) and returns once each of them has finished a
  // check that started after this call: the one way to wait for fresh results. A check running now
  // began too early to count; a subsystem removed meanwhile, or stop(), ends its part of the wait.
  awaitable<void> fresh_checks(std::string name);

  const subsystem_state* state(std::string_view name) const;
  // True while any check runs.
  bool busy() const;
  const std::map<std::string, subsystem_state, std::less<>>& states() const { return states_; }

 private:
  struct loop;
  // A loop holds its own `loop`; once that is marked removed, the state it names may be gone, so the
  // loop touches it no more after any wait.
  awaitable<void> run_loop(std::string name, std::shared_ptr<loop> l);
  awaitable<void> run_one_check(subsystem_state& s, const loop& l);
  void spawn(const std::string& name);

  asio::any_io_executor executor_;
  std::map<std::string, subsystem_state, std::less<>> states_;
  std::map<std::string, std::shared_ptr<loop>, std::less<>> loops_;
  observer observer_;
  // Never expires: cancelled after every finished check (and by stop), waking fresh_checks waiters.
  asio::steady_timer check_finished_;
  bool started_{false};
  bool stopped_{false};
};

}  // namespace redundancy
