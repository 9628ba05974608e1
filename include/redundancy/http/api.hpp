// The JSON API (see the README's "The HTTP API") and /metrics, as routes on the HTTP router.
#pragma once
#include "redundancy/core/config.hpp"
#include "redundancy/core/health.hpp"
#include "redundancy/http/router.hpp"

namespace redundancy {

class action_runner;
class metrics;
class orchestrator;
class scheduler;
class store;

struct api_context {
  orchestrator& policy;
  scheduler& checks;
  action_runner& actions;
  store& history;
  metrics& numbers;
  sys_time started_at{};
};

// Registers every route. Handlers read in-memory state or queue an action and answer 202 at once.
void add_api_routes(http::router& routes, api_context context);

}  // namespace redundancy
