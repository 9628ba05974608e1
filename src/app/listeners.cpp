// The daemon's one event sink: webhooks and systemd (listeners.hpp).
#include "listeners.hpp"

#include "redundancy/orchestrator/orchestrator.hpp"
#include "redundancy/systemd/status_line.hpp"

namespace redundancy {

void listeners::recorded(const event& e) { webhooks_.on_event(e); }

void listeners::evaluated(const orchestrator& policy) {
  // Building /api/health's body costs a walk over every target: only for a service manager that listens.
  if (service_manager_.enabled()) service_manager_.status(systemd::status_line(policy.health_json()));
}

boost::json::object listeners::status() const { return {{"notify", webhooks_.status_json()}}; }

}  // namespace redundancy
