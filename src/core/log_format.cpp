// The log's line formats: the record's attributes, the UTC timestamp, the masked one-line body,
// and the journal's <N> priority prefix.
#include <array>
#include <boost/log/attributes/value_extraction.hpp>
#include <cstdio>
#include <ctime>

#include "log_detail.hpp"

namespace redundancy::log_detail {

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

namespace {

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

}  // namespace

secret_mask& log_secrets() {
  static secret_mask mask;
  return mask;
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

}  // namespace redundancy::log_detail
