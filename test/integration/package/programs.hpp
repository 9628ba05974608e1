// Running outside programs from the packaging tests (cmake, cpack, dpkg-deb, promtool, systemd-analyze)
// and an installed copy of the daemon, which support/daemon.hpp cannot start (it runs the build's binary).
#pragma once
#include "support/daemon.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace redundancy::test {

// True when `name` is an executable file in one of $PATH's folders.
inline bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string folders = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= folders.size()) {
    const auto end = std::min(folders.find(':', start), folders.size());
    const auto candidate = std::filesystem::path(folders.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

struct command_result {
  int exit_code{-1};     // -1 when it was killed at the limit or by a signal
  std::string output{};  // stdout and stderr together, in order
};

// Starts argv[0] (found on $PATH) with `env` added, stdout and stderr both to `output_file`, in a process
// group of its own; returns its pid.
inline pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& output_file,
                   const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e)
    if (const std::string_view entry = *e; !env.contains(std::string(entry.substr(0, entry.find('=')))))
      environment.emplace_back(entry);
  for (const auto& [k, v] : env) environment.push_back(k + "=" + v);
  const auto pointers = [](const std::vector<std::string>& strings) {
    std::vector<char*> p;
    for (const auto& s : strings) p.push_back(const_cast<char*>(s.c_str()));
    p.push_back(nullptr);
    return p;
  };
  posix_spawn_file_actions_t files;
  posix_spawnattr_t attributes;
  ::posix_spawn_file_actions_init(&files);
  ::posix_spawn_file_actions_addopen(&files, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::posix_spawn_file_actions_adddup2(&files, 1, 2);
  ::posix_spawnattr_init(&attributes);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  ::posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  const int failed = ::posix_spawnp(&pid, argv.at(0).c_str(), &files, &attributes, pointers(argv).data(),
                                    pointers(environment).data());
  ::posix_spawn_file_actions_destroy(&files);
  ::posix_spawnattr_destroy(&attributes);
  if (failed != 0) throw std::runtime_error("cannot start " + argv.at(0) + ": " + std::strerror(failed));
  return pid;
}

// A started program (see spawn), reaped by pid and ended with its whole group by the destructor:
// SIGTERM to it, then SIGKILL to its group after `grace`.
class child {
 public:
  child(const std::vector<std::string>& argv, const std::filesystem::path& output_file,
        const std::map<std::string, std::string>& env = {})
      : pid_(spawn(argv, output_file, env)) {}
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() { stop(std::chrono::seconds(3)); }

  // Its exit code (-1 after a signal) once it has ended within `limit`, else nullopt (still running).
  std::optional<int> wait(std::chrono::milliseconds limit) {
    for (const auto deadline = std::chrono::steady_clock::now() + limit; !ended_;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        ended_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      } else if (std::chrono::steady_clock::now() >= deadline) {
        break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    return ended_ ? std::optional<int>(exit_code_) : std::nullopt;
  }

  // Ends it: SIGTERM, up to `grace` to exit, then SIGKILL to its group (while the pid is still ours).
  void stop(std::chrono::milliseconds grace) {
    if (ended_) return;
    ::kill(pid_, SIGTERM);
    if (wait(grace)) return;
    ::kill(-pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }

 private:
  pid_t pid_{-1};
  bool ended_{false};  // (not an optional: g++ 12 -O2 warns maybe-uninitialized on one)
  int exit_code_{-1};
};

// Runs a command to completion (its whole group killed after `limit`) and returns its exit code and output.
inline command_result run_command(const std::vector<std::string>& argv,
                                  const std::map<std::string, std::string>& env = {},
                                  std::chrono::seconds limit = std::chrono::seconds(120)) {
  const temp_dir scratch;
  const auto output_file = scratch.path() / "output";
  std::optional<int> code;
  {
    child running(argv, output_file, env);
    code = running.wait(limit);
  }
  return {.exit_code = code.value_or(-1), .output = read_text(output_file)};
}

// `redundancy run --config F` from an installed binary, with its state and output in `dir`.
class installed_daemon {
 public:
  installed_daemon(const std::filesystem::path& binary, const std::filesystem::path& config_file,
                   const std::filesystem::path& dir)
      : dir_(dir), process_({binary.string(), "run", "--config", config_file.string()}, dir / "daemon.log") {}

  std::string log() const { return read_text(dir_ / "daemon.log"); }

  // The "127.0.0.1:PORT" the daemon wrote to <state_dir>/http.addr once it listens.
  std::string wait_for_address(const std::filesystem::path& state_dir) {
    for (int i = 0; i < 2000 && !process_.wait(std::chrono::milliseconds(10)); ++i) {
      const auto text = read_text(state_dir / "http.addr");
      if (!text.empty() && text.back() == '\n') return text.substr(0, text.size() - 1);
    }
    throw std::runtime_error("the installed daemon never wrote http.addr; its output:\n" + log());
  }

 private:
  std::filesystem::path dir_;
  child process_;
};

// A config for `installed_daemon` with every subsystem off, listening on a free loopback port, its state
// in <dir>/state; `extra_http` is appended inside "http" (e.g. a web_root).
inline std::filesystem::path write_quiet_config(const std::filesystem::path& dir, const std::string& extra_http = {}) {
  const auto file = dir / "redundancy.json";
  write_text(file, R"({
    "project_dir": ")" +
                       dir.string() + R"(",
    "state_dir": "state", "log_dir": "logs",
    "http": { "listen": "127.0.0.1:0")" +
                       extra_http + R"( },
    "pm2": { "enabled": false }, "github": { "enabled": false }, "netlify": { "enabled": false }
  })");
  return file;
}

// GET `path` from `binary` run on a quiet config in a fresh folder (`extra_http` as in write_quiet_config).
inline http_answer get_from(const std::filesystem::path& binary, const std::string& path,
                            const std::string& extra_http = {}) {
  const temp_dir dir;
  installed_daemon daemon(binary, write_quiet_config(dir.path(), extra_http), dir.path());
  return http_get(daemon.wait_for_address(dir.path() / "state"), path);
}

}  // namespace redundancy::test
