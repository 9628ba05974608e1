// The store's actions table: the action states' names, recording an action and updating it as it runs.
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/serialize.hpp>

#include "store_detail.hpp"

namespace redundancy {

using namespace store_detail;

namespace {

// The column order that action_row reads. The SQL texts are whole literals: g++ 12 reports a bogus
// -Warray-bounds on std::string concatenation here.
#define REDUNDANCY_ACTION_COLUMNS                                                                  \
  "SELECT id, kind, subsystem, target, requested_by, state, created_at, started_at, finished_at, " \
  "output_tail, steps, summary FROM actions "

action_record action_row(const sqlite::statement& st) {
  // An unknown state name (written by a newer version) is shown as interrupted: it is not running.
  return action_record{.id = st.integer(0),
                       .kind = st.text(1),
                       .subsystem = st.text(2),
                       .target = st.text(3),
                       .requested_by = st.text(4),
                       .state = action_state_from_string(st.text(5)).value_or(action_state::interrupted),
                       .created_at = time_column(st, 6),
                       .started_at = optional_time_column(st, 7),
                       .finished_at = optional_time_column(st, 8),
                       .output_tail = st.text(9),
                       .steps = array_column(st, 10),
                       .summary = st.text(11)};
}

boost::json::value time_or_null(const std::optional<sys_time>& t) {
  if (!t) return nullptr;
  return boost::json::string(to_rfc3339(*t));
}

constexpr std::array<std::pair<action_state, std::string_view>, 5> action_state_names{{
    {action_state::queued, "queued"},
    {action_state::running, "running"},
    {action_state::succeeded, "succeeded"},
    {action_state::failed, "failed"},
    {action_state::interrupted, "interrupted"},
}};

}  // namespace

std::string_view to_string(action_state s) {
  for (const auto& [value, name] : action_state_names)
    if (value == s) return name;
  return "interrupted";
}

std::optional<action_state> action_state_from_string(std::string_view text) {
  for (const auto& [value, name] : action_state_names)
    if (name == text) return value;
  return std::nullopt;
}

boost::json::object to_json(const action_record& a) {
  return boost::json::object{{"id", a.id},
                             {"kind", a.kind},
                             {"subsystem", a.subsystem},
                             {"target", a.target},
                             {"requested_by", a.requested_by},
                             {"state", to_string(a.state)},
                             {"created_at", to_rfc3339(a.created_at)},
                             {"started_at", time_or_null(a.started_at)},
                             {"finished_at", time_or_null(a.finished_at)},
                             {"output_tail", a.output_tail},
                             {"steps", a.steps},
                             {"summary", a.summary}};
}

std::optional<std::int64_t> store::add_action(action_record a) {
  if (a.created_at == sys_time{}) a.created_at = now();
  std::int64_t id = 0;
  const bool ok = write("add_action", [&] {
    auto st = db_->prepare(
        "INSERT INTO actions (kind, subsystem, target, requested_by, state, created_at, "
        "started_at, "
        "finished_at, output_tail, steps, summary) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    st.bind(1, a.kind)
        .bind(2, a.subsystem)
        .bind(3, a.target)
        .bind(4, a.requested_by)
        .bind(5, to_string(a.state))
        .bind(6, to_rfc3339(a.created_at))
        .bind(7, optional_time_text(a.started_at))
        .bind(8, optional_time_text(a.finished_at))
        .bind(9, a.output_tail)
        .bind(10, boost::json::serialize(a.steps))
        .bind(11, a.summary);
    st.run();
    id = db_->last_insert_rowid();
  });
  if (!ok) return std::nullopt;
  return id;
}

bool store::update_action(const action_record& a) {
  std::int64_t changed = 0;
  const bool ok = write("update_action", [&] {
    auto st = db_->prepare(
        "UPDATE actions SET kind = ?1, subsystem = ?2, target = ?3, requested_by = ?4, state = ?5, "
        "started_at = ?6, finished_at = ?7, output_tail = ?8, steps = ?9, summary = ?10 "
        "WHERE id = ?11");
    st.bind(1, a.kind)
        .bind(2, a.subsystem)
        .bind(3, a.target)
        .bind(4, a.requested_by)
        .bind(5, to_string(a.state))
        .bind(6, optional_time_text(a.started_at))
        .bind(7, optional_time_text(a.finished_at))
        .bind(8, a.output_tail)
        .bind(9, boost::json::serialize(a.steps))
        .bind(10, a.summary)
        .bind(11, a.id);
    st.run();
    changed = db_->changes();
  });
  if (ok && changed == 0) RLOG("orchestrator", warning) << file_.string() << ": update_action: no action " << a.id;
  return ok && changed > 0;
}

std::optional<action_record> store::action(std::int64_t id) const {
  std::optional<action_record> out;
  read("action", [&] {
    auto st = db_->prepare(REDUNDANCY_ACTION_COLUMNS "WHERE id = ?1");
    st.bind(1, id);
    if (st.step()) out = action_row(st);
  });
  return out;
}

std::vector<action_record> store::actions(std::size_t limit, std::optional<std::string> subsystem) const {
  std::vector<action_record> out;
  const bool ok = read("actions", [&] {
    auto st = db_->prepare(REDUNDANCY_ACTION_COLUMNS "WHERE (?1 IS NULL OR subsystem = ?1) ORDER BY id DESC LIMIT ?2");
    st.bind(1, subsystem).bind(2, as_limit(limit));
    while (st.step()) out.push_back(action_row(st));
  });
  if (!ok) out.clear();
  return out;
}

std::size_t store::mark_unfinished_interrupted(sys_time at) {
  std::int64_t changed = 0;
  write("mark_unfinished_interrupted", [&] {
    auto st = db_->prepare(
        "UPDATE actions SET state = 'interrupted', finished_at = COALESCE(finished_at, ?1), "
        "summary = CASE WHEN summary = '' "
        "THEN 'interrupted: the daemon stopped before the action finished' ELSE summary END "
        "WHERE state IN ('queued', 'running')");
    st.bind(1, to_rfc3339(at));
    st.run();
    changed = db_->changes();
  });
  return static_cast<std::size_t>(changed);
}

}  // namespace redundancy

#undef REDUNDANCY_ACTION_COLUMNS
