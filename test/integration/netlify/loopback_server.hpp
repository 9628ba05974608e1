// Test support: a tiny HTTP/1.1 server on 127.0.0.1 that records requests and answers by path:
// a target containing "hang" never gets an answer, "fail" gets 500, anything else 200.
#pragma once
#include "redundancy/core/asio.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <string>
#include <vector>

namespace netlify_test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class loopback_server {
 public:
  struct seen {
    std::string method{};
    std::string target{};
    std::string body{};
  };

  explicit loopback_server(asio::io_context& ioc) : acceptor_{ioc, {asio::ip::make_address("127.0.0.1"), 0}} {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }
  ~loopback_server() { close(); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  const std::vector<seen>& requests() const { return *requests_; }

  void close() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& s : *hanging_) s->close(ec);
  }

 private:
  asio::awaitable<void> accept_loop() {
    auto requests = requests_;
    auto hanging = hanging_;
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(acceptor_.get_executor(),
                     serve(std::make_shared<tcp::socket>(std::move(socket)), requests, hanging), asio::detached);
    }
  }

  static asio::awaitable<void> serve(std::shared_ptr<tcp::socket> socket, std::shared_ptr<std::vector<seen>> requests,
                                     std::shared_ptr<std::vector<std::shared_ptr<tcp::socket>>> hanging) {
    std::string buffer;
    auto [ec, n] = co_await asio::async_read_until(*socket, asio::dynamic_buffer(buffer), "\r\n\r\n",
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    const std::string head = buffer.substr(0, n);
    buffer.erase(0, n);
    seen s;
    s.method = head.substr(0, head.find(' '));
    const auto t = head.find(' ') + 1;
    s.target = head.substr(t, head.find(' ', t) - t);
    std::size_t length = 0;
    for (const std::string key : {"Content-Length: ", "content-length: "})
      if (const auto at = head.find(key); at != std::string::npos) length = std::stoul(head.substr(at + key.size()));
    if (buffer.size() < length) {
      auto [read_ec, read_n] = co_await asio::async_read(*socket, asio::dynamic_buffer(buffer),
                                                         asio::transfer_exactly(length - buffer.size()),
                                                         asio::as_tuple(asio::use_awaitable));
      (void)read_n;
      if (read_ec) co_return;
    }
    s.body = buffer.substr(0, length);
    requests->push_back(s);
    if (s.target.find("hang") != std::string::npos) {
      hanging->push_back(socket);  // kept open, never answered, closed with the server
      co_return;
    }
    const bool fail = s.target.find("fail") != std::string::npos;
    const std::string reply = std::string{"HTTP/1.1 "} + (fail ? "500 Internal Server Error" : "200 OK") +
                              "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    co_await asio::async_write(*socket, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
    boost::system::error_code ignored;
    socket->shutdown(tcp::socket::shutdown_both, ignored);
  }

  tcp::acceptor acceptor_;
  std::shared_ptr<std::vector<seen>> requests_ = std::make_shared<std::vector<seen>>();
  std::shared_ptr<std::vector<std::shared_ptr<tcp::socket>>> hanging_ =
      std::make_shared<std::vector<std::shared_ptr<tcp::socket>>>();
};

// Runs one coroutine on `ioc` until it finishes (other work, like a server, may stay pending).
template <typename T>
T run_on(asio::io_context& ioc, asio::awaitable<T> task) {
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) out = std::move(value);
    ioc.stop();
  });
  ioc.restart();
  ioc.run();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

}  // namespace netlify_test
