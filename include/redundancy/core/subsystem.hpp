// The interface every watched domain (pm2, github, netlify) implements; policy lives elsewhere.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/health.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace redundancy {

// Names of a subsystem's targets ("web", "deploy.yml"), e.g. the ones a person paused.
using target_names = std::set<std::string, std::less<>>;

class subsystem {
 public:
  virtual ~subsystem() = default;

  // "pm2", "github", "netlify": the name used in config, API paths, metrics and logs.
  virtual std::string_view name() const = 0;

  // Looks at the domain and reports; never changes anything. The scheduler bounds it with a timeout
  // and cancels it when that passes, so every child process it starts must end on cancellation.
  virtual awaitable<health> check() = 0;

  // Repairs what the last check found, within the subsystem's own limits (attempts, backoff).
  virtual awaitable<action_result> recover(const health& last) = 0;

  // How many checks in a row must find it unhealthy before the first recovery; until then it shows as
  // degraded. Default: the first.
  virtual unsigned failures_before_recovery() const { return 1; }

  // The orchestrator's emergency step for this domain (restart everything, run everything, redeploy),
  // leaving alone the targets a person paused.
  virtual awaitable<action_result> emergency(target_names left_alone) = 0;

  // The work for a person's request ("restart" with {"app": "api"}, "trigger", "deploy", ...), or why
  // it cannot be done (unknown verb, bad arguments), answered as 400. Validation happens here, before
  // anything is queued; the returned work runs later on the action runner. Work on every target (no
  // target named) leaves the paused ones alone; a request that names a paused one is refused before this.
  using manual_work = std::function<awaitable<action_result>()>;
  virtual boost::system::result<manual_work, std::string> manual(std::string_view verb, const boost::json::object& args,
                                                                 const target_names& paused) {
    (void)args;
    (void)paused;
    return "the " + std::string(name()) + " subsystem has no '" + std::string(verb) + "' action";
  }

  // When the request names a target this subsystem does not watch ({"workflow": "/tmp/evil.yml"}),
  // why, naming the ones it does; the API answers it 404 before manual() is asked. Default: none.
  virtual std::optional<std::string> unknown_target(std::string_view verb, const boost::json::object& args) const {
    (void)verb;
    (void)args;
    return std::nullopt;
  }

  // Starts the subsystem's own watches of its domain between checks (PM2's event bus) on executor,
  // which runs them until stop_watching(). check_soon asks the scheduler for a check as soon as
  // possible; it may be called often (the scheduler merges requests). Default: nothing to watch.
  virtual void start_watching(asio::any_io_executor executor, std::function<void()> check_soon) {
    (void)executor;
    (void)check_soon;
  }
  // Ends the watches; no check_soon call happens after it returns.
  virtual void stop_watching() {}
};

}  // namespace redundancy
