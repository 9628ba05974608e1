// The interface every watched domain (pm2, github, netlify) implements; policy lives elsewhere.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/health.hpp"

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace redundancy {

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

  // The orchestrator's emergency step for this domain (restart everything, run everything, redeploy).
  virtual awaitable<action_result> emergency() = 0;

  // The work for a person's request ("restart" with {"app": "api"}, "trigger", "deploy", ...), or why
  // it cannot be done (unknown verb, bad arguments), answered as 400. Validation happens here, before
  // anything is queued; the returned work runs later on the action runner.
  using manual_work = std::function<awaitable<action_result>()>;
  virtual boost::system::result<manual_work, std::string> manual(std::string_view verb,
                                                                 const boost::json::object& args) {
    (void)args;
    return "the " + std::string(name()) + " subsystem has no '" + std::string(verb) + "' action";
  }
};

}  // namespace redundancy
