// The store's status history: the status events availability is computed from.
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/serialize.hpp>

#include "store_detail.hpp"

namespace redundancy {

using namespace store_detail;

std::vector<event> store::status_history(sys_time since) const {
  std::vector<event> out;
  const bool ok = read("status_history", [&] {
    // The latest status event of each key before `since` (the state a window starts in), then
    // every status event since, oldest first.
    auto st = db_->prepare(
        "SELECT id, ts, subsystem, target, kind, severity, message, data FROM events "
        "WHERE kind IN ('status_changed', 'status_observed', 'daemon_started') AND (ts >= ?1 OR id IN "
        "(SELECT MAX(id) FROM events WHERE ts < ?1 AND kind IN "
        "('status_changed', 'status_observed', 'daemon_started') GROUP BY subsystem, target)) "
        "ORDER BY ts, id");
    st.bind(1, to_rfc3339(since));
    while (st.step()) out.push_back(event_row(st));
  });
  if (!ok) out.clear();
  return out;
}

}  // namespace redundancy
