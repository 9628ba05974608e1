// The pub.sock loop: connect (or back off), read frames, report events, report the close, again.
#include "redundancy/pm2/bus_watcher.hpp"

#include "redundancy/core/log.hpp"

#include <boost/asio/as_tuple.hpp>

#include <array>

namespace redundancy::pm2 {

using stream = asio::local::stream_protocol;

bus_watcher::bus_watcher(asio::any_io_executor executor, std::filesystem::path socket_path, handler on_notice)
    : path_(std::move(socket_path)), on_notice_(std::move(on_notice)), socket_(executor), pause_(executor) {}

std::shared_ptr<bus_watcher> bus_watcher::start(asio::any_io_executor executor, std::filesystem::path socket_path,
                                                handler on_notice) {
  auto w = std::make_shared<bus_watcher>(executor, std::move(socket_path), std::move(on_notice));
  asio::co_spawn(
      executor, [w]() { return w->run(); },
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& error) {
          RLOG("pm2", error) << "pub.sock watcher ended: " << error.what();
        }
      });
  return w;
}

void bus_watcher::stop() {
  stopped_ = true;
  on_notice_ = nullptr;
  boost::system::error_code ignored;
  socket_.close(ignored);
  pause_.cancel();
}

void bus_watcher::notify(const bus_notice& n) {
  if (!stopped_ && on_notice_) on_notice_(n);
}

awaitable<void> bus_watcher::run() {
  auto self = shared_from_this();  // the loop keeps the watcher alive until it ends
  std::array<char, 64 * 1024> buffer;
  bool reported_unreachable = false;
  while (!stopped_) {
    boost::system::error_code ec;
    try {
      stream::endpoint endpoint(path_.string());
      std::tie(ec) = co_await socket_.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
    } catch (const boost::system::system_error& e) {
      ec = e.code();  // a path too long for sun_path: retrying will not help, but stays cheap
    }
    if (stopped_) break;
    if (ec) {
      if (!reported_unreachable)
        RLOG("pm2", debug) << "pub.sock " << path_.string() << " not reachable (" << ec.message() << "), retrying";
      reported_unreachable = true;
      boost::system::error_code ignored;
      socket_.close(ignored);
      pause_.expires_after(backoff_.next());
      co_await pause_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    reported_unreachable = false;
    backoff_.reset();
    connected_ = true;
    ++connections_;
    RLOG("pm2", info) << "listening to PM2 events on " << path_.string();
    notify({.what = bus_notice::kind::connected, .event = {}, .why = {}});

    amp_parser parser;
    std::string why;
    while (!stopped_ && why.empty()) {
      auto [read_ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      if (read_ec) {
        why = read_ec == asio::error::eof ? "the daemon closed pub.sock" : "pub.sock: " + read_ec.message();
        break;
      }
      auto frames = parser.feed(std::string_view(buffer.data(), n));
      if (!frames) {
        why = "pub.sock sent an unreadable stream: " + frames.error();
        break;
      }
      for (const auto& f : *frames) {
        auto parsed = parse_bus_frame(f);
        if (!parsed) {
          // One odd frame is not worth the connection: amp framing is intact, so the next frame is fine.
          RLOG("pm2", warning) << "pub.sock: ignored a frame: " << parsed.error();
          continue;
        }
        if (!*parsed) {
          ++skipped_;
          continue;
        }
        ++events_;
        notify({.what = bus_notice::kind::event, .event = std::move(**parsed), .why = {}});
        if (stopped_) break;
      }
    }
    connected_ = false;
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (stopped_) break;
    RLOG("pm2", info) << "lost PM2 events: " << why;
    notify({.what = bus_notice::kind::closed, .event = {}, .why = why});
    // Straight back in after a close: a daemon restart takes a moment, the backoff paces the retries.
    pause_.expires_after(backoff_.next());
    co_await pause_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  connected_ = false;
}

}  // namespace redundancy::pm2
