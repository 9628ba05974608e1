// The scheduler with test-only subsystems: intervals, coalescing, timeouts, isolation of a hung check.
#define BOOST_TEST_MODULE scheduler
#include <boost/test/unit_test.hpp>

#include "redundancy/core/scheduler.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

using namespace redundancy;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// A subsystem whose check takes `check_time`, counts its calls and notices overlapping checks.
class probe_subsystem final : public subsystem {
 public:
  probe_subsystem(std::string name, std::chrono::milliseconds check_time, status result = status::healthy)
      : name_(std::move(name)), check_time_(check_time), result_(result) {}

  std::string_view name() const override { return name_; }

  awaitable<health> check() override {
    ++calls;
    started.push_back(steady::now());
    if (++in_flight > 1) overlapped = true;
    asio::steady_timer t(co_await asio::this_coro::executor, check_time_);
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    --in_flight;
    if (ec) throw boost::system::system_error(ec);
    co_return health{.state = result_, .summary = "probe", .targets = {}, .checked_at = {}, .counterpart = {}};
  }
  awaitable<action_result> recover(const health&) override { co_return action_result{}; }
  awaitable<action_result> emergency(target_names) override { co_return action_result{}; }

  int calls{0};
  int in_flight{0};
  bool overlapped{false};
  std::vector<steady::time_point> started;

 private:
  std::string name_;
  std::chrono::milliseconds check_time_;
  status result_;
};

// Runs the io_context for `d`, then stops the scheduler and drains what is left.
void run_for(asio::io_context& io, scheduler& s, std::chrono::milliseconds d) {
  io.run_for(d);
  s.stop();
  io.restart();
  io.run_for(200ms);
}

}  // namespace

BOOST_AUTO_TEST_CASE(checks_at_once_then_every_interval) {
  asio::io_context io;
  scheduler s(io.get_executor());
  auto p = std::make_shared<probe_subsystem>("probe", 1ms);
  s.add(p, {.interval = 50ms, .timeout = 1s});
  s.start();
  run_for(io, s, 275ms);
  // One at start, then about one per 50 ms: 5 or 6 on an idle machine, fewer on a loaded one; never a
  // burst (no interval) and never just the first (no re-check).
  BOOST_TEST(p->calls >= 3);
  BOOST_TEST(p->calls <= 7);
  const auto* state = s.state("probe");
  BOOST_REQUIRE(state);
  BOOST_TEST(state->checked);
  BOOST_TEST((state->last.state == status::healthy));
  BOOST_TEST(state->consecutive_failures == 0u);
  BOOST_TEST(state->checks == static_cast<std::uint64_t>(p->calls));
}

BOOST_AUTO_TEST_CASE(check_now_coalesces_with_a_running_check) {
  asio::io_context io;
  scheduler s(io.get_executor());
  auto p = std::make_shared<probe_subsystem>("slow", 100ms);
  s.add(p, {.interval = 10s, .timeout = 5s});
  s.start();
  // Let the first check begin, then ask 10 times while it runs.
  io.run_for(20ms);
  BOOST_TEST(p->calls == 1);
  for (int i = 0; i < 10; ++i) BOOST_TEST(s.check_now("slow"));
  run_for(io, s, 400ms);
  // The 10 requests became one follow-up check, and the two never overlapped.
  BOOST_TEST(p->calls == 2);
  BOOST_TEST(!p->overlapped);
}

BOOST_AUTO_TEST_CASE(check_now_wakes_an_idle_loop) {
  asio::io_context io;
  scheduler s(io.get_executor());
  auto p = std::make_shared<probe_subsystem>("idle", 1ms);
  s.add(p, {.interval = 10s, .timeout = 1s});
  s.start();
  io.run_for(30ms);
  BOOST_TEST(p->calls == 1);
  BOOST_TEST(s.check_now("idle"));
  BOOST_TEST(!s.check_now("no-such-subsystem"));
  run_for(io, s, 50ms);
  BOOST_TEST(p->calls == 2);
}

