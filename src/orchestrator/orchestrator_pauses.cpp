// Orchestrator: pauses of a subsystem or a target, kept in the store, ending on time.
#include "redundancy/orchestrator/orchestrator.hpp"

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/deadline.hpp"
#include "redundancy/core/duration.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/target_row.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/metrics/metrics.hpp"
#include "redundancy/orchestrator/actions.hpp"
#include "redundancy/orchestrator/report.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace redundancy {
namespace {

std::string subsystem_of(const std::string& target) { return target.substr(0, target.find('/')); }
std::string target_of(const std::string& target) {
  const auto slash = target.find('/');
  return slash == std::string::npos ? std::string{} : target.substr(slash + 1);
}

}  // namespace

std::optional<std::string> orchestrator::pause(const std::string& target, std::chrono::milliseconds how_long,
                                               std::string reason) {
  const auto subsystem = subsystem_of(target);
  if (!scheduler_.state(subsystem)) return "unknown subsystem '" + subsystem + "'";
  if (how_long <= std::chrono::milliseconds::zero()) return "'for' must be a positive duration";
  const auto until = add_clamped(std::chrono::system_clock::now(), how_long);
  pauses_[target] = {.until = until, .reason = reason};
  // Kept in memory when the store refuses it; the history error state says so.
  store_.set_pause(target, until, reason);
  note_event(subsystem, target_of(target), "paused", "warning",
             target + " paused for " + format_duration(how_long) + (reason.empty() ? "" : ": " + reason),
             {{"until", to_rfc3339(until)}, {"reason", reason}});
  return std::nullopt;
}

std::optional<std::string> orchestrator::resume(const std::string& target) {
  if (!paused(target)) return "'" + target + "' is not paused";
  pauses_.erase(target);
  store_.erase_pause(target);
  note_event(subsystem_of(target), target_of(target), "resumed", "info", target + " resumed", {{"expired", false}});
  scheduler_.check_now(subsystem_of(target));
  return std::nullopt;
}

void orchestrator::expire_pauses() {
  const auto now = std::chrono::system_clock::now();
  std::vector<std::pair<std::string, pause_entry>> ended;
  for (const auto& [target, p] : pauses_)
    if (p.until <= now) ended.emplace_back(target, p);
  for (const auto& [target, p] : ended) {
    pauses_.erase(target);
    store_.erase_pause(target);
    note_event(subsystem_of(target), target_of(target), "resumed", "info",
               target + " pause ended at " + to_rfc3339(p.until) + (p.reason.empty() ? "" : " (" + p.reason + ")"),
               {{"expired", true}, {"until", to_rfc3339(p.until)}});
    scheduler_.check_now(subsystem_of(target));
  }
}

std::optional<pause_entry> orchestrator::paused(const std::string& target) const {
  auto it = pauses_.find(target);
  if (it == pauses_.end() || it->second.until <= std::chrono::system_clock::now()) return std::nullopt;
  return it->second;
}

target_names orchestrator::paused_targets(std::string_view subsystem) const {
  target_names names;
  const auto now = std::chrono::system_clock::now();
  for (const auto& [target, p] : pauses_)
    if (p.until > now && subsystem_of(target) == subsystem && !target_of(target).empty())
      names.insert(target_of(target));
  return names;
}

std::optional<sys_time> orchestrator::since(const std::string& target) const {
  auto it = since_.find(target);
  if (it == since_.end()) return std::nullopt;
  return it->second.second;
}

}  // namespace redundancy
