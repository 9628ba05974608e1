// Runs every state-changing action (automatic or requested), one per subsystem at a time, recorded in
// the store before it runs and after it ends, followed by a re-check of what it touched.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/health.hpp"
#include "redundancy/core/secret_mask.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace redundancy {

class store;
class scheduler;
struct action_record;

struct action_request {
  std::string kind{};                // recover, emergency, restart, trigger, regenerate, deploy, check
  std::string subsystem{};           // its lane; "orchestrator" for the emergency, which takes lanes step by step
  std::string target{};              // an app, a workflow, or empty for the whole subsystem
  std::string requested_by{"auto"};  // auto, api
  std::string lane{};                // what it must not run beside; empty means its subsystem
  std::function<awaitable<action_result>()> work{};
};

class action_runner {
 public:
  action_runner(asio::any_io_executor executor, store& history, scheduler& checks);
  action_runner(const action_runner&) = delete;
  action_runner& operator=(const action_runner&) = delete;

  // Values never stored or shown: every occurrence in an action's summary, output and steps becomes
  // "***" from the next action that ends on. Empty values are ignored.
  void set_secrets(std::vector<std::string> secrets);

  // Records the action as queued and returns its id at once; it runs when its subsystem's lane is
  // free. A failure to record (disk full) still runs the action, with id 0, and is logged.
  std::int64_t submit(action_request request);

  // Runs `step` holding the lane of `subsystem`, for actions that touch several subsystems in turn.
  awaitable<action_result> exclusive(std::string subsystem, std::function<awaitable<action_result>()> step);

  // The id of the queued or running action of this subsystem and kind (any kind when empty).
  std::optional<std::int64_t> active(std::string_view subsystem, std::string_view kind = {}) const;

  // Called when an action starts running, with its record (for the action_started event).
  std::function<void(const action_record&)> on_started{};
  // Called when an action ends, with its final record (for metrics, events, notifications).
  std::function<void(const action_record&)> on_finished{};

 private:
  struct lane {
    bool busy{false};
    std::deque<asio::steady_timer*> waiting{};
  };
  awaitable<void> run(std::int64_t id, action_request request);
  awaitable<void> acquire(const std::string& subsystem);
  void release(const std::string& subsystem);

  asio::any_io_executor executor_;
  store& store_;
  scheduler& scheduler_;
  std::map<std::string, lane, std::less<>> lanes_;
  struct active_entry {
    std::string subsystem;
    std::string kind;
  };
  std::map<std::int64_t, active_entry> active_;
  std::int64_t unrecorded_{0};  // negative ids for actions the store could not record
  secret_mask secrets_;
};

// The last `limit` bytes of text, cut at a line start where one is near.
std::string tail_of(std::string_view text, std::size_t limit = 4096);

}  // namespace redundancy
