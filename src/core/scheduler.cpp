// The check loops: one coroutine per subsystem, each check raced against its timeout.
#include "redundancy/core/scheduler.hpp"

#include "redundancy/core/deadline.hpp"
#include "redundancy/core/duration.hpp"
#include "redundancy/core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <algorithm>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace redundancy {

struct scheduler::loop {
  explicit loop(asio::any_io_executor ex) : wake(ex) {}
  asio::steady_timer wake;           // sleeps until the next check; cancelled by check_now
  asio::cancellation_signal cancel;  // ends the loop and the check in flight
  bool requested{false};             // a check was asked for while waiting or checking
  bool stopped{false};
  bool removed{false};  // remove(): the subsystem's state is gone, the loop must not touch it
};

std::string_view to_string(check_outcome o) {
  switch (o) {
    case check_outcome::ok:
      return "ok";
    case check_outcome::failed:
      return "failed";
    case check_outcome::error:
      return "error";
    case check_outcome::timeout:
      return "timeout";
  }
  return "error";
}

namespace {

check_outcome outcome_of(const health& h) {
  switch (h.state) {
    case status::unhealthy:
      return check_outcome::failed;
    case status::unknown:
      return check_outcome::error;
    default:
      return check_outcome::ok;
  }
}

// A check that could not tell keeps the targets it saw last: stale rows beat an empty table, and the
// overall status says the data is not current.
health could_not_tell(const health& previous, std::string summary) {
  health h = previous;
  h.state = status::unknown;
  h.summary = std::move(summary);
  h.checked_at = std::chrono::system_clock::now();
  return h;
}

}  // namespace

scheduler::scheduler(asio::any_io_executor executor)
    : executor_(executor), check_finished_(executor, asio::steady_timer::time_point::max()) {}

scheduler::~scheduler() { stop(); }

void scheduler::add(std::shared_ptr<subsystem> target, check_schedule schedule) {
  std::string name{target->name()};
  // Two loops on one state would race; a second add of a name replaces the first.
  remove(name);
  auto& s = states_[name];
  s.target = std::move(target);
  s.schedule = schedule;
  loops_[name] = std::make_shared<loop>(executor_);
  if (started_) spawn(name);
}

bool scheduler::remove(std::string_view name) {
  const auto it = loops_.find(name);
  if (it == loops_.end()) return false;
  auto& l = *it->second;
  l.stopped = true;
  l.removed = true;
  l.wake.cancel();
  l.cancel.emit(asio::cancellation_type::terminal);
  // The loop keeps its `loop` alive until it ends; the state goes now (the loop no longer touches it).
  loops_.erase(it);
  states_.erase(states_.find(name));
  check_finished_.cancel();
  return true;
}

void scheduler::reschedule(std::string_view name, check_schedule schedule) {
  auto it = states_.find(name);
  if (it == states_.end()) return;
  it->second.schedule = schedule;
  // Wake the loop so a shorter interval applies now rather than after the old one runs out.
  auto& l = *loops_.find(name)->second;
  if (!it->second.running) {
    l.wake.cancel();
  }
}

void scheduler::start() {
  if (started_) return;
  started_ = true;
  for (auto& [name, s] : states_) spawn(name);
}

void scheduler::spawn(const std::string& name) {
  const auto l = loops_.at(name);
  const auto& s = states_.at(name);
  RLOG("redundancy", info) << name << ": checking every " << format_duration(s.schedule.interval)
                           << ", each check bounded by " << format_duration(s.schedule.timeout);
  // The handler holds the loop too: its cancellation signal must outlive the coroutine.
  asio::co_spawn(executor_, run_loop(name, l),
                 asio::bind_cancellation_slot(l->cancel.slot(), [name, l](std::exception_ptr e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const boost::system::system_error& error) {
                     if (error.code() == asio::error::operation_aborted) return;
                     RLOG("redundancy", error) << name << ": check loop ended: " << error.what();
                   } catch (const std::exception& error) {
                     RLOG("redundancy", error) << name << ": check loop ended: " << error.what();
                   }
                 }));
}

void scheduler::stop() {
  stopped_ = true;
  check_finished_.cancel();
  for (auto& [name, l] : loops_) {
    if (l->stopped) continue;
    l->stopped = true;
    l->wake.cancel();
    l->cancel.emit(asio::cancellation_type::terminal);
  }
}

bool scheduler::check_now(std::string_view name) {
  if (name.empty()) {
    for (auto& [each, s] : states_) check_now(each);
    return true;
  }
  auto it = loops_.find(name);
  if (it == loops_.end()) return false;
  auto& l = *it->second;
  l.requested = true;
  // While a check runs the request waits for it to finish, then runs once more.
  if (!states_.find(name)->second.running) l.wake.cancel();
  return true;
}

