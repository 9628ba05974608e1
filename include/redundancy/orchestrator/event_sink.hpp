// Who outside the policy layer hears what it decides. The program implements this once (webhooks,
// systemd's status line) and hands it to the orchestrator: one place to see every listener, and this
// layer needs neither HTTP nor systemd.
#pragma once
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/object.hpp>

namespace redundancy {

class orchestrator;

class event_sink {
 public:
  virtual ~event_sink() = default;
  // Every event once it is recorded (secrets masked), stored or kept in memory while the store fails.
  virtual void recorded(const event& e) = 0;
  // After every check result has been taken in (overall status, events, recovery decided). Given the
  // policy rather than its /api/health body, which a listener that does not need it never builds.
  virtual void evaluated(const orchestrator& policy) = 0;
  // What the listeners add to /api/status: {"notify": ...}; empty when they have nothing to say.
  virtual boost::json::object status() const = 0;
};

// The sink of an orchestrator nobody listens to (tests, `check --once`).
class no_listeners final : public event_sink {
 public:
  void recorded(const event&) override {}
  void evaluated(const orchestrator&) override {}
  boost::json::object status() const override { return {}; }
};

}  // namespace redundancy
