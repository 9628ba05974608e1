// Atomic file replacement: an exclusive temporary file beside the target, fsync, rename, fsync of the
// folder; and the removal of the temporary files a killed run left behind.
#include "redundancy/core/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace redundancy {
namespace {

// What every temporary name carries between the target's name and the random part: distinctive, so
// that the clean-up at start removes our leftovers and nothing else.
constexpr std::string_view temp_marker = ".redundancy-tmp-";
constexpr std::size_t random_length = 12;

std::string errno_text(std::string_view what, const std::filesystem::path& p, int error = errno) {
  return std::string(what) + " " + p.string() + ": " + std::strerror(error);
}

// Closes a descriptor it owns.
struct fd_closer {
  int fd{-1};
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

// Letters and digits from getrandom: a name nobody can guess ahead of us and plant a link at.
std::string random_name_part() {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[random_length];
  std::size_t filled = 0;
  while (filled < sizeof bytes) {
    const auto n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // never on Linux >= 3.17; the O_EXCL open still refuses whatever is there
    filled += static_cast<std::size_t>(n);
  }
  std::string out(random_length, 'x');
  for (std::size_t i = 0; i < filled; ++i) out[i] = alphabet[bytes[i] % (sizeof alphabet - 1)];
  return out;
}

bool consists_of(std::string_view text, bool (*allowed)(char)) {
  if (text.empty()) return false;
  for (const char c : text)
    if (!allowed(c)) return false;
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); }

}  // namespace

bool is_atomic_leftover(std::string_view name) {
  if (name.size() < 2 || name.front() != '.') return false;
  // This writer's names: .<name>.redundancy-tmp-<12 random>.
  if (const auto at = name.rfind(temp_marker); at != std::string_view::npos && at > 1)
    return name.size() - at - temp_marker.size() == random_length &&
           consists_of(name.substr(at + temp_marker.size()), is_name_char);
  // Earlier versions' predictable names, still found after an upgrade: .<name>.tmp-<pid> of this
  // writer and .<name>.tmp.<pid> of the token file's own.
  for (const std::string_view old : {".tmp-", ".tmp."})
    if (const auto at = name.rfind(old); at != std::string_view::npos && at > 1)
      return consists_of(name.substr(at + old.size()), is_digit);
  return false;
}

std::optional<std::string> write_file_atomically(const std::filesystem::path& file, std::string_view content,
                                                 unsigned mode, file_flush flush) {
  const auto folder = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  const auto name = file.filename().string();
  if (name.empty() || name == "." || name == "..") return file.string() + ": not a file name";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return "cannot create " + folder.string() + ": " + ec.message();

  // Everything below is relative to this descriptor: a folder swapped for a link in between changes
  // nothing, and the fsync of the rename is of the folder it happened in.
  fd_closer dir{::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd < 0) return errno_text("cannot open", folder);

  // O_EXCL|O_NOFOLLOW: whatever is at the name (a planted symlink, a file) makes the open fail, and a
  // new random name is tried; nothing outside the folder is ever opened for writing.
  std::string temporary;
  fd_closer out;
  for (int attempt = 0; attempt < 16 && out.fd < 0; ++attempt) {
    temporary = "." + name + std::string(temp_marker) + random_name_part();
    out.fd = ::openat(dir.fd, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
    if (out.fd < 0 && errno != EEXIST) return errno_text("cannot create", folder / temporary);
  }
  if (out.fd < 0) return errno_text("cannot create a temporary file in", folder, EEXIST);
  const auto fail = [&](std::string_view what) {
    auto error = errno_text(what, folder / temporary);
    ::unlinkat(dir.fd, temporary.c_str(), 0);
    return error;
  };

  if (::fchmod(out.fd, mode & 07777) != 0) return fail("cannot set the mode of");  // the umask must not change it
  std::string_view rest = content;
  while (!rest.empty()) {
    const auto written = ::write(out.fd, rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (flush == file_flush::synced && ::fsync(out.fd) != 0) return fail("cannot flush");
  const int closed = ::close(std::exchange(out.fd, -1));
  if (closed != 0) return fail("cannot flush");
  // rename replaces whatever is at the name, a symlink included, and never follows it.
  if (::renameat(dir.fd, temporary.c_str(), dir.fd, name.c_str()) != 0) {
    auto error = errno_text("cannot replace", file);
    ::unlinkat(dir.fd, temporary.c_str(), 0);
    return error;
  }
  // The rename itself must survive a crash, so the folder entry is flushed too.
  if (flush == file_flush::synced) ::fsync(dir.fd);
  return std::nullopt;
}

std::vector<std::filesystem::path> remove_atomic_leftovers(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> removed;
  fd_closer dir{::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd < 0) return removed;
  const int copy = ::dup(dir.fd);  // closedir closes it
  if (copy < 0) return removed;
  DIR* listing = ::fdopendir(copy);
  if (!listing) {
    ::close(copy);
    return removed;
  }
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name(entry->d_name);
    if (!is_atomic_leftover(name)) continue;
    // Files and links only (unlinkat never follows a link); a folder of that name is not ours.
    struct stat st {};
    if (::fstatat(dir.fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode)) continue;
    if (::unlinkat(dir.fd, entry->d_name, 0) == 0) removed.push_back(folder / entry->d_name);
  }
  ::closedir(listing);
  return removed;
}

}  // namespace redundancy
