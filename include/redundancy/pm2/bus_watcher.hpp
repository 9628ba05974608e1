// Listens to PM2's pub.sock (the daemon's broadcast of every process event) and reports what matters,
// reconnecting with backoff while the daemon is away. It only reports; the PM2 subsystem decides.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/pm2/rpc_protocol.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace redundancy::pm2 {

// What the watcher saw: connected to the bus, an event, or the bus gone (daemon died, stream unreadable).
struct bus_notice {
  enum class kind { connected, event, closed };
  kind what{kind::event};
  bus_event event{};  // for event
  std::string why{};  // for closed
};

class bus_watcher : public std::enable_shared_from_this<bus_watcher> {
 public:
  using handler = std::function<void(const bus_notice&)>;

  // Starts watching socket_path (pub.sock) on executor; on_notice is called on that executor until stop().
  // Connecting never starts a daemon: while the socket is absent or refuses, it retries with backoff.
  static std::shared_ptr<bus_watcher> start(asio::any_io_executor executor, std::filesystem::path socket_path,
                                            handler on_notice);
  // Ends the loop; no notice is delivered after this returns.
  void stop();

  bool connected() const { return connected_; }
  std::uint64_t connections() const { return connections_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t skipped_frames() const { return skipped_; }  // log:* and topics we do not read

  bus_watcher(asio::any_io_executor executor, std::filesystem::path socket_path, handler on_notice);

 private:
  awaitable<void> run();
  void notify(const bus_notice& n);

  std::filesystem::path path_;
  handler on_notice_;
  asio::local::stream_protocol::socket socket_;
  asio::steady_timer pause_;
  reconnect_backoff backoff_{};
  bool stopped_{false};
  bool connected_{false};
  std::uint64_t connections_{0}, events_{0}, skipped_{0};
};

}  // namespace redundancy::pm2
