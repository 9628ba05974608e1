// The state_dir lock: fcntl record locks, so the kernel tells who holds it and drops it when the
// holder dies, even by SIGKILL (a stale lock file is never mistaken for a running daemon).
#include "redundancy/core/state_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace redundancy {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

// The pid a holder wrote into the file (the kernel's answer is 0 for a holder in another pid namespace).
std::string pid_in_file(int fd) {
  char buffer[32] = {};
  const auto n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string text(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (const char c : text)
    if (c < '0' || c > '9') return {};
  return text;
}

}  // namespace

state_lock::state_lock(state_lock&& other) noexcept
    : file_(std::move(other.file_)), fd_(std::exchange(other.fd_, -1)) {}

state_lock::~state_lock() {
  if (fd_ >= 0) ::close(fd_);
}

boost::system::result<state_lock, std::string> state_lock::take(const std::filesystem::path& state_dir) {
  using result = boost::system::result<state_lock, std::string>;
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    return result(boost::system::in_place_error, "cannot create state_dir " + state_dir.string() + ": " + ec.message());
  auto file = state_dir / "daemon.lock";
  // O_NOFOLLOW: a link planted here must not make us create or truncate its target.
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return result(boost::system::in_place_error, "cannot open " + file.string() + ": " + errno_text(errno));
  state_lock lock(file, fd);  // closes fd on every way out below

  struct flock whole {};
  whole.l_type = F_WRLCK;
  whole.l_whence = SEEK_SET;
  if (::fcntl(fd, F_SETLK, &whole) != 0) {
    const int error = errno;
    if (error != EACCES && error != EAGAIN)
      return result(boost::system::in_place_error, "cannot lock " + file.string() + ": " + errno_text(error));
    struct flock holder = whole;
    std::string pid;
    if (::fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK && holder.l_pid > 0)
      pid = std::to_string(holder.l_pid);
    if (pid.empty()) pid = pid_in_file(fd);
    return result(boost::system::in_place_error,
                  "another redundancy daemon" + (pid.empty() ? std::string() : " (pid " + pid + ")") +
                      " is running on state_dir " + state_dir.string() + ": it holds the lock on " + file.string() +
                      "; stop it first, or give this one another state_dir");
  }
  const std::string text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    return result(boost::system::in_place_error, "cannot write " + file.string() + ": " + errno_text(errno));
  return lock;
}

bool state_lock::held_by_another(const std::filesystem::path& state_dir) {
  const auto file = state_dir / "daemon.lock";
  const int fd = ::open(file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

}  // namespace redundancy
