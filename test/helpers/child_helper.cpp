// A tiny child program for the process runner's tests: each mode (argv[1]) does one thing a test needs
// to observe from the outside. Modelled on boostorg/process test/v2/target.cpp.
#include <dirent.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Writes all of `data` to `fd`; false when the reader is gone.
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool write_text(int fd, const std::string& text) { return write_all(fd, text.data(), text.size()); }

// Writes `count` bytes of 'x' (stdout) or 'e' (stderr).
bool write_bytes(int fd, unsigned long long count) {
  const std::vector<char> chunk(64 * 1024, fd == 1 ? 'x' : 'e');
  while (count > 0) {
    const std::size_t n = count < chunk.size() ? static_cast<std::size_t>(count) : chunk.size();
    if (!write_all(fd, chunk.data(), n)) return false;
    count -= n;
  }
  return true;
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (::nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

unsigned long long number(const char* text) { return std::strtoull(text, nullptr, 10); }

int usage() {
  std::fputs(
      "child_helper MODE [ARGS]\n"
      "  exit N            exit with code N\n"
      "  out N | err N     write N bytes to stdout | stderr\n"
      "  err-then-out N    write N bytes to stderr, then N bytes to stdout\n"
      "  sleep MS          sleep\n"
      "  fds               print each open fd and its target, one a line\n"
      "  env NAME          print NAME's value, or exit 3 when unset\n"
      "  cwd               print the working directory\n"
      "  args ...          print argv, one a line\n"
      "  ids               print \"pid pgid\"\n"
      "  stdin             print how many bytes stdin holds\n"
      "  ignore-term MS    ignore SIGTERM, print \"ready\", sleep\n"
      "  grandchild MS     fork a grandchild that sleeps MS, print its pid, sleep MS\n"
      "  raise SIG         send itself signal SIG\n",
      stderr);
  return 64;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2) return usage();
  const std::string_view mode = argv[1];
  const char* arg = argc > 2 ? argv[2] : nullptr;

  if (mode == "exit" && arg) return static_cast<int>(number(arg));
  if (mode == "out" && arg) return write_bytes(1, number(arg)) ? 0 : 1;
  if (mode == "err" && arg) return write_bytes(2, number(arg)) ? 0 : 1;
  if (mode == "err-then-out" && arg) return write_bytes(2, number(arg)) && write_bytes(1, number(arg)) ? 0 : 1;
  if (mode == "sleep" && arg) {
    sleep_ms(static_cast<long>(number(arg)));
    return 0;
  }
  if (mode == "fds") {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return 2;
    const int own = ::dirfd(dir);
    std::string text;
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      const int fd = std::atoi(entry->d_name);
      if (fd == own) continue;
      char target[PATH_MAX] = {};
      const std::string link = std::string("/proc/self/fd/") + entry->d_name;
      const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      text += std::to_string(fd) + " " + (n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "?") + "\n";
    }
    ::closedir(dir);
    return write_text(1, text) ? 0 : 1;
  }
  if (mode == "env" && arg) {
    const char* value = std::getenv(arg);
    if (value == nullptr) return 3;
    return write_text(1, value) ? 0 : 1;
  }
  if (mode == "cwd") {
    char buf[PATH_MAX];
    if (::getcwd(buf, sizeof buf) == nullptr) return 2;
    return write_text(1, buf) ? 0 : 1;
  }
  if (mode == "args") {
    std::string text;
    for (int i = 0; i < argc; ++i) text += std::string(argv[i]) + "\n";
    return write_text(1, text) ? 0 : 1;
  }
  if (mode == "ids") return write_text(1, std::to_string(::getpid()) + " " + std::to_string(::getpgrp())) ? 0 : 1;
  if (mode == "stdin") {
    char buf[4096];
    unsigned long long total = 0;
    ssize_t n;
    while ((n = ::read(0, buf, sizeof buf)) > 0) total += static_cast<unsigned long long>(n);
    return write_text(1, std::to_string(total)) ? 0 : 1;
  }
  if (mode == "ignore-term" && arg) {
    ::signal(SIGTERM, SIG_IGN);
    write_text(1, "ready\n");
    sleep_ms(static_cast<long>(number(arg)));
    return 0;
  }
  if (mode == "grandchild" && arg) {
    const pid_t pid = ::fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      sleep_ms(static_cast<long>(number(arg)));
      ::_exit(0);
    }
    write_text(1, std::to_string(pid) + "\n");
    sleep_ms(static_cast<long>(number(arg)));
    return 0;
  }
  if (mode == "raise" && arg) {
    ::raise(static_cast<int>(number(arg)));
    return 0;
  }
  return usage();
}
