// A target as the API and `check --once` show it.
#include "redundancy/core/target_row.hpp"

#include <string>
#include <utility>

namespace redundancy {

boost::json::object target_row(const target_health& t, std::string_view subsystem) {
  boost::json::object row = t.detail;
  // Copied out first: inserting the new key may rehash `row` and free what `own` points at (ASan
  // found /api/status reading freed memory here).
  if (auto own = row.find("status"); own != row.end()) {
    boost::json::value domain_status = own->value();
    row[std::string(subsystem) + "_status"] = std::move(domain_status);
  }
  row["name"] = t.name;
  row["status"] = to_string(t.state);
  row["reason"] = t.reason;
  return row;
}

}  // namespace redundancy
