// Logging through Boost.Log: one file sink per area file with size rotation, a stderr sink (plain
// or journal style), and failure handling that degrades to stderr instead of ever throwing or
// stopping the daemon.
#include "redundancy/core/log.hpp"

#include "redundancy/core/secret_mask.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/log/attributes/attribute_name.hpp>
#include <boost/log/attributes/attribute_set.hpp>
#include <boost/log/attributes/constant.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core/core.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/utility/formatting_ostream.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <system_error>
#include <utility>

namespace redundancy {

namespace {

namespace bl = boost::log;
namespace fs = std::filesystem;
using clock_type = std::chrono::system_clock;

// The record's attributes. Names are looked up once: building an attribute_name takes a global
// lock.
const bl::attribute_name& severity_name() {
  static const bl::attribute_name name{"Severity"};
  return name;
}
const bl::attribute_name& area_name() {
  static const bl::attribute_name name{"Area"};
  return name;
}
const bl::attribute_name& time_name() {
  static const bl::attribute_name name{"TimeStamp"};
  return name;
}
const bl::attribute_name& message_name() {
  static const bl::attribute_name name{"Message"};
  return name;
}

// Read by log_enabled on every RLOG, so kept outside Boost.Log; the core filter mirrors it.
severity current_level = severity::info;
bool initialized = false;

// A failed open is retried at most this often, so a broken folder costs a few syscalls a while, not
// per line.
constexpr auto retry_interval = std::chrono::seconds(5);

// Writes all of text to fd, retrying short writes and EINTR. Returns 0 or the errno that stopped
// it.
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

// Our own notices about the log itself go straight to fd 2: they must not depend on the sinks they
// describe.
void notice(const std::string& text) {
  const std::string line = "redundancy: " + text + "\n";
  (void)write_all(STDERR_FILENO, line);
}

int syslog_priority(severity level) {
  switch (level) {
    case severity::trace:
    case severity::debug:
      return 7;
    case severity::info:
      return 6;
    case severity::warning:
      return 4;
    case severity::error:
      return 3;
  }
  return 6;
}

// 2026-11-28T00:26:09.123Z
void write_timestamp(bl::formatting_ostream& out, clock_type::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::array<char, 32> buffer{};
  const int n = std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, static_cast<int>(millis));
  out.write(buffer.data(), n);
}

secret_mask& log_secrets() {
  static secret_mask mask;
  return mask;
}

// "info [pm2] restarting api". Secrets are masked. Line breaks inside a message are escaped: one record stays one line,
// which the journal's priority prefix, rotation by size and grep all rely on.
void write_body(const bl::record_view& rec, bl::formatting_ostream& out) {
  const auto level = bl::extract<severity>(severity_name(), rec);
  const auto area = bl::extract<std::string>(area_name(), rec);
  const auto message = bl::extract<std::string>(message_name(), rec);
  out << to_string(level ? *level : severity::info) << " [" << (area ? *area : std::string{})
      << "] ";
  if (!message) return;
  for (const char c : log_secrets().apply(*message)) {
    if (c == '\n') {
      out << "\\n";
    } else if (c == '\r') {
      out << "\\r";
    } else {
      out << c;
    }
  }
}

void format_plain(const bl::record_view& rec, bl::formatting_ostream& out) {
  if (const auto when = bl::extract<clock_type::time_point>(time_name(), rec))
    write_timestamp(out, *when);
  out << ' ';
  write_body(rec, out);
}

// The journal stamps lines itself and reads the priority from the <N> prefix (sd-daemon(3)).
void format_journal(const bl::record_view& rec, bl::formatting_ostream& out) {
  const auto level = bl::extract<severity>(severity_name(), rec);
  out << '<' << syslog_priority(level ? *level : severity::info) << '>';
  write_body(rec, out);
}

// Says once that log files cannot be written, and once that they can again. Shared by the file
// sinks of one init_logging so that a broken folder gives one message, not one per file.
class failure_reporter {
 public:
  void failed(const fs::path& file, const std::string& reason) {
    if (failing_.empty())
      notice("cannot write log " + file.string() + ": " + reason + "; logging to stderr only");
    failing_.insert(file);
  }
  void recovered(const fs::path& file) {
    if (failing_.erase(file) != 0 && failing_.empty())
      notice("log " + file.string() + " is writable again");
  }

