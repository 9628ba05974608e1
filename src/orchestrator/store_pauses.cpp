// The store's pauses table: maintenance pauses, one per target.
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/serialize.hpp>

#include "store_detail.hpp"

namespace redundancy {

using namespace store_detail;

bool store::set_pause(std::string_view target, sys_time until, std::string_view reason) {
  return write("set_pause", [&] {
    auto st = db_->prepare(
        "INSERT INTO pauses (target, until, reason) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (target) DO UPDATE SET until = excluded.until, reason = excluded.reason");
    st.bind(1, target).bind(2, to_rfc3339(until)).bind(3, reason);
    st.run();
  });
}

bool store::erase_pause(std::string_view target) {
  return write("erase_pause", [&] {
    auto st = db_->prepare("DELETE FROM pauses WHERE target = ?1");
    st.bind(1, target).run();
  });
}

std::vector<stored_pause> store::pauses() const {
  std::vector<stored_pause> out;
  const bool ok = read("pauses", [&] {
    auto st = db_->prepare("SELECT target, until, reason FROM pauses ORDER BY target");
    while (st.step())
      out.push_back(stored_pause{.target = st.text(0), .until = time_column(st, 1), .reason = st.text(2)});
  });
  if (!ok) out.clear();
  return out;
}

}  // namespace redundancy
