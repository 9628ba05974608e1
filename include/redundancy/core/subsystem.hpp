// The interface every watched domain (pm2, github, netlify) implements; policy lives elsewhere.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/health.hpp"

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
};

}  // namespace redundancy
