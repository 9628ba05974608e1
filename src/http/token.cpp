// The API token: environment first, else the token file, created on first start with 0600 permissions.
#include "redundancy/http/token.hpp"

#include "redundancy/core/log.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace redundancy::http {
namespace {
using token_result = boost::system::result<token_info, std::string>;

std::string errno_text(int error) { return std::generic_category().message(error); }

// An error result (token_info is constructible from a string too, so the conversion must be explicit).
token_result fail(std::string message) { return token_result(boost::system::in_place_error, std::move(message)); }

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Writes `content` to `file` atomically with mode 0600: a temp file beside it, fsync, rename, fsync the folder.
std::optional<std::string> write_private_file(const std::filesystem::path& file, const std::string& content) {
  const auto folder = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return "cannot create " + folder.string() + ": " + ec.message();

  const auto temp = folder / ("." + file.filename().string() + ".tmp." + std::to_string(::getpid()));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create " + temp.string() + ": " + errno_text(errno);
  std::size_t written = 0;
  while (written < content.size()) {
    const auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return "cannot write " + temp.string() + ": " + errno_text(error);
    }
    written += static_cast<std::size_t>(n);
  }
  // fchmod: the umask may have narrowed 0600 further, never widened it, but make the mode exact.
  if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return "cannot write " + temp.string() + ": " + errno_text(error);
  }
  ::close(fd);
  if (::rename(temp.c_str(), file.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return "cannot rename " + temp.string() + " to " + file.string() + ": " + errno_text(error);
  }
  // The rename is durable only once the folder is synced.
  if (const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return std::nullopt;
}
}  // namespace

std::string random_hex(std::size_t length) {
  std::string bytes(length, '\0');
  std::size_t filled = 0;
  while (filled < length) {
    const auto n = ::getrandom(bytes.data() + filled, length - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "getrandom");
    filled += static_cast<std::size_t>(n);
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Every byte of the longer one is visited whatever the content; only the lengths show in the time.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  // volatile keeps the compiler from turning the loop into an early-exit comparison.
  volatile unsigned char result = diff;
  return result == 0;
}

boost::system::result<token_info, std::string> load_token(const std::filesystem::path& file) {
  if (const char* env = std::getenv("REDUNDANCY_TOKEN"); env != nullptr && *env != '\0')
    return token_info{.token = trim(env), .source = "environment", .created = false};

  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno != ENOENT) return fail("cannot read token file " + file.string() + ": " + errno_text(errno));
    auto token = random_hex(32);
    if (auto error = write_private_file(file, token + "\n")) return fail("cannot create token file: " + *error);
    RLOG("http", info) << "created token file " << file.string();
    return token_info{.token = std::move(token), .source = file.string(), .created = true};
  }

  if (!S_ISREG(st.st_mode)) return fail("token file " + file.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    RLOG("http", warning) << "token file " << file.string() << " is readable by others (mode "
                          << std::oct << (st.st_mode & 0777) << std::dec << "); run chmod 600 on it";
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in) return fail("cannot read token file " + file.string());
  auto token = trim(content.str());
  if (token.empty()) return fail("token file " + file.string() + " is empty");
  return token_info{.token = std::move(token), .source = file.string(), .created = false};
}

}  // namespace redundancy::http
