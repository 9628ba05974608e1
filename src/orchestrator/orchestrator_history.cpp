// Orchestrator: events recorded (masked, stored or kept in memory while the store refuses them), the
// history's error state, and the periodic upkeep (reports, pruning).
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

#include <malloc.h>

#include <algorithm>

namespace redundancy {
namespace {

// Events kept in memory while the store refuses writes; beyond this the oldest are dropped.
constexpr std::size_t unsaved_limit = 10000;

}  // namespace

std::vector<event> orchestrator::events(const event_query& q) const {
  auto out = store_.events(q);
  if (unsaved_.empty()) return out;
  for (const auto& e : unsaved_) {
    if (q.since && e.ts < *q.since) continue;
    if (q.subsystem && e.subsystem != *q.subsystem) continue;
    if (q.after_id && e.id <= *q.after_id) continue;
    out.push_back(e);
  }
  std::stable_sort(out.begin(), out.end(), [](const event& a, const event& b) { return a.ts > b.ts; });
  if (out.size() > q.limit) out.resize(q.limit);
  return out;
}

awaitable<void> orchestrator::run_timers() {
  using namespace std::chrono_literals;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // The first report and the first pruning come one interval after the start, then on their own
  // periods.
  auto next_report = std::chrono::steady_clock::now();
  auto next_prune = std::chrono::steady_clock::now();
  for (;;) {
    timer.expires_after(settings_.orchestrator.interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    flush_unsaved();
    // A failed write of anything (a counter, a pause) is retried here so the error state ends as
    // soon as the file is writable again.
    if (store_.problem() && unsaved_.empty())
      store_.set_counter("history.probed_at", to_rfc3339(std::chrono::system_clock::now()));
    note_history_state();
    expire_pauses();
    evaluate_emergency();
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_report) {
      next_report = now + settings_.orchestrator.report_interval;
      write_report();
      // The report is the daemon's largest transient tree (a day of events, up to 1,000): hand the
      // pages it freed back to the system, or the heap keeps its high-water mark (tools/soak saw RSS
      // climb in 0.7 MiB steps as the day's events grew).
      ::malloc_trim(0);
    }
    if (now >= next_prune) {
      next_prune = now + 24h;
      const auto removed = store_.prune(std::chrono::system_clock::now() - settings_.orchestrator.retention);
      RLOG("orchestrator", info) << "retention " << format_duration(settings_.orchestrator.retention) << ": pruned "
                                 << removed << " rows";
    }
  }
}

void orchestrator::flush_unsaved() {
  while (!unsaved_.empty()) {
    auto e = unsaved_.front();
    e.id = 0;
    if (!store_.add_event(std::move(e))) break;
    unsaved_.pop_front();
  }
}

void orchestrator::note_history_state() {
  const bool ok = history_ok();
  if (ok == history_ok_) return;
  history_ok_ = ok;
  if (ok) {
    RLOG("orchestrator", info) << "history " << store_.file().string() << " is writable again";
    // What could not be stored meanwhile: the pauses and the attempt count as they are now.
    for (const auto& [target, p] : pauses_) store_.set_pause(target, p.until, p.reason);
    store_.set_counter(emergency_attempts_key, std::to_string(policy_.emergency().attempts));
  } else
    RLOG("orchestrator", error) << "HISTORY UNAVAILABLE, events kept in memory only: "
                                << history_problem_.value_or(store_.problem().value_or("unknown error"));
}

void orchestrator::record_event(std::string subsystem, std::string target, std::string kind, std::string severity,
                                std::string message, boost::json::object data) {
  note_event(std::move(subsystem), std::move(target), std::move(kind), std::move(severity), std::move(message),
             std::move(data));
}

void orchestrator::note_event(std::string subsystem, std::string target, std::string kind, std::string severity,
                              std::string message, boost::json::object data) {
  message = secrets_.apply(std::move(message));
  for (auto& [key, value] : data)
    if (value.is_string()) value = secrets_.apply(std::string(value.get_string()));
  const auto level = kind == "status_observed"                       ? severity::debug
                     : severity == "critical" || severity == "error" ? severity::error
                     : severity == "warning"                         ? severity::warning
                                                                     : severity::info;
  RLOG_AT(subsystem, level) << message;
  event e{.id = 0,
          .ts = std::chrono::system_clock::now(),
          .subsystem = std::move(subsystem),
          .target = std::move(target),
          .kind = std::move(kind),
          .severity = std::move(severity),
          .message = std::move(message),
          .data = std::move(data)};
  // Older unsaved events go first, so the file keeps them in order.
  flush_unsaved();
  if (unsaved_.empty()) {
    if (auto id = store_.add_event(e)) {
      e.id = *id;
      note_history_state();
      sink_->recorded(e);
      return;
    }
  }
  e.id = --unsaved_ids_;
  unsaved_.push_back(e);
  if (unsaved_.size() > unsaved_limit) unsaved_.pop_front();
  note_history_state();
  sink_->recorded(e);
}

}  // namespace redundancy
