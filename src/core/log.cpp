// Logging through Boost.Log: one file sink per area file with size rotation, a stderr sink (plain
// or journal style), and failure handling that degrades to stderr instead of ever throwing or
// stopping the daemon (the sinks' parts are in log_format.cpp and log_sinks.cpp).
#include "redundancy/core/log.hpp"

#include <boost/log/attributes/attribute_set.hpp>
#include <boost/log/attributes/constant.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core/core.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <memory>
#include <utility>

#include "log_detail.hpp"

namespace redundancy {

namespace {

using namespace log_detail;

// Read by log_enabled on every RLOG, so kept outside Boost.Log; the core filter mirrors it.
severity current_level = severity::info;
bool initialized = false;

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
  for (const auto level : {severity::trace, severity::debug, severity::info, severity::warning, severity::error}) {
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
    for (const std::string_view name : {"pm2.log", "github.log", "netlify.log", "orchestrator.log", "redundancy.log"}) {
      auto backend = boost::make_shared<rotating_file_backend>(settings.dir / name, settings.max_file_bytes,
                                                               settings.max_files, !use_stderr, reporter);
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
    attributes.insert(time_name(), bl::attributes::constant<clock_type::time_point>(clock_type::now()));
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
