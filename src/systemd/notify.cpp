// sd_notify without libsystemd: addresses, messages, and the notifier's datagrams and keep-alive
// timer.
#include "redundancy/systemd/notify.hpp"

#include <sys/un.h>
#include <time.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <charconv>

#include "redundancy/core/log.hpp"

namespace redundancy::systemd {
namespace {

// Both sides are strings, so every return names its side.
using failure = boost::system::result<std::string, std::string>;

// sun_path holds 108 bytes; Asio keeps one for a terminating NUL.
constexpr std::size_t max_address_bytes = sizeof(sockaddr_un{}.sun_path) - 1;

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || stop != end || text.empty()) return std::nullopt;
  return value;
}

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

boost::system::result<std::string, std::string> socket_address(std::string_view notify_socket) {
  if (notify_socket.empty()) return failure(boost::system::in_place_error, "NOTIFY_SOCKET is empty");
  if (notify_socket.starts_with("vsock:"))
    return failure(boost::system::in_place_error,
                   "NOTIFY_SOCKET=" + std::string(notify_socket) + ": vsock addresses are not supported");
  if (notify_socket.front() != '/' && notify_socket.front() != '@')
    return failure(boost::system::in_place_error, "NOTIFY_SOCKET=" + std::string(notify_socket) +
                                                      ": neither an absolute path nor an abstract name (@...)");
  if (notify_socket == "@")
    return failure(boost::system::in_place_error, "NOTIFY_SOCKET=@: the abstract name is empty");
  if (notify_socket.size() > max_address_bytes)
    return failure(boost::system::in_place_error, "NOTIFY_SOCKET is " + std::to_string(notify_socket.size()) +
                                                      " bytes long, more than a socket address holds (" +
                                                      std::to_string(max_address_bytes) + ")");
  std::string address(notify_socket);
  // An abstract name: its first byte is NUL and no terminating NUL counts in its length.
  if (address.front() == '@') address.front() = '\0';
  return failure(boost::system::in_place_value, std::move(address));
}

watchdog_setting watchdog_from(const environment& env, pid_t self) {
  const auto usec = env.find("WATCHDOG_USEC");
  if (usec == env.end()) return {};
  // systemd sets WATCHDOG_PID to the main process: a child that inherited the variables is not
  // meant.
  if (const auto pid = env.find("WATCHDOG_PID"); pid != env.end()) {
    const auto owner = parse_unsigned(pid->second);
    if (!owner) return {.period = {}, .problem = "WATCHDOG_PID=" + pid->second + " is not a process id"};
    if (*owner != static_cast<std::uint64_t>(self)) return {};
  }
  const auto value = parse_unsigned(usec->second);
  if (!value || *value == 0)
    return {.period = {}, .problem = "WATCHDOG_USEC=" + usec->second + " is not a positive number of microseconds"};
  // Half the timeout, as systemd advises: one late keep-alive still arrives in time. At least 1 ms,
  // so a tiny value cannot turn the timer into a busy loop.
  const auto half = std::chrono::microseconds(*value / 2);
  return {.period = std::max<std::chrono::microseconds>(half, std::chrono::milliseconds(1)), .problem = {}};
}

std::string status_message(std::string_view text) {
  std::string line = "STATUS=";
  for (const char c : cut_utf8(text, max_status_bytes)) {
    const auto byte = static_cast<unsigned char>(c);
    line += (byte < 0x20 || byte == 0x7F) ? ' ' : c;
  }
  return line;
}

std::string reloading_message(std::chrono::microseconds monotonic) {
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic.count());
}

std::chrono::microseconds monotonic_now() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::microseconds(now.tv_nsec / 1000);
}

notifier::notifier(asio::any_io_executor executor, const environment& env, pid_t self)
    : executor_(executor), socket_(executor), watchdog_timer_(executor) {
  const auto variable = env.find("NOTIFY_SOCKET");
  if (variable == env.end()) return;
  auto address = socket_address(variable->second);
  if (!address) {
    RLOG("systemd", warning) << "not notifying systemd: " << address.error();
    return;
  }
  boost::system::error_code ec;
  socket_.open(asio::local::datagram_protocol(), ec);
  // A full receive queue must not block the loop: the message is then reported lost instead.
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    RLOG("systemd", warning) << "not notifying systemd: cannot open a datagram socket: " << ec.message();
    return;
  }
  endpoint_ = asio::local::datagram_protocol::endpoint(std::string_view(*address));
  watchdog_ = watchdog_from(env, self);
  if (!watchdog_.problem.empty()) RLOG("systemd", warning) << "no watchdog keep-alives: " << watchdog_.problem;
  enabled_ = true;
  RLOG("systemd", info) << "notifying systemd at " << variable->second
                        << (watchdog_.period ? ", watchdog keep-alive every " +
                                                   std::to_string(watchdog_.period->count() / 1000) + " ms"
                                             : std::string(", no watchdog"));
}

bool notifier::send(std::string_view message) {
  if (!enabled_) return false;
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(message.data(), message.size()), endpoint_, 0, ec);
  if (ec && !failing_)
    RLOG("systemd", warning) << "cannot notify systemd (" << message.substr(0, message.find('\n'))
                             << "): " << ec.message();
  else if (!ec && failing_)
    RLOG("systemd", info) << "notifying systemd works again";
  else if (!ec)
    RLOG("systemd", trace) << "notified systemd: " << message;
  failing_ = static_cast<bool>(ec);
  return !ec;
}

void notifier::ready(std::string_view status) {
  if (!enabled_) return;
  send(status.empty() ? std::string("READY=1") : "READY=1\n" + status_message(status));
  if (watchdog_.period && !watchdog_started_ && !stopping_) {
    watchdog_started_ = true;
    asio::co_spawn(executor_, run_watchdog(), asio::detached);
  }
}

void notifier::status(std::string_view text) {
  if (enabled_) send(status_message(text));
}

void notifier::reloading() {
  if (enabled_) send(reloading_message(monotonic_now()));
}

void notifier::stopping() {
  if (!enabled_) return;
  stopping_ = true;
  watchdog_timer_.cancel();
  send("STOPPING=1");
}

awaitable<void> notifier::run_watchdog() {
  while (!stopping_) {
    watchdog_timer_.expires_after(*watchdog_.period);
    auto [ec] = co_await watchdog_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || stopping_) co_return;
    send("WATCHDOG=1");
  }
}

}  // namespace redundancy::systemd
