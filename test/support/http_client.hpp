// A tiny blocking HTTP/1.1 client over a raw TCP socket for tests: writes exact bytes, reads one answer.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace redundancy::test {

// One parsed answer: status, lower-case header names, body (by Content-Length).
struct http_answer {
  int status{0};
  std::map<std::string, std::string> headers{};
  std::string body{};

  // A header's value by lower-case name, "" when absent.
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A connection to 127.0.0.1:port. Every wait is bounded by `timeout` so a broken server fails a test
// instead of hanging it.
class raw_connection {
 public:
  explicit raw_connection(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  ~raw_connection() { ::close(fd_); }

  // Sends all of `bytes`; false when the peer has closed or reset the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Whether bytes (or EOF) can be read now, waiting at most `timeout`.
  bool readable(std::chrono::milliseconds timeout) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

  // Reads one answer; nullopt when the connection closes (or the timeout passes) before a whole one.
  // `head_request`: the answer to a HEAD request, whose Content-Length announces a body that is not sent.
  std::optional<http_answer> read_answer(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                         bool head_request = false) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t header_end = std::string::npos;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(deadline)) return std::nullopt;
    http_answer answer;
    const std::string head = buffer_.substr(0, header_end);
    buffer_.erase(0, header_end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) return std::nullopt;
    answer.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const auto start = line_end + 2;
      line_end = head.find("\r\n", start);
      const auto line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      answer.headers[name] = value;
    }
    std::size_t length = 0;
    if (const auto it = answer.headers.find("content-length"); it != answer.headers.end() && !head_request)
      length = std::stoul(it->second);
    while (buffer_.size() < length)
      if (!fill(deadline)) return std::nullopt;
    answer.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return answer;
  }

  // Whether the server closes the connection (EOF or reset) within `timeout`, dropping what it sends first.
  bool wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readable(left)) return false;
      char scratch[4096];
      const auto n = ::recv(fd_, scratch, sizeof scratch, 0);
      if (n <= 0) return true;
    }
  }

 private:
  // Reads more into buffer_; false on EOF, error or deadline.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !readable(left)) return false;
    char scratch[8192];
    const auto n = ::recv(fd_, scratch, sizeof scratch, 0);
    if (n <= 0) return false;
    buffer_.append(scratch, static_cast<std::size_t>(n));
    return true;
  }

  int fd_{-1};
  std::string buffer_{};
};

// A one-shot request on a new connection.
inline std::optional<http_answer> http_exchange(unsigned short port, std::string_view bytes) {
  raw_connection connection(port);
  if (!connection.send(bytes)) return std::nullopt;
  return connection.read_answer();
}

}  // namespace redundancy::test
