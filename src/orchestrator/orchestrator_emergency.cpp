// Orchestrator: the emergency, when the policy calls it and how one attempt runs (each subsystem's step
// bounded, a settle time, fresh checks).
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
#include <limits>

namespace redundancy {
namespace {

// Workflow files in the folder: the GitHub emergency runs each of them locally, one after another.
std::size_t workflow_files(const std::filesystem::path& folder) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const auto ext = entry.path().extension();
    if (ext == ".yml" || ext == ".yaml") ++n;
  }
  return n;
}

}  // namespace

void orchestrator::evaluate_emergency() {
  unsigned unhealthy = 0;
  for (const auto& [name, s] : scheduler_.states())
    if (s.checked && counts_as_unhealthy(effective_state(s))) ++unhealthy;
  const auto before = policy_.emergency().attempts;
  const auto decision = policy_.on_project(unhealthy, actions_.active("orchestrator", "emergency").has_value(),
                                           std::chrono::steady_clock::now());
  if (policy_.emergency().attempts != before)
    store_.set_counter(emergency_attempts_key, std::to_string(policy_.emergency().attempts));
  metrics_.set_emergency(policy_.emergency().phase != emergency_phase::normal, policy_.emergency().attempts);
  if (before > 0 && policy_.emergency().attempts == 0)
    note_event("orchestrator", "", "emergency_attempts_reset", "info",
               "healthy for " + format_duration(settings_.orchestrator.attempt_reset) +
                   ": emergency attempts reset (were " + std::to_string(before) + ")",
               {{"attempts_before", before}});
  switch (decision) {
    case emergency_decision::none:
      break;
    case emergency_decision::wait:
      break;
    case emergency_decision::start_recovery:
      note_event("orchestrator", "", "emergency_started", "critical",
                 std::to_string(unhealthy) + " subsystems unhealthy: emergency recovery attempt " +
                     std::to_string(policy_.emergency().attempts) + " of " + std::to_string(max_attempts()),
                 {{"attempt", policy_.emergency().attempts}, {"unhealthy_subsystems", unhealthy}});
      request_emergency("auto");
      break;
    case emergency_decision::give_up:
      note_event("orchestrator", "", "emergency_given_up", "critical",
                 "emergency recovery failed " + std::to_string(policy_.emergency().attempts) +
                     " times; no more automatic attempts until a person acts (POST /api/emergency)",
                 {{"attempts", policy_.emergency().attempts}, {"unhealthy_subsystems", unhealthy}});
      break;
    case emergency_decision::left:
      note_event("orchestrator", "", "emergency_ended", "info",
                 "emergency over: fewer than " + std::to_string(settings_.orchestrator.emergency_threshold) +
                     " subsystems unhealthy",
                 {{"attempts", policy_.emergency().attempts}});
      break;
  }
}

std::chrono::milliseconds orchestrator::emergency_step_limit(std::string_view subsystem) const {
  using namespace std::chrono_literals;
  const auto& c = settings_;
  // Each bound covers the commands the step runs one after another, each with its own timeout.
  if (subsystem == "pm2")  // probe, kill and its wait, a start per ecosystem file, resurrect, a check
    return 10s + c.pm2.timeout * static_cast<long>(c.pm2.ecosystem_files.size() + 3);
  if (subsystem == "github")  // every workflow run locally in turn
    return c.github.timeout + c.github.local_execution.timeout *
                                  static_cast<long>(std::max<std::size_t>(1, workflow_files(c.github.workflows_dir)));
  if (subsystem == "netlify")  // regeneration and its checks, then the deploy
    return c.netlify.deploy_timeout + c.netlify.timeout * 3;
  return c.orchestrator.interval * 10;
}

void orchestrator::keep_emergency_spacing() {
  const auto& next = policy_.emergency().next_attempt_at;
  if (!next) return;
  const auto wall = std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                           *next - std::chrono::steady_clock::now());
  store_.set_counter(emergency_next_attempt_key, to_rfc3339(wall));
}

void orchestrator::restore_emergency_spacing() {
  const auto saved = store_.get_counter(emergency_next_attempt_key);
  const auto at = saved ? from_rfc3339(*saved) : std::nullopt;
  if (!at || policy_.emergency().attempts == 0) return;
  const auto left = *at - std::chrono::system_clock::now();
  if (left <= std::chrono::system_clock::duration::zero()) return;
  // No longer than the longest spacing there is: a clock set back must not hold the emergency for days.
  const auto most = std::chrono::duration_cast<std::chrono::system_clock::duration>(
      policy_.spacing_before(std::numeric_limits<unsigned>::max()));
  policy_.emergency().next_attempt_at =
      std::chrono::steady_clock::now() +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::min(left, most));
}

orchestrator::submitted orchestrator::request_emergency(std::string requested_by) {
  if (auto running = actions_.active("orchestrator", "emergency")) return {*running, true};
  if (requested_by != "auto") {
    // A person asking resets a given-up emergency: they are the one it was waiting for.
    if (policy_.emergency().phase == emergency_phase::given_up) store_.set_counter(emergency_attempts_key, "0");
    policy_.emergency_requested_by_person();
  }
  std::vector<std::shared_ptr<subsystem>> order;
  for (const std::string name : {"pm2", "github", "netlify"})
    if (const auto* s = scheduler_.state(name)) order.push_back(s->target);
  const auto id = actions_.submit(
      {.kind = "emergency",
       .subsystem = "orchestrator",
       .target = "",
       .requested_by = std::move(requested_by),
       .lane = {},
       .work = [this, order]() -> awaitable<action_result> {
         action_result all{.ok = true, .summary = {}, .steps = {}, .output_tail = {}};
         for (const auto& target : order) {
           // Arguments built before the co_await: g++ 12 destroys temporaries inside a co_await
           // expression twice.
           std::string lane{target->name()};
           // A person paused it: the emergency leaves it (or the paused targets in it) as it is. Asked now,
           // not when the emergency was queued: a pause may have begun or ended since.
           if (paused(lane)) {
             all.steps.push_back(
                 {.name = lane + " emergency", .ok = true, .detail = "skipped: " + lane + " is paused"});
             continue;
           }
           const auto limit = emergency_step_limit(lane);
           std::function<awaitable<action_result>()> work =
               [target, limit, left_alone = paused_targets(lane)]() -> awaitable<action_result> {
             auto executor = co_await asio::this_coro::executor;
             asio::steady_timer deadline(executor, limit);
             auto raced = co_await (target->emergency(left_alone) || deadline.async_wait(asio::use_awaitable));
             if (raced.index() == 0) co_return std::get<0>(std::move(raced));
             action_result late;
             late.summary = "timed out after " + format_duration(limit);
             co_return late;
           };
           auto step = co_await actions_.exclusive(std::move(lane), std::move(work));
           all.ok = all.ok && step.ok;
           all.steps.push_back(
               {.name = std::string(target->name()) + " emergency", .ok = step.ok, .detail = step.summary});
           for (auto& inner : step.steps) all.steps.push_back(std::move(inner));
           all.output_tail += step.output_tail;
         }
         // The verdict on this attempt comes from fresh checks, not from what was seen before it, and
         // only once what it restarted has had time to come up.
         asio::steady_timer settle(co_await asio::this_coro::executor, policy_.settle_time());
         co_await settle.async_wait(asio::as_tuple(asio::use_awaitable));
         co_await scheduler_.fresh_checks("");
         all.summary = order.empty() ? "nothing to recover"
                       : all.ok      ? "every subsystem's emergency step succeeded"
                                     : "some emergency steps failed";
         co_return all;
       }});
  return {id, false};
}

}  // namespace redundancy
