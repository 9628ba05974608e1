// Everyone outside the policy layer who hears what it decides, in one place: the webhooks (the
// notifier) hear every event and add their state to /api/status; systemd hears the status line after
// every evaluation, when the daemon runs under systemd.
#pragma once
#include "redundancy/orchestrator/event_sink.hpp"
#include "redundancy/orchestrator/notify.hpp"
#include "redundancy/systemd/notify.hpp"

namespace redundancy {

class listeners final : public event_sink {
 public:
  listeners(notifier& webhooks, systemd::notifier& service_manager)
      : webhooks_(webhooks), service_manager_(service_manager) {}

  void recorded(const event& e) override;
  void evaluated(const orchestrator& policy) override;
  boost::json::object status() const override;

 private:
  notifier& webhooks_;
  systemd::notifier& service_manager_;
};

}  // namespace redundancy