awaitable<void> scheduler::fresh_checks(std::string name) {
  std::vector<std::pair<std::string, std::uint64_t>> counted;  // checks finished or begun before now
  for (const auto& [each, s] : states_)
    if (name.empty() || each == name) counted.emplace_back(each, s.checks + (s.running ? 1 : 0));
  check_now(name);
  const auto fresh = [this](const std::pair<std::string, std::uint64_t>& before) {
    const auto* s = state(before.first);
    return s == nullptr || s->checks > before.second;
  };
  while (!stopped_ && !std::all_of(counted.begin(), counted.end(), fresh)) {
    co_await check_finished_.async_wait(asio::as_tuple(asio::use_awaitable));
    // Every wake-up says operation_aborted: only our own cancellation state tells a cancel from news.
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
      throw boost::system::system_error(asio::error::operation_aborted);
  }
}

const subsystem_state* scheduler::state(std::string_view name) const {
  auto it = states_.find(name);
  return it == states_.end() ? nullptr : &it->second;
}

bool scheduler::busy() const {
  for (const auto& [name, s] : states_)
    if (s.running) return true;
  return false;
}

awaitable<void> scheduler::run_loop(std::string name, std::shared_ptr<loop> owned) {
  // A map's elements stay where they are until erased, and remove() erases this one only after
  // marking the loop stopped, which every wait below is followed by a look at.
  auto& s = states_.at(name);
  auto& l = *owned;
  // The first check runs at once: the daemon is "starting" until every subsystem has been seen.
  l.requested = true;
  while (!l.stopped) {
    s.last_lateness.reset();
    if (!l.requested) {
      s.next_check_at = add_clamped(std::chrono::system_clock::now(), s.schedule.interval);
      const auto due = add_clamped(std::chrono::steady_clock::now(), s.schedule.interval);
      l.wake.expires_at(due);
      auto [ec] = co_await l.wake.async_wait(asio::as_tuple(asio::use_awaitable));
      if (l.stopped) break;
      if (ec && !l.requested) continue;  // woken by reschedule: wait again with the new interval
      // Only a check its timer started was due at a known time; a requested one runs early.
      if (!ec) s.last_lateness = std::chrono::steady_clock::now() - due;
    }
    l.requested = false;
    co_await run_one_check(s, l);
  }
}

awaitable<void> scheduler::run_one_check(subsystem_state& s, const loop& l) {
  // Held here: a remove() during the check drops the state's reference, not the object checking.
  const auto target = s.target;
  const std::string name{target->name()};
  s.running = true;
  const auto started = std::chrono::steady_clock::now();
  health result;
  check_outcome outcome = check_outcome::ok;
  std::optional<std::string> could_not;  // why the check gave no result, made into one below
  try {
    asio::steady_timer deadline(executor_, s.schedule.timeout);
    auto raced = co_await (target->check() || deadline.async_wait(asio::use_awaitable));
    if (raced.index() == 0) {
      result = std::move(std::get<0>(raced));
      outcome = outcome_of(result);
    } else {
      outcome = check_outcome::timeout;
      could_not = "check timed out after ";  // the timeout appended below, once s is known to exist
    }
  } catch (const std::exception& e) {
    outcome = check_outcome::error;
    could_not = std::string("check failed: ") + e.what();
  }
  // Removed during the check: the state is gone and the result belongs to nobody.
  if (l.removed) throw boost::system::system_error(asio::error::operation_aborted);
  // A check cut short by stop() is not a result: both racers were cancelled, and what they threw
  // (operation_aborted, or asio's multiple_exceptions) says nothing about the subsystem.
  if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
    s.running = false;
    throw boost::system::system_error(asio::error::operation_aborted);
  }
  if (could_not) {
    if (outcome == check_outcome::timeout) *could_not += format_duration(s.schedule.timeout);
    result = could_not_tell(s.last, std::move(*could_not));
  }
  s.running = false;
  if (result.checked_at == sys_time{}) result.checked_at = std::chrono::system_clock::now();

  const bool changed = !s.checked || s.last.state != result.state;
  s.last_duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  s.last_outcome = outcome;
  s.consecutive_failures = outcome == check_outcome::ok ? 0 : s.consecutive_failures + 1;
  s.last = std::move(result);
  s.checked = true;
  ++s.checks;
  s.next_check_at = add_clamped(std::chrono::system_clock::now(), s.schedule.interval);

  if (changed) {
    RLOG(name, info) << name << ": " << to_string(s.last.state) << ": " << s.last.summary << " (check "
                     << to_string(outcome) << " in " << s.last_duration.count() << "ms, next in "
                     << format_duration(s.schedule.interval) << ")";
  } else {
    RLOG(name, debug) << name << ": " << to_string(s.last.state) << ": " << s.last.summary << " (check "
                      << to_string(outcome) << " in " << s.last_duration.count() << "ms, next in "
                      << format_duration(s.schedule.interval) << ")";
  }
  if (observer_) observer_(s);
  check_finished_.cancel();
}

}  // namespace redundancy
