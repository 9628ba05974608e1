// Internal to logging: what log.cpp's sinks are made of (the line formats in log_format.cpp, the
// file and stderr backends in log_sinks.cpp). Boost.Log stays in these files to keep builds fast.
#pragma once
#include <boost/log/attributes/attribute_name.hpp>
#include <boost/log/core/record_view.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/utility/formatting_ostream.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "redundancy/core/log.hpp"
#include "redundancy/core/secret_mask.hpp"

namespace redundancy::log_detail {

namespace bl = boost::log;
namespace fs = std::filesystem;
using clock_type = std::chrono::system_clock;

// The record's attributes. Names are looked up once: building an attribute_name takes a global
// lock.
const bl::attribute_name& severity_name();
const bl::attribute_name& area_name();
const bl::attribute_name& time_name();
const bl::attribute_name& message_name();

// The masks every line goes through (mask_in_logs sets them).
secret_mask& log_secrets();

// "2026-11-28T00:26:09.123Z info [pm2] restarting api": the files' and plain stderr's lines.
void format_plain(const bl::record_view& rec, bl::formatting_ostream& out);
// The journal stamps lines itself and reads the priority from the <N> prefix (sd-daemon(3)).
void format_journal(const bl::record_view& rec, bl::formatting_ostream& out);

// Writes all of text to fd, retrying short writes and EINTR. Returns 0 or the errno that stopped
// it.
int write_all(int fd, std::string_view text);

// Our own notices about the log itself go straight to fd 2: they must not depend on the sinks they
// describe.
void notice(const std::string& text);

// Says once that log files cannot be written, and once that they can again. Shared by the file
// sinks of one init_logging so that a broken folder gives one message, not one per file.
class failure_reporter {
 public:
  void failed(const fs::path& file, const std::string& reason) {
    if (failing_.empty()) notice("cannot write log " + file.string() + ": " + reason + "; logging to stderr only");
    failing_.insert(file);
  }
  void recovered(const fs::path& file) {
    if (failing_.erase(file) != 0 && failing_.empty()) notice("log " + file.string() + " is writable again");
  }

 private:
  std::set<fs::path> failing_;
};

// Appends lines to one file with plain POSIX calls and rotates it by size (file, file.1, ...
// file.N-1). Every error is caught here: the line then goes to stderr (when no stderr sink has it
// already) and the file is retried later. A file or folder removed while open is noticed on the
// next line and recreated.
class rotating_file_backend : public bl::sinks::basic_formatted_sink_backend<char, bl::sinks::synchronized_feeding> {
 public:
  rotating_file_backend(fs::path file, std::uint64_t max_bytes, unsigned max_files, bool fallback_to_stderr,
                        std::shared_ptr<failure_reporter> reporter);
  rotating_file_backend(const rotating_file_backend&) = delete;
  rotating_file_backend& operator=(const rotating_file_backend&) = delete;
  ~rotating_file_backend();

  void consume(const bl::record_view&, const string_type& formatted);

 private:
  // Makes fd_ a usable descriptor for a line of `length` bytes: reopens after a failure (throttled)
  // or a removal, and rotates first when the line would push the file past max_bytes_.
  bool ready(std::size_t length);
  // A folder or file deleted under us leaves fd_ writing into an unlinked inode nobody can read.
  bool removed() const;
  bool open();
  void close();
  // file.N-2 -> file.N-1, ..., file -> file.1, so at most max_files_ files exist. Missing older
  // files are normal (ENOENT ignored); a missing folder is recreated by open().
  bool rotate();
  void fail(const std::string& reason);
  void fall_back(const std::string& line) const;

  fs::path file_;
  std::uint64_t max_bytes_;
  unsigned max_files_;
  bool fallback_to_stderr_;
  std::shared_ptr<failure_reporter> reporter_;
  int fd_{-1};
  std::uint64_t size_{0};
  bool failing_{false};
  clock_type::time_point next_retry_{};
};

// Writes lines to fd 2 directly, so it follows whatever fd 2 is (a dup2 in tests, the journal's
// socket).
class stderr_backend : public bl::sinks::basic_formatted_sink_backend<char, bl::sinks::synchronized_feeding> {
 public:
  void consume(const bl::record_view&, const string_type& formatted);
};

}  // namespace redundancy::log_detail
