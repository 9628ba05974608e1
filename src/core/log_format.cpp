// The log's line formats: the record's attributes, the UTC timestamp, the masked one-line body,
// and the journal's <N> priority prefix.
#include <boost/log/attributes/value_extraction.hpp>

#include "log_detail.hpp"
#include "redundancy/core/time.hpp"

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

// "info [pm2] restarting api". Secrets are masked. Line breaks inside a message are escaped: one record stays one line,
// which the journal's priority prefix, rotation by size and grep all rely on.
void write_body(const bl::record_view& rec, bl::formatting_ostream& out) {
  const auto level = bl::extract<severity>(severity_name(), rec);
  const auto area = bl::extract<std::string>(area_name(), rec);
  const auto message = bl::extract<std::string>(message_name(), rec);
  out << to_string(level ? *level : severity::info) << " [" << (area ? *area : std::string{}) << "] ";
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
  if (const auto when = bl::extract<clock_type::time_point>(time_name(), rec)) out << to_rfc3339(*when);
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
