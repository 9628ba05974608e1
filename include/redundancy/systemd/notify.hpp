// The sd_notify protocol, spoken by the daemon itself (no libsystemd): readiness, a one-line
// status, watchdog keep-alives, reload and stop notices, each one datagram to the socket
// $NOTIFY_SOCKET names.
#pragma once
#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "redundancy/core/asio.hpp"

namespace redundancy::systemd {

using environment = std::map<std::string, std::string>;

// The socket address $NOTIFY_SOCKET names, as the bytes of sun_path: an absolute path as it is, an
// abstract name ("@name") with the '@' turned into the leading NUL. Anything else (a relative path,
// "vsock:", a name too long for sun_path) is an error saying what is wrong with the value.
boost::system::result<std::string, std::string> socket_address(std::string_view notify_socket);

// Whether this process owes systemd keep-alives, and how often: half of $WATCHDOG_USEC, when it is
// set and meant for `self` ($WATCHDOG_PID unset or equal). `problem` explains a value that was set
// but unusable (not a positive number of microseconds); the watchdog is then off.
struct watchdog_setting {
  std::optional<std::chrono::microseconds> period{};
  std::string problem{};
};
watchdog_setting watchdog_from(const environment& env, pid_t self);

// "STATUS=<text>" on one line (control characters become spaces), cut to at most max_status_bytes
// of text on a UTF-8 boundary so the datagram stays small.
inline constexpr std::size_t max_status_bytes = 1024;
std::string status_message(std::string_view text);
// "RELOADING=1\nMONOTONIC_USEC=<now>": systemd 253+ pairs a reload with the monotonic time it began
// and may wait for the reload's end until it times out when the time is missing.
std::string reloading_message(std::chrono::microseconds monotonic_now);
// CLOCK_MONOTONIC now, the clock MONOTONIC_USEC is read against.
std::chrono::microseconds monotonic_now();

// The daemon's side of the protocol. Built from the environment: without $NOTIFY_SOCKET (or with an
// unusable one, logged) it is disabled and every call does nothing: no socket, no timer.
class notifier {
 public:
  notifier(asio::any_io_executor executor, const environment& env, pid_t self);
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  bool enabled() const { return enabled_; }
  // The keep-alive period; nullopt when there is no watchdog (or no notify socket).
  std::optional<std::chrono::microseconds> watchdog_period() const {
    return enabled_ ? watchdog_.period : std::nullopt;
  }

  // READY=1 (with STATUS=status when given). The first one also starts the keep-alives: a timer on
  // this executor, so a loop that is stuck stops sending them and systemd's watchdog ends it.
  void ready(std::string_view status = {});
  void status(std::string_view text);
  void reloading();
  // STOPPING=1; the keep-alives end with it.
  void stopping();

  // Sends one datagram; false when it could not go. Failures are logged when they start and when
  // sending works again, not on every message.
  bool send(std::string_view message);

 private:
  awaitable<void> run_watchdog();

  asio::any_io_executor executor_;
  bool enabled_{false};
  watchdog_setting watchdog_{};
  asio::local::datagram_protocol::socket socket_;
  asio::local::datagram_protocol::endpoint endpoint_{};
  asio::steady_timer watchdog_timer_;
  bool watchdog_started_{false};
  bool stopping_{false};
  bool failing_{false};
};

}  // namespace redundancy::systemd