BOOST_AUTO_TEST_CASE(a_hung_check_times_out_and_never_delays_another) {
  asio::io_context io;
  scheduler s(io.get_executor());
  auto hung = std::make_shared<probe_subsystem>("hung", 1h);
  auto quick = std::make_shared<probe_subsystem>("quick", 1ms);
  s.add(hung, {.interval = 10s, .timeout = 600ms});
  s.add(quick, {.interval = 20ms, .timeout = 1s});
  s.start();
  run_for(io, s, 900ms);
  // The quick subsystem kept its pace while the other hung: gaps near 20 ms, none as long as the
  // hung check's 600 ms timeout (the margin is for a loaded machine, sanitizers included).
  BOOST_TEST(quick->calls >= 10);
  for (std::size_t i = 1; i < quick->started.size(); ++i)
    BOOST_TEST((quick->started[i] - quick->started[i - 1]) < 500ms);
  const auto* state = s.state("hung");
  BOOST_REQUIRE(state);
  BOOST_TEST(state->checked);
  BOOST_TEST((state->last_outcome == check_outcome::timeout));
  BOOST_TEST((state->last.state == status::unknown));
  BOOST_TEST(state->last.summary.find("timed out") != std::string::npos);
  BOOST_TEST(state->consecutive_failures == 1u);
  // The timed-out check was cancelled, not left running.
  BOOST_TEST(hung->in_flight == 0);
}

BOOST_AUTO_TEST_CASE(failures_are_counted_until_a_check_passes) {
  asio::io_context io;
  scheduler s(io.get_executor());
  auto p = std::make_shared<probe_subsystem>("bad", 1ms, status::unhealthy);
  s.add(p, {.interval = 20ms, .timeout = 1s});
  std::vector<unsigned> seen;
  s.on_checked([&](const subsystem_state& st) { seen.push_back(st.consecutive_failures); });
  s.start();
  run_for(io, s, 150ms);
  BOOST_REQUIRE(seen.size() >= 3u);
  for (std::size_t i = 0; i < seen.size(); ++i) BOOST_TEST(seen[i] == i + 1);
  BOOST_TEST((s.state("bad")->last_outcome == check_outcome::failed));
}

BOOST_AUTO_TEST_CASE(stop_cancels_a_running_check) {
  asio::io_context io;
  scheduler s(io.get_executor());
  auto p = std::make_shared<probe_subsystem>("long", 1h);
  s.add(p, {.interval = 1h, .timeout = 1h});
  s.start();
  io.run_for(20ms);
  BOOST_TEST(s.busy());
  s.stop();
  io.restart();
  io.run_for(100ms);
  BOOST_TEST(!s.busy());
  BOOST_TEST(p->in_flight == 0);
}

BOOST_AUTO_TEST_CASE(lateness_is_measured_for_timed_checks_only) {
  asio::io_context io;
  scheduler s(io.get_executor());
  auto p = std::make_shared<probe_subsystem>("timed", 1ms);
  s.add(p, {.interval = 100ms, .timeout = 5s});
  std::vector<std::optional<std::chrono::duration<double>>> seen;
  s.on_checked([&](const subsystem_state& st) { seen.push_back(st.last_lateness); });
  // Runs the loop until `n` checks are seen (bounded: a loaded machine is slow, not stuck).
  const auto run_until = [&](std::size_t n) {
    const auto deadline = steady::now() + 10s;
    while (seen.size() < n && steady::now() < deadline) io.run_for(5ms);
  };
  s.start();
  // The first check is asked for, not due: no lateness.
  run_until(1);
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(!seen[0].has_value());
  // Block the loop thread well past the next due time (at most 100 ms from now): that check starts
  // late by at least the overrun.
  asio::post(io, [] { std::this_thread::sleep_for(400ms); });
  run_until(2);
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_REQUIRE(seen[1].has_value());
  BOOST_TEST(seen[1]->count() >= 0.25);
  BOOST_TEST(seen[1]->count() < 5.0);
  // A check asked for has no lateness either.
  BOOST_TEST(s.check_now("timed"));
  run_until(3);
  BOOST_REQUIRE(seen.size() == 3u);
  BOOST_TEST(!seen[2].has_value());
  s.stop();
  io.restart();
  io.run_for(200ms);
}

