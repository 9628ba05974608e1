// Test support: a webhook receiver on 127.0.0.1 in its own thread (the test thread is free to sleep
// and run the binary). It records every request, answers 200 unless told to fail the next N, and can
// be stopped (connection refused) and started again on the same port.
#pragma once
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace redundancy::test {

class webhook_receiver {
 public:
  struct request {
    std::string method{};
    std::string target{};
    std::map<std::string, std::string> headers{};  // names lower-case
    std::string body{};
    unsigned answered{0};  // the status it got
  };

  // Listens on 127.0.0.1:port (0: any free port).
  explicit webhook_receiver(unsigned short port = 0) { start(port); }
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;
  ~webhook_receiver() { stop(); }

  unsigned short port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // The next n requests are answered with `status` (and counted as not delivered).
  void fail_next(int n, unsigned status = 500) {
    std::lock_guard lock(mutex_);
    failures_left_ = n;
    failure_status_ = status;
  }

  // Closes the listener and every connection: connections are refused until start().
  void stop() {
    if (!io_) return;
    io_->stop();
    if (thread_.joinable()) thread_.join();
    acceptor_.reset();
    io_.reset();
  }

  // Listens again, on the same port unless one is given.
  void start(unsigned short port = 0) {
    stop();
    io_ = std::make_unique<boost::asio::io_context>(1);
    acceptor_ = std::make_unique<tcp::acceptor>(*io_);
    const tcp::endpoint at{boost::asio::ip::make_address("127.0.0.1"), port ? port : port_};
    acceptor_->open(at.protocol());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(at);
    acceptor_->listen();
    port_ = acceptor_->local_endpoint().port();
    boost::asio::co_spawn(*io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([io = io_.get()] { io->run(); });
  }

  std::vector<request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // The requests answered 2xx.
  std::vector<request> delivered() const {
    std::vector<request> out;
    for (auto& r : requests())
      if (r.answered >= 200 && r.answered < 300) out.push_back(std::move(r));
    return out;
  }

 private:
  using tcp = boost::asio::ip::tcp;

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_->async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      boost::asio::co_spawn(acceptor_->get_executor(), serve(std::move(socket)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> serve(tcp::socket socket) {
    using boost::asio::as_tuple;
    using boost::asio::use_awaitable;
    std::string buffer;
    auto [ec, n] = co_await boost::asio::async_read_until(socket, boost::asio::dynamic_buffer(buffer), "\r\n\r\n",
                                                          as_tuple(use_awaitable));
    if (ec) co_return;
    request r;
    const std::string head = buffer.substr(0, n);
    buffer.erase(0, n);
    const auto first_end = head.find("\r\n");
    const std::string first = head.substr(0, first_end);
    r.method = first.substr(0, first.find(' '));
    const auto t = first.find(' ') + 1;
    r.target = first.substr(t, first.find(' ', t) - t);
    for (auto pos = first_end + 2; pos < head.size();) {
      const auto end = head.find("\r\n", pos);
      const auto line = head.substr(pos, end - pos);
      pos = end == std::string::npos ? head.size() : end + 2;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    std::size_t length = 0;
    if (auto it = r.headers.find("content-length"); it != r.headers.end()) length = std::stoul(it->second);
    if (buffer.size() < length) {
      auto [read_ec, read_n] = co_await boost::asio::async_read(socket, boost::asio::dynamic_buffer(buffer),
                                                                boost::asio::transfer_exactly(length - buffer.size()),
                                                                as_tuple(use_awaitable));
      (void)read_n;
      if (read_ec) co_return;
    }
    r.body = buffer.substr(0, length);
    {
      std::lock_guard lock(mutex_);
      r.answered = 200;
      if (failures_left_ > 0) {
        --failures_left_;
        r.answered = failure_status_;
      }
      requests_.push_back(r);
    }
    const std::string reply = "HTTP/1.1 " + std::to_string(r.answered) + (r.answered == 200 ? " OK" : " Failing") +
                              "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    co_await boost::asio::async_write(socket, boost::asio::buffer(reply), as_tuple(use_awaitable));
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
  }

  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::thread thread_;
  unsigned short port_{0};
  mutable std::mutex mutex_;
  std::vector<request> requests_;
  int failures_left_{0};
  unsigned failure_status_{500};
};

}  // namespace redundancy::test
