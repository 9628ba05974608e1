// The API token: where it comes from (environment or token file), its first-start creation, and the
// constant-time comparison used to check it.
#pragma once
#include <boost/system/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace redundancy::http {

// The token and where it came from ("environment" or the file's path), for logging without the secret.
struct token_info {
  std::string token{};
  std::string source{};
  bool created{false};  // the file was created by this call
};

// $REDUNDANCY_TOKEN when set and not empty; else the content of `file` (surrounding whitespace
// trimmed); else, when `file` does not exist, creates it with 32 random bytes as 64 hex characters, mode
// 0600, atomically (temp file, fsync, rename; missing parent folders are created). A file readable
// by group or others is still used but warned about. Errors (unreadable, empty, cannot create) name the
// file and never contain the token.
boost::system::result<token_info, std::string> load_token(const std::filesystem::path& file);

// `length` random bytes from getrandom(2) as lower-case hex; throws std::system_error if the kernel
// cannot give them (a broken system, not an input error).
std::string random_hex(std::size_t length);

// a == b in time that depends on the lengths only, never on where the first difference is.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace redundancy::http
