// run_process: one child from launch to reap, its output collected, its group ended on timeout or
// cancellation; and process_result::describe().
#include "redundancy/core/process.hpp"

#include "process_children.hpp"
#include "process_launch.hpp"

#include <boost/asio/as_tuple.hpp>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <algorithm>
#include <exception>
#include <variant>

namespace redundancy {
namespace {

using namespace std::chrono_literals;
using process_detail::child_handle;
using process_detail::launched_child;
using steady = std::chrono::steady_clock;

constexpr std::size_t read_chunk = 64 * 1024;
constexpr auto poll_step = 10ms;
// After SIGKILL a group vanishes at once unless a member sits in uninterruptible sleep: don't wait
// for that forever.
constexpr auto after_kill_limit = 1s;

// Lets nothing through: while a group is being ended, a second cancellation must not cut the grace
// short or leave the child unreaped.
struct ignore_cancellation {
  asio::cancellation_type operator()(asio::cancellation_type) const noexcept { return asio::cancellation_type::none; }
};

[[noreturn]] void throw_aborted() { throw boost::system::system_error(asio::error::operation_aborted); }

// Reads `pipe` to EOF, keeping the first `cap` bytes in `into` and dropping the rest (so the child
// never blocks on a full pipe). Throws only when cancelled.
awaitable<void> drain(asio::readable_pipe& pipe, std::string& into, std::size_t cap, bool& truncated) {
  std::vector<char> buffer(read_chunk);
  for (;;) {
    auto [ec, n] = co_await pipe.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    const std::size_t keep = std::min(n, cap - std::min(cap, into.size()));
    into.append(buffer.data(), keep);
    if (keep < n) truncated = true;
    if (ec == asio::error::operation_aborted) throw_aborted();
    if (ec) co_return;  // EOF, or the pipe broke: the stream is over either way
  }
}

// Waits for the child to exit and reaps it, storing the wait status in `status`. Throws when
// cancelled.
awaitable<void> wait_exit(child_handle& handle, std::optional<int>& status) {
  const pid_t pid = handle.id();
  auto [ec, raw] = co_await handle.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!ec) {
    status = raw;
  } else if (ec == boost::system::errc::no_child_process && process_detail::reaped_status(pid)) {
    status = *process_detail::reaped_status(pid);  // terminate_all_children got there first
  } else if (ec == asio::error::operation_aborted) {
    throw_aborted();
  } else {
    throw boost::system::system_error(ec, "waitpid");
  }
  process_detail::forget_child(pid);
}

// Output and exit together: done when both streams hit EOF and the child is reaped.
awaitable<void> collect(launched_child& child, process_result& result, std::size_t cap, std::optional<int>& status) {
  co_await (drain(child.out, result.out, cap, result.truncated) &&
            drain(child.err, result.err, cap, result.truncated) && wait_exit(child.handle, status));
}

awaitable<void> sleep_for(asio::steady_timer& timer, steady::duration d) {
  timer.expires_after(d);
  co_await timer.async_wait(asio::use_awaitable);
}

// Ends process group `pgid`: SIGTERM, up to `grace` for the leader to exit and the rest of the
// group to follow, SIGKILL for whatever is left, then the leader is reaped (if `status` is still
// empty) along with the group's orphans that were re-parented to us.
awaitable<void> end_group(child_handle& handle, pid_t pgid, std::chrono::milliseconds grace,
                          std::optional<int>& status) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  ::kill(-pgid, SIGTERM);
  const auto deadline = steady::now() + grace;
  if (!status) {
    timer.expires_at(deadline);
    co_await (wait_exit(handle, status) || timer.async_wait(asio::use_awaitable));
  }
  while (status && steady::now() < deadline && process_detail::group_has_live_members(pgid)) {
    process_detail::reap_group_zombies(pgid);
    co_await sleep_for(timer, poll_step);
  }
  if (!status || process_detail::group_has_live_members(pgid)) ::kill(-pgid, SIGKILL);
  if (!status) co_await wait_exit(handle, status);
  const auto kill_deadline = steady::now() + after_kill_limit;
  while (process_detail::group_has_live_members(pgid) && steady::now() < kill_deadline) {
    process_detail::reap_group_zombies(pgid);
    co_await sleep_for(timer, poll_step);
  }
  process_detail::reap_group_zombies(pgid);
}

