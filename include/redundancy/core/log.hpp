// Logging: one file per area in log_dir (pm2.log, github.log, netlify.log, orchestrator.log, and
// redundancy.log for the rest) plus stderr. Boost.Log stays inside log.cpp to keep builds fast.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy {

enum class severity { trace, debug, info, warning, error };

std::optional<severity> severity_from_string(std::string_view text);
std::string_view to_string(severity s);

// The file in log_settings::dir that lines of `area` go to: "pm2.log", "github.log", "netlify.log",
// "orchestrator.log", or "redundancy.log" for every other area.
std::string_view log_file_name(std::string_view area);

struct log_settings {
  std::filesystem::path dir{};  // empty: stderr only
  severity level{severity::info};
  std::uint64_t max_file_bytes{10 * 1024 * 1024};
  unsigned max_files{5};
  bool to_stderr{true};
  // Running under systemd (JOURNAL_STREAM set): stderr lines carry <N> priority prefixes, no timestamps.
  bool journal{false};
};

// Sets up (or, on reload, replaces) the sinks. A folder that cannot be created or written is reported
// once on stderr; logging then continues to stderr only and never throws.
void init_logging(const log_settings& settings);
void set_log_level(severity level);
// Values no log line may show (the API token, the config's secrets): each becomes "***" in every
// line written from now on, whoever logs it (a tool's stderr quoted in a message, a URL in an error).
void mask_in_logs(std::vector<std::string> secrets);
bool log_enabled(severity level);
void log_line(std::string_view area, severity level, std::string_view message);
void flush_logs();

// Collects one line through operator<< and writes it when destroyed. Use through RLOG.
class log_record {
 public:
  log_record(std::string_view area, severity level) : area_(area), level_(level) {}
  log_record(const log_record&) = delete;
  log_record& operator=(const log_record&) = delete;
  ~log_record() { log_line(area_, level_, stream_.str()); }
  std::ostream& stream() { return stream_; }

 private:
  std::string_view area_;
  severity level_;
  std::ostringstream stream_;
};

}  // namespace redundancy

// RLOG("pm2", info) << "restarting " << app;   The message is only built when the level is enabled.
// RLOG_AT("pm2", some_severity) << ...;          The same with a severity chosen at run time.
// A one-pass loop rather than if/else, so `if (x) RLOG(...) << y;` has no dangling else.
#define RLOG_AT(area, level_value)                                                               \
  for (bool rlog_once_ = ::redundancy::log_enabled(level_value); rlog_once_; rlog_once_ = false) \
  ::redundancy::log_record(area, level_value).stream()
#define RLOG(area, level) RLOG_AT(area, ::redundancy::severity::level)
