// A test-owned sd_notify socket: what systemd does for a Type=notify service, minus systemd. It
// binds a unix datagram socket at a path or an abstract name (for $NOTIFY_SOCKET), and a thread
// takes every datagram as it arrives, with the sender's pid (SCM_CREDENTIALS) and the time it came.
#pragma once
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace redundancy::test {

struct notify_message {
  std::string text{};
  pid_t sender{0};  // from the kernel's credentials, not from the message
  std::chrono::steady_clock::time_point at{};

  bool has(std::string_view line) const {
    std::size_t start = 0;
    while (start <= text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (std::string_view(text).substr(start, end - start) == line) return true;
      start = end + 1;
    }
    return false;
  }
  // The value of KEY=... in the message, if the key is there.
  std::optional<std::string> value(std::string_view key) const {
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string_view line = std::string_view(text).substr(start, end - start);
      if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=')
        return std::string(line.substr(key.size() + 1));
      start = end + 1;
    }
    return std::nullopt;
  }
};

class notify_socket {
 public:
  // `name` is what $NOTIFY_SOCKET will say: an absolute path, or "@name" for an abstract socket.
  explicit notify_socket(std::string name) : name_(std::move(name)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (name_.size() >= sizeof address.sun_path) throw std::runtime_error("socket name too long: " + name_);
    std::memcpy(address.sun_path, name_.data(), name_.size());
    if (name_.front() == '@') address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0)
      throw std::runtime_error("bind " + name_ + ": " + std::strerror(errno));
    const int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    // systemd reads its notify socket at once; so do we, so no message is lost to a full queue.
    reader_ = std::thread([this] { read_all(); });
  }
  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;
  ~notify_socket() {
    done_ = true;
    reader_.join();
    ::close(fd_);
    if (name_.front() == '/') ::unlink(name_.c_str());
  }

  const std::string& name() const { return name_; }

  std::vector<notify_message> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

  // Waits up to `limit` for a message at index >= `from` that has the line `line` ("READY=1");
  // returns its index.
  std::optional<std::size_t> wait_for(std::string_view line, std::size_t from = 0,
                                      std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    return wait_until([&](const notify_message& m) { return m.has(line); }, from, limit);
  }
  std::optional<std::size_t> wait_until(const std::function<bool(const notify_message&)>& match, std::size_t from,
                                        std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      for (std::size_t i = from; i < messages_.size(); ++i)
        if (match(messages_[i])) return i;
      if (arrived_.wait_until(lock, deadline) == std::cv_status::timeout) {
        for (std::size_t i = from; i < messages_.size(); ++i)
          if (match(messages_[i])) return i;
        return std::nullopt;
      }
    }
  }

 private:
  void read_all() {
    while (!done_) {
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buffer[8192];
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
      iovec io{.iov_base = buffer, .iov_len = sizeof buffer};
      msghdr header{};
      header.msg_iov = &io;
      header.msg_iovlen = 1;
      header.msg_control = control;
      header.msg_controllen = sizeof control;
      const ssize_t n = ::recvmsg(fd_, &header, MSG_DONTWAIT);
      if (n < 0) continue;
      notify_message m{.text = std::string(buffer, static_cast<std::size_t>(n)),
                       .sender = 0,
                       .at = std::chrono::steady_clock::now()};
      for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
          ucred credentials{};
          std::memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
          m.sender = credentials.pid;
        }
      {
        std::lock_guard lock(mutex_);
        messages_.push_back(std::move(m));
      }
      arrived_.notify_all();
    }
  }

  std::string name_;
  int fd_{-1};
  std::atomic<bool> done_{false};
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<notify_message> messages_;
  std::thread reader_;
};

}  // namespace redundancy::test