BOOST_AUTO_TEST_CASE(remove_during_a_check_cancels_it_and_a_new_one_of_the_name_starts_afresh) {
  asio::io_context io;
  scheduler s(io.get_executor());
  int observed = 0;
  s.on_checked([&](const subsystem_state&) { ++observed; });
  // The first check takes a minute: it is in flight when the subsystem is removed.
  std::weak_ptr<probe_subsystem> old_one;
  {
    auto slow = std::make_shared<probe_subsystem>("probe", 60s);
    old_one = slow;
    s.add(slow, {.interval = 1h, .timeout = 2min});
  }
  s.start();
  io.run_for(50ms);
  BOOST_REQUIRE(s.state("probe") && s.state("probe")->running);
  BOOST_TEST(!old_one.expired());  // the check in flight holds it

  BOOST_TEST(s.remove("probe"));
  BOOST_TEST(!s.state("probe"));
  BOOST_TEST(!s.remove("probe"));
  BOOST_TEST(!s.check_now("probe"));
  auto fresh = std::make_shared<probe_subsystem>("probe", 1ms, status::degraded);
  s.add(fresh, {.interval = 1h, .timeout = 1s});
  io.run_for(200ms);
  // The old check was cancelled (it never reported, and let its subsystem go); the new one checked.
  BOOST_TEST(old_one.expired());
  BOOST_TEST(fresh->calls == 1);
  const auto* state = s.state("probe");
  BOOST_REQUIRE(state);
  BOOST_TEST(state->target == fresh);
  BOOST_TEST(state->checks == 1u);
  BOOST_TEST((state->last.state == status::degraded));
  BOOST_TEST(!state->running);
  BOOST_TEST(observed == 1);
  run_for(io, s, 10ms);
}

BOOST_AUTO_TEST_CASE(fresh_checks_waits_for_a_check_begun_after_the_call_not_the_one_running) {
  asio::io_context io;
  scheduler s(io.get_executor());
  auto slow = std::make_shared<probe_subsystem>("slow", 100ms);
  auto quick = std::make_shared<probe_subsystem>("quick", 1ms);
  s.add(slow, {.interval = 10s, .timeout = 5s});
  s.add(quick, {.interval = 10s, .timeout = 5s});
  s.start();
  io.run_for(20ms);  // both first checks began; slow's still runs
  BOOST_REQUIRE(slow->calls == 1);
  bool waited = false;
  int slow_calls_seen = 0;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await s.fresh_checks("");
        waited = true;
        slow_calls_seen = slow->calls;
      },
      asio::detached);
  io.run_for(150ms);  // slow's first check ended: too early to count
  BOOST_TEST(slow->calls == 2);
  BOOST_TEST(!waited);
  run_for(io, s, 200ms);
  BOOST_TEST(waited);
  BOOST_TEST(slow_calls_seen == 2);
  BOOST_TEST(quick->calls == 2);
}

BOOST_AUTO_TEST_CASE(fresh_checks_ends_when_the_subsystem_is_removed_or_the_scheduler_stops) {
  asio::io_context io;
  scheduler s(io.get_executor());
  s.add(std::make_shared<probe_subsystem>("hung", 10s), {.interval = 10s, .timeout = 20s});
  s.add(std::make_shared<probe_subsystem>("other", 10s), {.interval = 10s, .timeout = 20s});
  s.start();
  io.run_for(10ms);
  int ended = 0;
  for (const char* name : {"hung", "other"})
    asio::co_spawn(
        io,
        [&, name]() -> awaitable<void> {
          co_await s.fresh_checks(name);
          ++ended;
        },
        asio::detached);
  io.run_for(20ms);
  BOOST_TEST(ended == 0);
  BOOST_TEST(s.remove("hung"));
  io.run_for(20ms);
  BOOST_TEST(ended == 1);
  run_for(io, s, 20ms);
  BOOST_TEST(ended == 2);
}
