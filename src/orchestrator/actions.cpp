// The action runner: lanes per subsystem, records before and after, a re-check when done.
#include "redundancy/orchestrator/actions.hpp"

#include "redundancy/core/log.hpp"
#include "redundancy/core/scheduler.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <boost/asio/as_tuple.hpp>

namespace redundancy {
namespace {

boost::json::array steps_to_json(const std::vector<action_step>& steps, const secret_mask& secrets) {
  boost::json::array out;
  for (const auto& s : steps)
    out.push_back({{"name", secrets.apply(s.name)}, {"ok", s.ok}, {"detail", secrets.apply(s.detail)}});
  return out;
}

}  // namespace

std::string tail_of(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  auto cut = text.substr(text.size() - limit);
  // Start at a line boundary when one is in the first quarter, so the tail does not begin mid-line.
  auto newline = cut.find('\n');
  if (newline != std::string_view::npos && newline < limit / 4) cut.remove_prefix(newline + 1);
  return std::string(cut);
}

action_runner::action_runner(asio::any_io_executor executor, store& history, scheduler& checks)
    : executor_(std::move(executor)), store_(history), scheduler_(checks) {}

void action_runner::set_secrets(std::vector<std::string> secrets) { secrets_.set(std::move(secrets)); }

std::int64_t action_runner::submit(action_request request) {
  action_record record;
  record.kind = request.kind;
  record.subsystem = request.subsystem;
  record.target = request.target;
  record.requested_by = request.requested_by;
  record.state = action_state::queued;
  record.created_at = std::chrono::system_clock::now();
  // Recorded before it runs, so a crash mid-action leaves a trace that the next start marks interrupted.
  std::int64_t id = store_.add_action(record).value_or(0);
  if (id <= 0) {
    id = --unrecorded_;
    RLOG("orchestrator", error) << "could not record action " << request.kind << " " << request.subsystem
                                << "; running it unrecorded";
  }
  if (request.lane.empty()) request.lane = request.subsystem;
  active_[id] = {request.lane, request.kind};
  asio::co_spawn(executor_, run(id, std::move(request)), asio::detached);
  return id;
}

awaitable<action_result> action_runner::exclusive(std::string subsystem,
                                                  std::function<awaitable<action_result>()> step) {
  co_await acquire(subsystem);
  action_result result;
  try {
    result = co_await step();
  } catch (...) {
    release(subsystem);
    throw;
  }
  release(subsystem);
  co_return result;
}

std::optional<std::int64_t> action_runner::active(std::string_view subsystem, std::string_view kind) const {
  for (const auto& [id, entry] : active_)
    if (entry.subsystem == subsystem && (kind.empty() || entry.kind == kind)) return id;
  return std::nullopt;
}

awaitable<void> action_runner::run(std::int64_t id, action_request request) {
  action_record record;
  if (id > 0) record = store_.action(id).value_or(action_record{});
  record.id = id;
  record.kind = request.kind;
  record.subsystem = request.subsystem;
  record.target = request.target;
  record.requested_by = request.requested_by;

  action_result result;
  try {
    co_await acquire(request.lane);
    record.state = action_state::running;
    record.started_at = std::chrono::system_clock::now();
    if (id > 0) store_.update_action(record);
    RLOG(request.subsystem, info) << "action " << id << " " << request.kind
                                  << (request.target.empty() ? "" : " " + request.target) << " started ("
                                  << request.requested_by << ")";
    if (on_started) on_started(record);
    try {
      result = co_await request.work();
    } catch (const std::exception& e) {
      result.ok = false;
      result.summary = std::string("action failed: ") + e.what();
    }
    release(request.lane);
  } catch (const std::exception& e) {
    // Only cancellation at shutdown gets here: the record stays running and is marked interrupted
    // at the next start.
    active_.erase(id);
    throw;
  }

  record.state = result.ok ? action_state::succeeded : action_state::failed;
  record.finished_at = std::chrono::system_clock::now();
  // Masked before the tail is cut: a secret across the cut would otherwise show its second half.
  record.summary = secrets_.apply(result.summary);
  record.output_tail = tail_of(secrets_.apply(result.output_tail));
  record.steps = steps_to_json(result.steps, secrets_);
  if (id > 0) store_.update_action(record);
  active_.erase(id);
  RLOG_AT(request.subsystem, result.ok ? severity::info : severity::warning)
      << "action " << id << " " << request.kind << (request.target.empty() ? "" : " " + request.target) << " "
      << to_string(record.state) << ": " << record.summary;
  if (on_finished) on_finished(record);
  // What the action changed is looked at again at once, not on the next interval.
  if (request.subsystem == "orchestrator")
    scheduler_.check_now("");
  else
    scheduler_.check_now(request.subsystem);
}

awaitable<void> action_runner::acquire(const std::string& subsystem) {
  auto& l = lanes_[subsystem];
  if (!l.busy) {
    l.busy = true;
    co_return;
  }
  // Wait in line: release() hands the lane over by cancelling this timer.
  asio::steady_timer turn(executor_, asio::steady_timer::time_point::max());
  l.waiting.push_back(&turn);
  co_await turn.async_wait(asio::as_tuple(asio::use_awaitable));  // woken by cancel(): the lane is ours
  auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) {
    std::erase(l.waiting, &turn);
    throw boost::system::system_error(asio::error::operation_aborted);
  }
}

void action_runner::release(const std::string& subsystem) {
  auto& l = lanes_[subsystem];
  if (l.waiting.empty()) {
    l.busy = false;
    return;
  }
  auto* next = l.waiting.front();
  l.waiting.pop_front();
  next->cancel();
}

}  // namespace redundancy
