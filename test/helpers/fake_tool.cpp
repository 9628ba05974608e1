// A stand-in for an external tool (pm2, netlify) in the fault tests: `fake_tool STATE_DIR ARGS...`
// records its pid in STATE_DIR/pids and its ARGS in STATE_DIR/calls, then behaves as STATE_DIR/mode
// says, read at every start so a test can bring a fault and take it away while the daemon runs:
//   ok              print STATE_DIR/stdout (when present), exit 0
//   hang            fork a grandchild (same process group, pid recorded too), both sleep for an hour
//   exit N          print "fake_tool: failing on purpose" on stderr, exit N
//   garbage         print text that is no tool's JSON, exit 0
//   huge N          print N bytes of 'x', exit 0
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string read_file(const std::string& path) {
  std::string text;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
    std::fclose(f);
  }
  return text;
}

// Appends one line with O_APPEND, so concurrent runs do not tear each other's lines.
void append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string text = line + "\n";
  [[maybe_unused]] const auto n = ::write(fd, text.data(), text.size());
  ::close(fd);
}

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

void sleep_seconds(long s) {
  timespec ts{s, 0};
  while (::nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2) {
    std::fputs("fake_tool STATE_DIR ARGS...\n", stderr);
    return 64;
  }
  const std::string dir = argv[1];
  std::string args;
  for (int i = 2; i < argc; ++i) args += (i > 2 ? " " : "") + std::string(argv[i]);
  append_line(dir + "/pids", std::to_string(::getpid()));
  append_line(dir + "/calls", args);

  std::string mode = read_file(dir + "/mode");
  while (!mode.empty() && (mode.back() == '\n' || mode.back() == ' ')) mode.pop_back();
  const auto space = mode.find(' ');
  const std::string name = mode.substr(0, space);
  const std::string arg = space == std::string::npos ? "" : mode.substr(space + 1);

  if (name.empty() || name == "ok") {
    const auto out = read_file(dir + "/stdout");
    write_all(1, out.data(), out.size());
    return 0;
  }
  if (name == "hang") {
    const pid_t child = ::fork();
    if (child == 0) {
      append_line(dir + "/pids", std::to_string(::getpid()));
      sleep_seconds(3600);
      return 0;
    }
    sleep_seconds(3600);
    return 0;
  }
  if (name == "exit") {
    std::fputs("fake_tool: failing on purpose\n", stderr);
    return std::atoi(arg.c_str());
  }
  if (name == "garbage") {
    const std::string text = "[PM2] Spawning PM2 daemon\n{\"oops\": [1, 2,\n<html>not json at all\n";
    write_all(1, text.data(), text.size());
    return 0;
  }
  if (name == "huge") {
    unsigned long long left = std::strtoull(arg.c_str(), nullptr, 10);
    const std::vector<char> chunk(64 * 1024, 'x');
    while (left > 0) {
      const std::size_t n = left < chunk.size() ? static_cast<std::size_t>(left) : chunk.size();
      if (!write_all(1, chunk.data(), n)) return 1;
      left -= n;
    }
    return 0;
  }
  std::fprintf(stderr, "fake_tool: unknown mode '%s'\n", mode.c_str());
  return 64;
}