 private:
  std::set<fs::path> failing_;
};

// Appends lines to one file with plain POSIX calls and rotates it by size (file, file.1, ...
// file.N-1). Every error is caught here: the line then goes to stderr (when no stderr sink has it
// already) and the file is retried later. A file or folder removed while open is noticed on the
// next line and recreated.
class rotating_file_backend
    : public bl::sinks::basic_formatted_sink_backend<char, bl::sinks::synchronized_feeding> {
 public:
  rotating_file_backend(fs::path file, std::uint64_t max_bytes, unsigned max_files,
                        bool fallback_to_stderr, std::shared_ptr<failure_reporter> reporter)
      : file_(std::move(file)),
        max_bytes_(max_bytes),
        max_files_(max_files == 0 ? 1 : max_files),
        fallback_to_stderr_(fallback_to_stderr),
        reporter_(std::move(reporter)) {
    open();
  }
  rotating_file_backend(const rotating_file_backend&) = delete;
  rotating_file_backend& operator=(const rotating_file_backend&) = delete;
  ~rotating_file_backend() { close(); }

  void consume(const bl::record_view&, const string_type& formatted) {
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

 private:
  // Makes fd_ a usable descriptor for a line of `length` bytes: reopens after a failure (throttled)
  // or a removal, and rotates first when the line would push the file past max_bytes_.
  bool ready(std::size_t length) {
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
  bool removed() const {
    struct stat st {};
    return ::fstat(fd_, &st) == 0 && st.st_nlink == 0;
  }

  bool open() {
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

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // file.N-2 -> file.N-1, ..., file -> file.1, so at most max_files_ files exist. Missing older
  // files are normal (ENOENT ignored); a missing folder is recreated by open().
  bool rotate() {
    close();
    const std::string base = file_.string();
    if (max_files_ <= 1) {
      ::unlink(base.c_str());
    } else {
      ::unlink((base + "." + std::to_string(max_files_ - 1)).c_str());
      for (unsigned k = max_files_ - 1; k > 1; --k) {
        ::rename((base + "." + std::to_string(k - 1)).c_str(),
                 (base + "." + std::to_string(k)).c_str());
      }
      ::rename(base.c_str(), (base + ".1").c_str());
    }
    return open();
  }

  void fail(const std::string& reason) {
    close();
    next_retry_ = clock_type::now() + retry_interval;
    if (!failing_) {
      failing_ = true;
      reporter_->failed(file_, reason);
    }
  }

  void fall_back(const std::string& line) const {
    if (fallback_to_stderr_) (void)write_all(STDERR_FILENO, line);
  }

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
class stderr_backend
    : public bl::sinks::basic_formatted_sink_backend<char, bl::sinks::synchronized_feeding> {
 public:
  void consume(const bl::record_view&, const string_type& formatted) {
    std::string line;
    line.reserve(formatted.size() + 1);
    line.append(formatted).push_back('\n');
    (void)write_all(STDERR_FILENO, line);
  }
};

// Accepts the records of the areas whose file is `file_name`.
class area_filter {
 public:
  explicit area_filter(std::string file_name) : file_name_(std::move(file_name)) {}
  bool operator()(const bl::attribute_value_set& values) const {
    const auto area = bl::extract<std::string>(area_name(), values);
    return area && log_file_name(*area) == file_name_;
  }

 private:
  std::string file_name_;
};

void apply_level(severity level) {
  current_level = level;
  bl::core::get()->set_filter([level](const bl::attribute_value_set& values) {
    const auto record_level = bl::extract<severity>(severity_name(), values);
    return record_level && *record_level >= level;
  });
}

void ignore_exceptions() noexcept {}

}  // namespace

std::optional<severity> severity_from_string(std::string_view text) {
  for (const auto level :
       {severity::trace, severity::debug, severity::info, severity::warning, severity::error}) {
    if (to_string(level) == text) return level;
  }
  return std::nullopt;
}

std::string_view to_string(severity s) {
  switch (s) {
    case severity::trace:
      return "trace";
    case severity::debug:
      return "debug";
    case severity::info:
      return "info";
    case severity::warning:
      return "warning";
    case severity::error:
      return "error";
  }
  return "info";
}

std::string_view log_file_name(std::string_view area) {
  if (area == "pm2") return "pm2.log";
  if (area == "github") return "github.log";
  if (area == "netlify") return "netlify.log";
  if (area == "orchestrator") return "orchestrator.log";
  return "redundancy.log";
}

void init_logging(const log_settings& settings) {
  using file_sink = bl::sinks::synchronous_sink<rotating_file_backend>;
  using stderr_sink = bl::sinks::synchronous_sink<stderr_backend>;
  const auto core = bl::core::get();
  // Build the new sinks before dropping the old ones, so a reload loses no line in between.
  std::vector<boost::shared_ptr<bl::sinks::sink>> sinks;
  const bool use_stderr = settings.to_stderr || settings.dir.empty();
  if (!settings.dir.empty()) {
    auto reporter = std::make_shared<failure_reporter>();
    for (const std::string_view name :
         {"pm2.log", "github.log", "netlify.log", "orchestrator.log", "redundancy.log"}) {
      auto backend = boost::make_shared<rotating_file_backend>(
          settings.dir / name, settings.max_file_bytes, settings.max_files, !use_stderr, reporter);
      auto sink = boost::make_shared<file_sink>(backend);
      sink->set_formatter(&format_plain);
      sink->set_filter(area_filter{std::string(name)});
      sink->set_exception_handler(&ignore_exceptions);
      sinks.push_back(sink);
    }
  }
  if (use_stderr) {
    auto sink = boost::make_shared<stderr_sink>();
    if (settings.journal) {
      sink->set_formatter(&format_journal);
    } else {
      sink->set_formatter(&format_plain);
    }
    sink->set_exception_handler(&ignore_exceptions);
    sinks.push_back(sink);
  }
  core->remove_all_sinks();
  for (const auto& sink : sinks) core->add_sink(sink);
  core->set_exception_handler(&ignore_exceptions);
  apply_level(settings.level);
  initialized = true;
}

void set_log_level(severity level) { apply_level(level); }

void mask_in_logs(std::vector<std::string> secrets) { log_secrets().set(std::move(secrets)); }

bool log_enabled(severity level) { return level >= current_level; }

void log_line(std::string_view area, severity level, std::string_view message) {
  if (!log_enabled(level)) return;
  try {
    // Lines logged before the daemon set things up still reach stderr in our format, not
    // Boost.Log's default.
    if (!initialized) init_logging(log_settings{});
    bl::attribute_set attributes;
    attributes.insert(severity_name(), bl::attributes::constant<severity>(level));
    attributes.insert(area_name(), bl::attributes::constant<std::string>(std::string(area)));
    attributes.insert(time_name(),
                      bl::attributes::constant<clock_type::time_point>(clock_type::now()));
    attributes.insert(message_name(), bl::attributes::constant<std::string>(std::string(message)));
    const auto core = bl::core::get();
    if (auto record = core->open_record(attributes)) core->push_record(boost::move(record));
  } catch (...) {
    // Logging must never take the daemon down; out of memory here is the only realistic cause.
  }
}

void flush_logs() {
  try {
    bl::core::get()->flush();
  } catch (...) {
  }
}

}  // namespace redundancy
