// A loopback fake of the few GitHub REST routes the github subsystem reads (repository, workflow,
// runs), whose answers a test switches between healthy and one fault: 500, 429 with retry-after,
// 403 rate-limited, invalid JSON, a body trickled one byte a second, or no answer at all. One thread
// per connection; the destructor closes every connection and joins them.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace redundancy::test {

enum class github_fault { none, server_error, too_many, rate_limited, invalid_json, trickle, silent };

class fake_github_server {
 public:
  fake_github_server() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 64) != 0)
      throw std::runtime_error("fake github: cannot listen");
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  fake_github_server(const fake_github_server&) = delete;
  fake_github_server& operator=(const fake_github_server&) = delete;
  ~fake_github_server() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    {
      std::lock_guard lock(mutex_);
      for (const int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    acceptor_.join();
    for (auto& t : handlers_) t.join();
    ::close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_fault(github_fault f) { fault_ = f; }
  int retry_after_seconds{2};

  // When each request arrived, and with which fault in force then.
  struct seen {
    std::chrono::steady_clock::time_point at;
    github_fault fault;
    std::string path;
  };
  std::vector<seen> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void accept_loop() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      open_.insert(fd);
      handlers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  static bool send_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  static std::string answer(int status, const std::string& reason, const std::string& headers,
                            const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/json\r\n" + headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  std::string healthy_body(const std::string& path) const {
    if (path.find("/runs") != std::string::npos) {
      const auto now = std::chrono::system_clock::now() - std::chrono::minutes(5);
      const auto t = std::chrono::system_clock::to_time_t(now);
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
      return std::string(R"({"total_count":1,"workflow_runs":[{"id":7,"event":"push","status":"completed",)") +
             R"("conclusion":"success","created_at":")" + stamp + R"(","run_started_at":")" + stamp +
             R"(","html_url":"https://github.com/acme/site/actions/runs/7"}]})";
    }
    if (path.find("/actions/workflows/") != std::string::npos)
      return R"({"state":"active","created_at":"2020-01-01T00:00:00Z","updated_at":"2020-01-01T00:00:00Z"})";
    return R"({"default_branch":"main","pushed_at":"2020-01-01T00:00:00Z"})";
  }

  void serve(int fd) {
    std::string buffer;
    char scratch[4096];
    while (!stopping_) {
      const auto end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) {
        pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        const auto n = ::recv(fd, scratch, sizeof scratch, 0);
        if (n <= 0) break;
        buffer.append(scratch, static_cast<std::size_t>(n));
        continue;
      }
      const std::string head = buffer.substr(0, end);
      buffer.erase(0, end + 4);  // GETs only: no body
      const auto first_space = head.find(' ');
      const std::string path = head.substr(first_space + 1, head.find(' ', first_space + 1) - first_space - 1);
      const auto fault = fault_.load();
      {
        std::lock_guard lock(mutex_);
        requests_.push_back({std::chrono::steady_clock::now(), fault, path});
      }
      if (!respond(fd, fault, path)) break;
    }
    std::lock_guard lock(mutex_);
    open_.erase(fd);
    ::close(fd);
  }

  // False when the connection is to be closed (or never answered until the test ends).
  bool respond(int fd, github_fault fault, const std::string& path) {
    switch (fault) {
      case github_fault::none:
        return send_all(fd, answer(200, "OK", "", healthy_body(path)));
      case github_fault::server_error:
        return send_all(fd, answer(500, "Internal Server Error", "", R"({"message":"boom"})"));
      case github_fault::too_many:
        return send_all(fd,
                        answer(429, "Too Many Requests", "Retry-After: " + std::to_string(retry_after_seconds) + "\r\n",
                               R"({"message":"secondary rate limit"})"));
      case github_fault::rate_limited: {
        const auto reset =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count() +
            retry_after_seconds;
        return send_all(fd, answer(403, "Forbidden",
                                   "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: " + std::to_string(reset) + "\r\n",
                                   R"({"message":"API rate limit exceeded"})"));
      }
      case github_fault::invalid_json:
        return send_all(fd, answer(200, "OK", "", "{\"workflow_runs\": [ not json"));
      case github_fault::trickle: {
        const auto whole = answer(200, "OK", "", healthy_body(path));
        const auto split = whole.find("\r\n\r\n") + 4;
        if (!send_all(fd, whole.substr(0, split))) return false;
        for (std::size_t i = split; i < whole.size() && !stopping_; ++i) {
          if (!send_all(fd, whole.substr(i, 1))) return false;
          for (int k = 0; k < 10 && !stopping_; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
      }
      case github_fault::silent:
        // Read nothing more, answer nothing, until the client gives up or the test ends.
        while (!stopping_) {
          pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
          if (::poll(&p, 1, 200) > 0) {
            char c;
            if (::recv(fd, &c, 1, MSG_PEEK) <= 0) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
          }
        }
        return false;
    }
    return false;
  }

  int listener_{-1};
  unsigned short port_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<github_fault> fault_{github_fault::none};
  std::mutex mutex_;
  std::set<int> open_;
  std::vector<seen> requests_;
  std::vector<std::thread> handlers_;
  std::thread acceptor_;
};

}  // namespace redundancy::test
