// The API token: environment first, else the token file, created on first start with 0600 permissions.
#include "redundancy/http/token.hpp"

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/small_file.hpp"
#include "redundancy/core/text.hpp"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace redundancy::http {
namespace {
using token_result = boost::system::result<token_info, std::string>;

std::string errno_text(int error) { return std::generic_category().message(error); }

// An error result (token_info is constructible from a string too, so the conversion must be explicit).
token_result fail(std::string message) { return token_result(boost::system::in_place_error, std::move(message)); }

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
    return token_info{.token = std::string(trim(env)), .source = "environment", .created = false};

  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno != ENOENT) return fail("cannot read token file " + file.string() + ": " + errno_text(errno));
    auto token = random_hex(32);
    if (auto error = write_file_atomically(file, token + "\n", 0600))
      return fail("cannot create token file: " + *error);
    RLOG("http", info) << "created token file " << file.string();
    return token_info{.token = std::move(token), .source = file.string(), .created = true};
  }

  if (!S_ISREG(st.st_mode)) return fail("token file " + file.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    RLOG("http", warning) << "token file " << file.string() << " is readable by others (mode " << std::oct
                          << (st.st_mode & 0777) << std::dec << "); run chmod 600 on it";
  }
  const auto content = read_small_file(file);
  if (!content) return fail("cannot read token file " + file.string());
  auto token = std::string(trim(*content));
  if (token.empty()) return fail("token file " + file.string() + " is empty");
  return token_info{.token = std::move(token), .source = file.string(), .created = false};
}

}  // namespace redundancy::http