std::string format_ms(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string signal_name(int sig) {
  if (const char* abbrev = ::sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

}  // namespace

awaitable<process_result> run_process(process_spec spec) {
  process_result result;
  result.timeout = spec.timeout;
  const auto executor = co_await asio::this_coro::executor;
  if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) throw_aborted();

  const auto started = steady::now();
  auto launched = process_detail::launch_child(executor, spec);
  if (!launched.child) {
    result.error = std::move(launched.error);
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
    co_return result;
  }
  launched_child& child = *launched.child;
  const pid_t pid = child.handle.id();
  result.pid = pid;
  const process_detail::child_guard guard(pid);

  asio::steady_timer deadline(executor);
  if (spec.timeout > 0ms)
    deadline.expires_after(spec.timeout);
  else
    deadline.expires_at(steady::time_point::max());

  std::optional<int> status;
  std::exception_ptr failure;  // the cancellation (or a bug) to pass on once the group is ended
  try {
    result.out.reserve(std::min(spec.expected_out, spec.output_cap));
    const auto outcome =
        co_await (collect(child, result, spec.output_cap, status) || deadline.async_wait(asio::use_awaitable));
    result.timed_out = outcome.index() == 1;
  } catch (...) {
    failure = std::current_exception();
  }
  // Cancelled: the operators report it as whatever their branches threw (several operation_aborted
  // make a multiple_exceptions); the caller should see plain operation_aborted.
  if (failure && (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
    failure = std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));

  if (result.timed_out || failure) {
    // Shield the clean-up from this coroutine's cancellation, then restore it as it was.
    const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::reset_cancellation_state(ignore_cancellation{});
    co_await asio::this_coro::throw_if_cancelled(false);
    // Nobody reads any more: a member blocked writing to us gets EPIPE instead of waiting for SIGKILL.
    boost::system::error_code ignored;
    child.out.close(ignored);
    child.err.close(ignored);
    co_await end_group(child.handle, pid, spec.kill_grace, status);
    co_await asio::this_coro::reset_cancellation_state();
    co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
  } else {
    // The leader is reaped; orphans of its group that already exited and came to us go with it.
    process_detail::reap_group_zombies(pid);
  }

  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  if (failure) std::rethrow_exception(failure);
  if (status) {
    if (WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
    if (WIFSIGNALED(*status)) result.term_signal = WTERMSIG(*status);
  }
  co_return result;
}

awaitable<bool> end_process_group(int pgid, std::chrono::milliseconds grace) {
  process_detail::reap_group_zombies(pgid);
  if (pgid <= 0 || !process_detail::group_has_live_members(pgid)) co_return false;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  ::kill(-pgid, SIGTERM);
  const auto deadline = steady::now() + grace;
  while (steady::now() < deadline && process_detail::group_has_live_members(pgid)) {
    process_detail::reap_group_zombies(pgid);
    co_await sleep_for(timer, poll_step);
  }
  if (process_detail::group_has_live_members(pgid)) ::kill(-pgid, SIGKILL);
  const auto kill_deadline = steady::now() + after_kill_limit;
  while (process_detail::group_has_live_members(pgid) && steady::now() < kill_deadline) {
    process_detail::reap_group_zombies(pgid);
    co_await sleep_for(timer, poll_step);
  }
  process_detail::reap_group_zombies(pgid);
  co_return true;
}

std::string process_result::describe() const {
  if (!started()) return error;
  std::string text;
  if (timed_out) {
    text = term_signal != 0 ? "killed by " + signal_name(term_signal) + " after timeout " + format_ms(timeout)
                            : "timed out after " + format_ms(timeout) + " (exit " + std::to_string(exit_code) + ")";
  } else if (term_signal != 0) {
    text = "killed by " + signal_name(term_signal);
  } else {
    text = "exit " + std::to_string(exit_code);
  }
  if (truncated) text += ", output truncated";
  return text;
}

}  // namespace redundancy
