// The store's counters table: small durable key-value state.
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/serialize.hpp>

#include "store_detail.hpp"

namespace redundancy {

using namespace store_detail;

std::optional<std::string> store::get_counter(std::string_view key) const {
  std::optional<std::string> out;
  read("get_counter", [&] {
    auto st = db_->prepare("SELECT value FROM counters WHERE key = ?1");
    st.bind(1, key);
    if (st.step()) out = st.text(0);
  });
  return out;
}

bool store::set_counter(std::string_view key, std::string_view value) {
  return write("set_counter", [&] {
    auto st = db_->prepare(
        "INSERT INTO counters (key, value, updated_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at");
    st.bind(1, key).bind(2, value).bind(3, to_rfc3339(now()));
    st.run();
  });
}

bool store::erase_counter(std::string_view key) {
  return write("erase_counter", [&] {
    auto st = db_->prepare("DELETE FROM counters WHERE key = ?1");
    st.bind(1, key).run();
  });
}

}  // namespace redundancy
