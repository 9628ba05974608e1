// The store's webhook outbox: messages waiting to be delivered, and their retries.
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/serialize.hpp>

#include "store_detail.hpp"

namespace redundancy {

using namespace store_detail;

std::optional<std::int64_t> store::enqueue_outbox(std::string target, std::string payload_json, sys_time at) {
  std::int64_t id = 0;
  const bool ok = write("enqueue_outbox", [&] {
    auto st = db_->prepare(
        "INSERT INTO outbox (target, payload, created_at, next_attempt_at) VALUES (?1, ?2, ?3, "
        "?3)");
    st.bind(1, target).bind(2, payload_json).bind(3, to_rfc3339(at));
    st.run();
    id = db_->last_insert_rowid();
  });
  if (!ok) return std::nullopt;
  return id;
}

std::vector<outbox_item> store::due_outbox(sys_time at, std::size_t limit) const {
  std::vector<outbox_item> out;
  const bool ok = read("due_outbox", [&] {
    auto st = db_->prepare(
        "SELECT id, target, payload, created_at, next_attempt_at, attempts, last_error FROM outbox "
        "WHERE next_attempt_at <= ?1 ORDER BY id LIMIT ?2");
    st.bind(1, to_rfc3339(at)).bind(2, as_limit(limit));
    while (st.step())
      out.push_back(outbox_item{.id = st.integer(0),
                                .target = st.text(1),
                                .payload = st.text(2),
                                .created_at = time_column(st, 3),
                                .next_attempt_at = time_column(st, 4),
                                .attempts = st.integer(5),
                                .last_error = st.text(6)});
  });
  if (!ok) out.clear();
  return out;
}

bool store::ack_outbox(std::int64_t id) {
  std::int64_t changed = 0;
  const bool ok = write("ack_outbox", [&] {
    auto st = db_->prepare("DELETE FROM outbox WHERE id = ?1");
    st.bind(1, id).run();
    changed = db_->changes();
  });
  return ok && changed > 0;
}

bool store::retry_outbox(std::int64_t id, sys_time next_attempt, std::string last_error) {
  std::int64_t changed = 0;
  const bool ok = write("retry_outbox", [&] {
    auto st = db_->prepare(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?1, last_error = ?2 "
        "WHERE id = ?3");
    st.bind(1, to_rfc3339(next_attempt)).bind(2, last_error).bind(3, id).run();
    changed = db_->changes();
  });
  return ok && changed > 0;
}

}  // namespace redundancy
