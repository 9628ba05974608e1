// The event watch: pub.sock's events (an app's exit, pm2:kill, the bus closing or coming back) ask for a
// check, debounced so that a burst makes one.
#include "redundancy/pm2/pm2_subsystem.hpp"

#include "pm2_subsystem_internal.hpp"
#include "redundancy/core/log.hpp"

#include <functional>

namespace redundancy::pm2 {

using detail::pid_alive;
using detail::read_pid;

// A burst of events makes one check: the first arms a short timer, the others find it armed.
struct pm2_subsystem::debouncer {
  explicit debouncer(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  std::function<void()> fire{};
  bool armed{false};
};

namespace {
// Long enough to merge PM2's exit/online pairs and a crash loop's bursts, short enough for "within a second".
constexpr auto debounce_window = std::chrono::milliseconds(200);
}  // namespace

pm2_subsystem::~pm2_subsystem() { stop_watching(); }

void pm2_subsystem::start_watching(asio::any_io_executor executor, std::function<void()> check_soon) {
  if (transport_ == transport_mode::cli || bus_) return;
  rpc_ = std::make_unique<rpc_client>(executor, pm2_home_ / "rpc.sock");
  debounce_ = std::make_shared<debouncer>(executor);
  debounce_->fire = std::move(check_soon);
  bus_ = bus_watcher::start(executor, pm2_home_ / "pub.sock", [this](const bus_notice& n) { on_bus(n); });
}

void pm2_subsystem::stop_watching() {
  if (bus_) bus_->stop();
  bus_.reset();
  if (debounce_) {
    debounce_->fire = nullptr;
    debounce_->timer.cancel();
  }
  debounce_.reset();
  rpc_.reset();
}

void pm2_subsystem::on_bus(const bus_notice& n) {
  switch (n.what) {
    case bus_notice::kind::connected:
      // The daemon is back (or was restarted behind our back): look at once rather than at the interval.
      if (bus_ && bus_->connections() > 1) check_soon("PM2 daemon is back");
      return;
    case bus_notice::kind::closed:
      daemon_was_gone_ = true;
      check_soon("PM2 events stopped (" + n.why + ")");
      return;
    case bus_notice::kind::event:
      break;
  }
  const auto& e = n.event;
  if (e.topic == "pm2:kill") {
    // It deletes every app now and exits after: the apps' absence is no job for a repair.
    if (int pid = read_pid(pm2_home_ / "pm2.pid"); pid_alive(pid)) going_down_pid_ = pid;
    daemon_was_gone_ = true;
    check_soon("PM2 daemon is being killed");
  } else if (e.event == "restart overlimit")
    check_soon(e.app + " hit PM2's restart limit");
  else if (e.event == "exit" && expected_.count(e.app))
    check_soon(e.app + " exited");
  else if (e.event == "stop" && e.manually && expected_.count(e.app)) {
    // `pm2 stop` from a person (PM2's CLI sends it; PM2's own stops are not "manually").
    manual_stops_.add(e.app);
    check_soon(e.app + " stopped by hand");
  }
}

void pm2_subsystem::check_soon(std::string why) {
  if (!debounce_ || !debounce_->fire) return;
  RLOG("pm2", debug) << "event: " << why;
  if (debounce_->armed) return;
  debounce_->armed = true;
  debounce_->timer.expires_after(debounce_window);
  debounce_->timer.async_wait([d = debounce_, why, this](boost::system::error_code ec) {
    d->armed = false;
    if (ec || !d->fire) return;  // stopped: `this` may be gone, and nothing is asked for
    ++event_checks_;
    RLOG("pm2", info) << "checking now: " << why;
    d->fire();
  });
}

}  // namespace redundancy::pm2
