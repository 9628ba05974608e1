// Atomic file replacement: temporary file, fsync, rename, fsync of the folder.
#include "redundancy/core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace redundancy {
namespace {

std::string errno_text(std::string_view what, const std::filesystem::path& p) {
  return std::string(what) + " " + p.string() + ": " + std::strerror(errno);
}

}  // namespace

std::optional<std::string> write_file_atomically(const std::filesystem::path& file, std::string_view content,
                                                 unsigned mode) {
  const auto folder = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return "cannot create " + folder.string() + ": " + ec.message();

  auto temporary = folder / ("." + file.filename().string() + ".tmp-" + std::to_string(::getpid()));
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errno_text("cannot create", temporary);
  ::fchmod(fd, mode);  // the umask must not widen or narrow what the caller asked for
  std::string_view rest = content;
  while (!rest.empty()) {
    const auto written = ::write(fd, rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      auto error = errno_text("cannot write", temporary);
      ::close(fd);
      ::unlink(temporary.c_str());
      return error;
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    auto error = errno_text("cannot flush", temporary);
    ::unlink(temporary.c_str());
    return error;
  }
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    auto error = errno_text("cannot replace", file);
    ::unlink(temporary.c_str());
    return error;
  }
  // The rename itself must survive a crash, so the folder entry is flushed too.
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return std::nullopt;
}

}  // namespace redundancy
