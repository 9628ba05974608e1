// Runs the real `redundancy` binary from a test: a temporary project and state folder, a config file,
// the process started in its own group, its address read from http.addr, and everything ended after.
#pragma once
#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "test_paths.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace redundancy::test {

struct run_result {
  int exit_code{-1};
  std::string out{};
  std::string err{};
};

// Runs the binary to completion with `args` (and extra environment), capturing its output.
inline run_result run_binary(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                             std::chrono::seconds limit = std::chrono::seconds(30)) {
  char out_name[] = "/tmp/redundancy-out-XXXXXX";
  char err_name[] = "/tmp/redundancy-err-XXXXXX";
  const int out_fd = ::mkstemp(out_name);
  const int err_fd = ::mkstemp(err_name);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv{const_cast<char*>(REDUNDANCY_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(REDUNDANCY_BINARY, argv.data());
    ::_exit(127);
  }
  run_result r;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ::close(out_fd);
  ::close(err_fd);
  r.out = read_text(out_name);
  r.err = read_text(err_name);
  ::unlink(out_name);
  ::unlink(err_name);
  return r;
}

// The daemon in the background. The destructor ends it (SIGTERM, then SIGKILL to its whole group).
class daemon_process {
 public:
  // Starts `redundancy run --config <config_file>` in `dir` with `env` added; output to dir/daemon.out/err.
  daemon_process(const std::filesystem::path& config_file, const std::filesystem::path& dir,
                 const std::map<std::string, std::string>& env = {})
      : dir_(dir) {
    const int out_fd = ::open((dir / "daemon.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = ::open((dir / "daemon.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::dup2(out_fd, 1);
      ::dup2(err_fd, 2);
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      const std::string config_arg = config_file.string();
      ::execl(REDUNDANCY_BINARY, REDUNDANCY_BINARY, "run", "--config", config_arg.c_str(), nullptr);
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
    ::close(out_fd);
    ::close(err_fd);
  }
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;
  ~daemon_process() { kill_all(); }

  pid_t pid() const { return pid_; }
  std::string err() const { return read_text(dir_ / "daemon.err"); }

  // Waits until <state_dir>/http.addr names the bound address; returns "127.0.0.1:PORT".
  std::string wait_for_address(const std::filesystem::path& state_dir,
                               std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto text = read_text(state_dir / "http.addr");
      if (!text.empty() && text.back() == '\n') return text.substr(0, text.size() - 1);
      if (exited()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("the daemon never wrote http.addr; stderr:\n" + err());
  }

  // True once the process has exited (and is reaped); exit_code() then tells how.
  bool exited() {
    if (reaped_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return reaped_;
  }
  int exit_code() const { return exit_code_; }

  // Sends `sig` and waits up to `limit` for the exit; returns how long it took, or nullopt.
  std::optional<std::chrono::milliseconds> signal_and_wait(int sig, std::chrono::milliseconds limit) {
    const auto start = std::chrono::steady_clock::now();
    ::kill(pid_, sig);
    while (std::chrono::steady_clock::now() - start < limit) {
      if (exited())
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }

  void kill_all() {
    if (pid_ <= 0) return;
    if (!exited()) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 300 && !exited(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(-pid_, SIGKILL);  // anything left in its group
    if (!exited()) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      reaped_ = true;
    }
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_{-1};
  bool reaped_{false};
  int exit_code_{-1};
};

// The API token the daemon tests give their daemons through REDUNDANCY_TOKEN.
inline constexpr std::string_view api_token = "test-token-0123456789";
inline std::map<std::string, std::string> env_with_api_token() {
  return {{"REDUNDANCY_TOKEN", std::string(api_token)}};
}

inline unsigned short port_of(const std::string& address) {
  return static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1)));
}

// GET `path` from the daemon at "127.0.0.1:PORT"; a failed exchange is status 0.
inline http_answer http_get(const std::string& address, const std::string& path) {
  auto answer = http_exchange(port_of(address),
                              "GET " + path + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n\r\n");
  return answer.value_or(http_answer{});
}

// POST a JSON `body` with an optional Bearer token.
inline http_answer http_post(const std::string& address, const std::string& path, const std::string& body,
                             const std::string& token = {}) {
  std::string request =
      "POST " + path + " HTTP/1.1\r\nHost: " + address +
      "\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  request += "\r\n" + body;
  return http_exchange(port_of(address), request).value_or(http_answer{});
}

// Pids whose parent is `parent` (from /proc), for "no child left behind" checks.
inline std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) found.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return found;
}

// Pids in process group `group` (from /proc), zombies included.
inline std::vector<pid_t> members_of_group(pid_t group) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == group) found.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return found;
}

}  // namespace redundancy::test
