// The log's backends: a file appended to with plain POSIX calls and rotated by size, falling back
// to stderr and retried when it cannot be written, and stderr itself.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "log_detail.hpp"

namespace redundancy::log_detail {

namespace {

// A failed open is retried at most this often, so a broken folder costs a few syscalls a while, not
// per line.
constexpr auto retry_interval = std::chrono::seconds(5);

}  // namespace

int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

void notice(const std::string& text) {
  const std::string line = "redundancy: " + text + "\n";
  (void)write_all(STDERR_FILENO, line);
}

rotating_file_backend::rotating_file_backend(fs::path file, std::uint64_t max_bytes, unsigned max_files,
                                             bool fallback_to_stderr, std::shared_ptr<failure_reporter> reporter)
    : file_(std::move(file)),
      max_bytes_(max_bytes),
      max_files_(max_files == 0 ? 1 : max_files),
      fallback_to_stderr_(fallback_to_stderr),
      reporter_(std::move(reporter)) {
  open();
}

rotating_file_backend::~rotating_file_backend() { close(); }

void rotating_file_backend::consume(const bl::record_view&, const string_type& formatted) {
  std::string line;
  line.reserve(formatted.size() + 1);
  line.append(formatted).push_back('\n');
  if (!ready(line.size())) {
    fall_back(line);
    return;
  }
  if (const int error = write_all(fd_, line); error != 0) {
    fail(std::generic_category().message(error));
    fall_back(line);
    return;
  }
  size_ += line.size();
  if (failing_) {
    failing_ = false;
    reporter_->recovered(file_);
  }
}

// Makes fd_ a usable descriptor for a line of `length` bytes: reopens after a failure (throttled)
// or a removal, and rotates first when the line would push the file past max_bytes_.
bool rotating_file_backend::ready(std::size_t length) {
  if (fd_ >= 0 && removed()) {
    close();
    if (!open()) return false;
  }
  if (fd_ < 0) {
    if (clock_type::now() < next_retry_) return false;
    if (!open()) return false;
  }
  if (size_ > 0 && size_ + length > max_bytes_) return rotate();
  return true;
}

// A folder or file deleted under us leaves fd_ writing into an unlinked inode nobody can read.
bool rotating_file_backend::removed() const {
  struct stat st {};
  return ::fstat(fd_, &st) == 0 && st.st_nlink == 0;
}

bool rotating_file_backend::open() {
  // An uncreatable folder shows up as open's errno, which names the cause better.
  std::error_code ignored;
  fs::create_directories(file_.parent_path(), ignored);
  // 0640: the daemon's group (adm, say) may read the logs, nobody else; a file an earlier version
  // made 0644 is narrowed, never widened.
  fd_ = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    fail(std::generic_category().message(errno));
    return false;
  }
  struct stat st {};
  const bool regular = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  if (regular && (st.st_mode & 0137) != 0) ::fchmod(fd_, st.st_mode & 0640);
  size_ = regular ? static_cast<std::uint64_t>(st.st_size) : 0;
  return true;
}

void rotating_file_backend::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// file.N-2 -> file.N-1, ..., file -> file.1, so at most max_files_ files exist. Missing older
// files are normal (ENOENT ignored); a missing folder is recreated by open().
bool rotating_file_backend::rotate() {
  close();
  const std::string base = file_.string();
  if (max_files_ <= 1) {
    ::unlink(base.c_str());
  } else {
    ::unlink((base + "." + std::to_string(max_files_ - 1)).c_str());
    for (unsigned k = max_files_ - 1; k > 1; --k) {
      ::rename((base + "." + std::to_string(k - 1)).c_str(), (base + "." + std::to_string(k)).c_str());
    }
    ::rename(base.c_str(), (base + ".1").c_str());
  }
  return open();
}

void rotating_file_backend::fail(const std::string& reason) {
  close();
  next_retry_ = clock_type::now() + retry_interval;
  if (!failing_) {
    failing_ = true;
    reporter_->failed(file_, reason);
  }
}

void rotating_file_backend::fall_back(const std::string& line) const {
  if (fallback_to_stderr_) (void)write_all(STDERR_FILENO, line);
}

void stderr_backend::consume(const bl::record_view&, const string_type& formatted) {
  std::string line;
  line.reserve(formatted.size() + 1);
  line.append(formatted).push_back('\n');
  (void)write_all(STDERR_FILENO, line);
}

}  // namespace redundancy::log_detail
