// The store's retention: old events, finished actions and stale outbox items removed.
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/serialize.hpp>

#include "store_detail.hpp"

namespace redundancy {

using namespace store_detail;

std::size_t store::prune(sys_time older_than) {
  std::int64_t removed = 0;
  const bool ok = write("prune", [&] {
    const auto cutoff = to_rfc3339(older_than);
    // The latest status event of each target stays: availability needs to know the state a
    // target has been in since, however long ago it last changed.
    auto events = db_->prepare(
        "DELETE FROM events WHERE ts < ?1 AND id NOT IN (SELECT MAX(id) FROM events WHERE kind IN "
        "('status_changed', 'status_observed', 'daemon_started') GROUP BY subsystem, target)");
    events.bind(1, cutoff).run();
    removed += db_->changes();
    // Queued and running actions stay whatever their age: they are still someone's business.
    auto actions = db_->prepare(
        "DELETE FROM actions WHERE state NOT IN ('queued', 'running') "
        "AND COALESCE(finished_at, created_at) < ?1");
    actions.bind(1, cutoff).run();
    removed += db_->changes();
    // The notifier gives up long before the retention ends; this only clears what it left behind.
    auto outbox = db_->prepare("DELETE FROM outbox WHERE created_at < ?1");
    outbox.bind(1, cutoff).run();
    removed += db_->changes();
  });
  return ok ? static_cast<std::size_t>(removed) : 0;
}

}  // namespace redundancy
