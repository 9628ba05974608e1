// Tests of the async child-process runner against real processes: exit codes and signals, env, cwd,
// output caps, missing binaries, descriptor leaks, loop responsiveness, timeouts and cancellation
// that end whole process groups, concurrency, and shutdown. Every test checks that it left no process.
#define BOOST_TEST_MODULE process
#include <boost/test/unit_test.hpp>

#include "redundancy/core/asio.hpp"
#include "redundancy/core/process.hpp"
#include "support/proc.hpp"
#include "test_paths.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/use_future.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

using namespace redundancy;
using namespace redundancy::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string helper = REDUNDANCY_CHILD_HELPER;

process_spec helper_spec(std::vector<std::string> args) {
  process_spec spec;
  spec.argv.push_back(helper);
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.timeout = 20s;
  return spec;
}

// Runs one coroutine to completion on its own io_context.
template <typename T>
T run_on(asio::io_context& ioc, awaitable<T> task) {
  auto future = asio::co_spawn(ioc, std::move(task), asio::use_future);
  ioc.run();
  return future.get();
}

process_result run(process_spec spec) {
  asio::io_context ioc;
  return run_on(ioc, run_process(std::move(spec)));
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// Waits until a child of this process whose command name is `comm` shows up; returns its pid (its
// process group, as the runner makes every child a group leader), or 0 after `limit`.
awaitable<int> find_child(std::string comm, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& p : children_of_self())
      if (p.comm == comm && p.state != 'Z') co_return p.pid;
    co_await sleep_for(10ms);
  }
  co_return 0;
}

std::vector<int> live_pids(const std::vector<int>& pids) {
  std::vector<int> live;
  for (int pid : pids)
    if (pid_exists(pid)) live.push_back(pid);
  return live;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Every test starts as a child subreaper (as the daemon does), and must end with no child process of
// ours left, running or zombie; anything left is reported, then killed so the next test starts clean.
struct no_leftovers {
  no_leftovers() { become_child_subreaper(); }
  ~no_leftovers() {
    BOOST_CHECK_MESSAGE(eventually([] { return children_of_self().empty(); }, 1s),
                        "the test left child processes behind");
    kill_and_reap_children();
    BOOST_CHECK_EQUAL(running_children(), 0u);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(process_runner, no_leftovers)

BOOST_AUTO_TEST_CASE(exit_codes) {
  const auto ok = run(helper_spec({"exit", "0"}));
  BOOST_TEST(ok.started());
  BOOST_TEST(ok.ok());
  BOOST_TEST(ok.exit_code == 0);
  BOOST_TEST(ok.pid > 0);
  BOOST_TEST(ok.describe() == "exit 0");

  const auto failed = run(helper_spec({"exit", "3"}));
  BOOST_TEST(failed.started());
  BOOST_TEST(!failed.ok());
  BOOST_TEST(failed.exit_code == 3);
  BOOST_TEST(failed.term_signal == 0);
  BOOST_TEST(!failed.timed_out);
  BOOST_TEST(failed.describe() == "exit 3");

  const auto high = run(helper_spec({"exit", "255"}));
  BOOST_TEST(high.exit_code == 255);
}

BOOST_AUTO_TEST_CASE(death_by_signal) {
  const auto r = run(helper_spec({"raise", std::to_string(SIGUSR1)}));
  BOOST_TEST(r.started());
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.exit_code == -1);
  BOOST_TEST(r.term_signal == SIGUSR1);
  BOOST_TEST(r.describe() == "killed by SIGUSR1");
}

BOOST_AUTO_TEST_CASE(argv_is_passed_without_a_shell) {
  auto spec = helper_spec({"args", "two words", "$HOME", "*", ""});
  const auto r = run(spec);
  BOOST_TEST(r.ok());
  const std::vector<std::string> expected{helper, "args", "two words", "$HOME", "*", ""};
  BOOST_TEST(lines(r.out) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(argv0_is_found_on_path) {
  process_spec spec;
  spec.argv = {"sh", "-c", "echo found; exit 4"};
  const auto r = run(spec);
  BOOST_TEST(r.started());
  BOOST_TEST(r.exit_code == 4);
  BOOST_TEST(r.out == "found\n");

  // The child's PATH (from spec.env) is the one searched.
  const fs::path dir = fs::temp_directory_path() / ("redundancy-path-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(helper, dir / "my-tool", fs::copy_options::overwrite_existing);
  fs::permissions(dir / "my-tool", fs::perms::owner_all);
  process_spec own;
  own.argv = {"my-tool", "exit", "7"};
  own.env["PATH"] = "/nonexistent:" + dir.string();
  const auto found = run(own);
  fs::remove_all(dir);
  BOOST_TEST(found.error == "");
  BOOST_TEST(found.exit_code == 7);
}

BOOST_AUTO_TEST_CASE(environment_is_built_for_the_child_and_secrets_never_reach_it) {
  ::setenv("REDUNDANCY_TOKEN", "api-token-value", 1);
  ::setenv("REDUNDANCY_TEST_INHERITED", "from-parent", 1);
  ::setenv("TEST_CLOUD_SECRET", "cloud-secret-value", 1);
  ::setenv("LC_REDUNDANCY_TEST", "C", 1);
  ::setenv("NODE_REDUNDANCY_TEST", "node-setting", 1);
  ::setenv("NETLIFY_REDUNDANCY_TEST", "netlify-setting", 1);
  ::setenv("PM2_REDUNDANCY_TEST", "pm2-setting", 1);
  ::setenv("UNSET_REDUNDANCY_TEST", "should-go", 1);
  ::setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  ::setenv("WATCHDOG_PID", "1", 1);

  auto env_of = [](const std::string& name, process_spec spec) {
    spec.argv.push_back("env");
    spec.argv.push_back(name);
    return run(std::move(spec));
  };
  process_spec spec = helper_spec({});
  spec.env["ADDED_REDUNDANCY_TEST"] = "added value";
  spec.env["LC_REDUNDANCY_TEST"] = "replaced";
  spec.unset_env = {"UNSET_REDUNDANCY_TEST"};

  // The base every child gets: PATH, HOME, the locale; nothing else of ours.
  BOOST_TEST(env_of("PATH", spec).out == std::getenv("PATH"));
  BOOST_TEST(env_of("LC_REDUNDANCY_TEST", spec).out == "replaced");
  BOOST_TEST(env_of("ADDED_REDUNDANCY_TEST", spec).out == "added value");
  for (const char* absent : {"REDUNDANCY_TOKEN", "REDUNDANCY_TEST_INHERITED", "TEST_CLOUD_SECRET",
                             "NODE_REDUNDANCY_TEST", "NETLIFY_REDUNDANCY_TEST", "PM2_REDUNDANCY_TEST",
                             "UNSET_REDUNDANCY_TEST", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"})
    BOOST_TEST(env_of(absent, spec).exit_code == 3, absent);  // 3: unset
  // Each kind adds what it needs, and only that.
  spec.inherit = child_env::node;
  BOOST_TEST(env_of("NODE_REDUNDANCY_TEST", spec).out == "node-setting");
  BOOST_TEST(env_of("PM2_REDUNDANCY_TEST", spec).exit_code == 3);
  spec.inherit = child_env::pm2;
  BOOST_TEST(env_of("PM2_REDUNDANCY_TEST", spec).out == "pm2-setting");
  BOOST_TEST(env_of("NETLIFY_REDUNDANCY_TEST", spec).exit_code == 3);
  spec.inherit = child_env::netlify_cli;
  BOOST_TEST(env_of("NETLIFY_REDUNDANCY_TEST", spec).out == "netlify-setting");
  for (const char* absent : {"REDUNDANCY_TOKEN", "TEST_CLOUD_SECRET", "PM2_REDUNDANCY_TEST"})
    BOOST_TEST(env_of(absent, spec).exit_code == 3, absent);
  // A withheld name passes no kind's list (github.token_env's variable when it is NODE_AUTH_TOKEN, say)...
  withhold_from_children({"NETLIFY_REDUNDANCY_TEST"});
  BOOST_TEST(env_of("NETLIFY_REDUNDANCY_TEST", spec).exit_code == 3);
  // ...but a caller that gives it explicitly (a step that asks for the token) is obeyed.
  spec.env["NETLIFY_REDUNDANCY_TEST"] = "given";
  BOOST_TEST(env_of("NETLIFY_REDUNDANCY_TEST", spec).out == "given");
  withhold_from_children({});
  // The service's own variables never, even when asked for explicitly.
  spec.env["NOTIFY_SOCKET"] = "/run/other";
  BOOST_TEST(env_of("NOTIFY_SOCKET", spec).exit_code == 3);
  // The parent's own environment is untouched.
  BOOST_TEST(std::string(std::getenv("UNSET_REDUNDANCY_TEST")) == "should-go");

  for (const char* name : {"REDUNDANCY_TOKEN", "REDUNDANCY_TEST_INHERITED", "TEST_CLOUD_SECRET", "LC_REDUNDANCY_TEST",
                           "NODE_REDUNDANCY_TEST", "NETLIFY_REDUNDANCY_TEST", "PM2_REDUNDANCY_TEST",
                           "UNSET_REDUNDANCY_TEST", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"})
    ::unsetenv(name);
}

BOOST_AUTO_TEST_CASE(child_environment_is_an_allow_list_per_kind) {
  const std::map<std::string, std::string> parent{{"PATH", "/bin"},
                                                  {"HOME", "/home/u"},
                                                  {"USER", "u"},
                                                  {"LANG", "C.UTF-8"},
                                                  {"LC_ALL", "C"},
                                                  {"TZ", "UTC"},
                                                  {"TMPDIR", "/tmp"},
                                                  {"https_proxy", "http://p"},
                                                  {"GITHUB_TOKEN", "ghp_x"},
                                                  {"REDUNDANCY_TOKEN", "t"},
                                                  {"REDUNDANCY_URL", "http://x"},
                                                  {"AWS_SECRET_ACCESS_KEY", "k"},
                                                  {"NODE_OPTIONS", "--x"},
                                                  {"npm_config_offline", "true"},
                                                  {"PM2_HOME", "/p"},
                                                  {"NETLIFY_AUTH_TOKEN", "n"},
                                                  {"NETLIFY_SITE_ID", "s"},
                                                  {"SSH_AUTH_SOCK", "/s"}};
  const auto names = [&](child_env kind) {
    process_spec spec;
    spec.inherit = kind;
    std::vector<std::string> out;
    for (const auto& [k, v] : child_environment(parent, spec)) out.push_back(k);
    return out;
  };
  using list = std::vector<std::string>;
  const list base{"HOME", "LANG", "LC_ALL", "PATH", "TMPDIR", "TZ", "USER", "https_proxy"};
  BOOST_TEST(names(child_env::base) == base, boost::test_tools::per_element());
  BOOST_TEST(names(child_env::node) ==
                 (list{"HOME", "LANG", "LC_ALL", "NODE_OPTIONS", "PATH", "TMPDIR", "TZ", "USER", "https_proxy"}),
             boost::test_tools::per_element());
  BOOST_TEST(names(child_env::npm) == (list{"HOME", "LANG", "LC_ALL", "NODE_OPTIONS", "PATH", "TMPDIR", "TZ", "USER",
                                            "https_proxy", "npm_config_offline"}),
             boost::test_tools::per_element());
  BOOST_TEST(names(child_env::pm2) == (list{"HOME", "LANG", "LC_ALL", "NODE_OPTIONS", "PATH", "PM2_HOME", "TMPDIR",
                                            "TZ", "USER", "https_proxy"}),
             boost::test_tools::per_element());
  BOOST_TEST(names(child_env::netlify_cli) ==
                 (list{"HOME", "LANG", "LC_ALL", "NETLIFY_AUTH_TOKEN", "NETLIFY_SITE_ID", "NODE_OPTIONS", "PATH",
                       "TMPDIR", "TZ", "USER", "https_proxy", "npm_config_offline"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(working_directory) {
  const fs::path dir = fs::canonical(fs::temp_directory_path());
  auto spec = helper_spec({"cwd"});
  spec.cwd = dir;
  const auto r = run(spec);
  BOOST_TEST(r.ok());
  BOOST_TEST(r.out == dir.string());

  const auto here = run(helper_spec({"cwd"}));
  BOOST_TEST(here.out == fs::current_path().string());

  auto missing = helper_spec({"cwd"});
  missing.cwd = "/nonexistent/redundancy-test-dir";
  const auto bad = run(missing);
  BOOST_TEST(!bad.started());
  BOOST_TEST(bad.error.find("/nonexistent/redundancy-test-dir") != std::string::npos, bad.error);
  BOOST_TEST(bad.error.find("No such file or directory") != std::string::npos, bad.error);
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(stdin_is_dev_null) {
  const auto r = run(helper_spec({"stdin"}));
  BOOST_TEST(r.ok());
  BOOST_TEST(r.out == "0");
}

BOOST_AUTO_TEST_CASE(child_is_its_own_process_group_leader) {
  const auto r = run(helper_spec({"ids"}));
  BOOST_TEST(r.ok());
  const std::string expected = std::to_string(r.pid) + " " + std::to_string(r.pid);
  BOOST_TEST(r.out == expected);
  BOOST_TEST(r.pid != ::getpgrp());
}

BOOST_AUTO_TEST_CASE(output_under_the_cap_is_kept_whole) {
  auto spec = helper_spec({"out", "100000"});
  spec.output_cap = 100000;
  const auto r = run(spec);
  BOOST_TEST(r.ok());
  BOOST_TEST(r.out == std::string(100000, 'x'));
  BOOST_TEST(r.err.empty());
  BOOST_TEST(!r.truncated);
}

BOOST_AUTO_TEST_CASE(a_guess_at_the_output_size_changes_nothing_but_the_allocation) {
  // Too small, right, too large, and over the cap: the same output, the same truncation.
  for (const std::size_t guess : {std::size_t{1}, std::size_t{100000}, std::size_t{10000000}}) {
    BOOST_TEST_CONTEXT("expected_out " << guess) {
      auto spec = helper_spec({"out", "100000"});
      spec.output_cap = 100000;
      spec.expected_out = guess;
      const auto r = run(spec);
      BOOST_TEST(r.ok());
      BOOST_TEST(r.out == std::string(100000, 'x'));
      BOOST_TEST(!r.truncated);
      BOOST_TEST(r.out.capacity() < 200000u);  // the cap bounds the guess too
      spec.output_cap = 1000;
      const auto cut = run(spec);
      BOOST_TEST(cut.out == std::string(1000, 'x'));
      BOOST_TEST(cut.truncated);
    }
  }
}

BOOST_AUTO_TEST_CASE(output_over_the_cap_is_truncated_and_the_child_never_blocks) {
  // 20 MiB on stderr first, then 20 MiB on stdout: a runner that read the streams one after the other,
  // or stopped reading at the cap, would leave the child blocked on a full pipe until the timeout.
  constexpr std::size_t cap = 1024 * 1024;
  auto spec = helper_spec({"err-then-out", std::to_string(20 * 1024 * 1024)});
  spec.output_cap = cap;
  spec.timeout = 60s;
  const auto r = run(spec);
  BOOST_TEST(r.ok(), r.describe());
  BOOST_TEST(!r.timed_out);
  BOOST_TEST(r.truncated);
  BOOST_TEST(r.out == std::string(cap, 'x'));
  BOOST_TEST(r.err == std::string(cap, 'e'));
  BOOST_TEST(r.describe() == "exit 0, output truncated");
}

BOOST_AUTO_TEST_CASE(missing_binary_is_a_clear_error_and_leaves_no_zombie) {
  process_spec spec;
  spec.argv = {"redundancy-no-such-tool-4711", "--version"};
  const auto r = run(spec);
  BOOST_TEST(!r.started());
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.pid == 0);
  BOOST_TEST(r.error == "redundancy-no-such-tool-4711: not found on PATH");
  BOOST_TEST(r.describe() == r.error);

  // Paths are not looked up but exec'ed: those failures happen in the forked child, which must be reaped.
  const fs::path dir = fs::temp_directory_path() / ("redundancy-exec-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  { std::ofstream(dir / "not-executable") << "#!/bin/sh\nexit 0\n"; }
  { std::ofstream(dir / "garbage") << "\x01\x02\x03 not a program\n"; }
  fs::permissions(dir / "garbage", fs::perms::owner_all);

  spec.argv = {(dir / "absent").string()};
  const auto absent = run(spec);
  spec.argv = {(dir / "not-executable").string()};
  const auto denied = run(spec);
  spec.argv = {(dir / "garbage").string()};
  const auto garbage = run(spec);
  fs::remove_all(dir);

  BOOST_TEST(absent.error == (dir / "absent").string() + ": No such file or directory");
  if (::geteuid() != 0) BOOST_TEST(denied.error == (dir / "not-executable").string() + ": Permission denied");
  BOOST_TEST(!denied.started());  // root may read it but still cannot exec a file with no x bit
  BOOST_TEST(garbage.error == (dir / "garbage").string() + ": Exec format error");
  BOOST_TEST(zombie_children().empty());
  BOOST_TEST(children_of_self().empty());
  BOOST_TEST(running_children() == 0u);
}

BOOST_AUTO_TEST_CASE(child_sees_only_fds_0_to_2) {
  // A file and a listening socket opened the careless way (no CLOEXEC), as a log sink or an acceptor might.
  const std::string path = (fs::temp_directory_path() / ("redundancy-fd-" + std::to_string(::getpid()))).string();
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  BOOST_REQUIRE(file >= 0);
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  BOOST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  BOOST_REQUIRE(::listen(listener, 8) == 0);
  BOOST_REQUIRE((::fcntl(file, F_GETFD) & FD_CLOEXEC) == 0);
  BOOST_REQUIRE((::fcntl(listener, F_GETFD) & FD_CLOEXEC) == 0);

  const auto r = run(helper_spec({"fds"}));
  ::close(file);
  ::close(listener);
  ::unlink(path.c_str());

  BOOST_TEST(r.ok(), r.describe());
  std::set<int> fds;
  for (const auto& line : lines(r.out)) fds.insert(std::stoi(line));
  BOOST_TEST(fds == (std::set<int>{0, 1, 2}), r.out);
  BOOST_TEST(r.out.find("socket:") == std::string::npos);
  BOOST_TEST(r.out.find(path) == std::string::npos);
  BOOST_TEST(r.out.find("0 /dev/null") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(a_timer_keeps_firing_while_children_start_and_die) {
  asio::io_context ioc;
  bool done = false;
  std::chrono::steady_clock::duration worst{};
  int ticks = 0;
  auto ticker = [&]() -> awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto last = std::chrono::steady_clock::now();
    while (!done) {
      timer.expires_after(100ms);
      co_await timer.async_wait(asio::use_awaitable);
      const auto now = std::chrono::steady_clock::now();
      worst = std::max(worst, now - last);
      last = now;
      ++ticks;
    }
  };
  int finished = 0;
  int succeeded = 0;
  auto one_child = [&](int i) -> awaitable<void> {
    co_await sleep_for(std::chrono::milliseconds(30 * i));
    auto spec = i % 2 == 0 ? helper_spec({"sleep", "500"}) : helper_spec({"out", "200000"});
    const auto r = co_await run_process(std::move(spec));
    if (r.ok()) ++succeeded;
    if (++finished == 20) done = true;
  };
  asio::co_spawn(ioc, ticker(), asio::detached);
  for (int i = 0; i < 20; ++i) asio::co_spawn(ioc, one_child(i), asio::detached);
  ioc.run();
  BOOST_TEST(succeeded == 20);
  BOOST_TEST(ticks >= 5);
  // A loop blocked on a child would miss a tick by the child's 500 ms; the rest of the margin is for a
  // loaded machine (sanitizers: a fork copies the shadow memory's page tables).
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(worst).count() < 450);
}

BOOST_AUTO_TEST_CASE(timeout_ends_the_whole_group) {
  asio::io_context ioc;
  process_spec spec;
  spec.argv = {"sh", "-c", "sleep 100 & sleep 100"};
  spec.timeout = 700ms;
  spec.kill_grace = 2s;
  std::vector<int> members;
  int leader = 0;
  auto watch = [&]() -> awaitable<void> {
    leader = co_await find_child("sh");
    // Both sleeps are in the shell's group once they are running.
    for (int i = 0; i < 200 && members.size() < 3; ++i) {
      members = pids_in_group(leader);
      if (members.size() < 3) co_await sleep_for(5ms);
    }
  };
  auto future = asio::co_spawn(ioc, run_process(spec), asio::use_future);
  asio::co_spawn(ioc, watch(), asio::detached);
  ioc.run();
  const auto r = future.get();

  BOOST_TEST(r.timed_out);
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.pid == leader);
  BOOST_TEST(r.term_signal == SIGTERM);
  BOOST_TEST(r.describe() == "killed by SIGTERM after timeout 700ms");
  BOOST_TEST(members.size() == 3u);        // sh and both sleeps, all in the group
  BOOST_TEST(r.duration.count() < 10000);  // nowhere near the 100 s the sleeps wanted
  BOOST_TEST(eventually([&] { return pids_in_group(r.pid).empty(); }, 1s), "group still has processes");
  BOOST_TEST(live_pids(members).empty());
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(timeout_after_the_leader_exited_ends_what_holds_its_output) {
  // The shell exits at once, but a background member keeps stdout open: the run waits for EOF until
  // the timeout, then ends that member too.
  process_spec spec;
  spec.argv = {"sh", "-c", helper + " sleep 100000 & exit 0"};
  spec.timeout = 500ms;
  spec.kill_grace = 2s;
  const auto r = run(spec);
  BOOST_TEST(r.timed_out);
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.describe() == "timed out after 500ms (exit 0)");
  BOOST_TEST(eventually([&] { return pids_in_group(r.pid).empty(); }, 1s));
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(a_child_ignoring_sigterm_gets_sigkill_after_the_grace) {
  auto spec = helper_spec({"ignore-term", "100000"});
  spec.timeout = 500ms;
  spec.kill_grace = 300ms;
  const auto r = run(spec);
  BOOST_TEST(r.timed_out);
  BOOST_TEST(r.term_signal == SIGKILL);
  BOOST_TEST(r.out == "ready\n");
  BOOST_TEST(r.duration.count() >= 800);  // it did get its grace before SIGKILL
  BOOST_TEST(r.describe() == "killed by SIGKILL after timeout 500ms");
  BOOST_TEST(!pid_exists(r.pid));
}

BOOST_AUTO_TEST_CASE(cancelling_the_awaiting_coroutine_ends_the_group) {
  // What the scheduler does with a hung check: race it against a timer.
  asio::io_context ioc;
  process_spec spec;
  spec.argv = {"sh", "-c", "sleep 100 & sleep 100"};
  spec.timeout = 60s;
  spec.kill_grace = 2s;
  std::vector<int> members;
  auto raced = [&]() -> awaitable<int> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 1s);
    const auto winner = co_await (run_process(spec) || timer.async_wait(asio::use_awaitable));
    co_return static_cast<int>(winner.index());
  };
  auto watch = [&]() -> awaitable<void> {
    const int leader = co_await find_child("sh");
    for (int i = 0; i < 100 && members.size() < 3; ++i) {
      members = pids_in_group(leader);
      if (members.size() < 3) co_await sleep_for(5ms);
    }
  };
  auto future = asio::co_spawn(ioc, raced(), asio::use_future);
  asio::co_spawn(ioc, watch(), asio::detached);
  const auto started = std::chrono::steady_clock::now();
  ioc.run();
  BOOST_TEST(future.get() == 1);  // the timer won
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  BOOST_TEST(elapsed.count() < 10000);
  BOOST_REQUIRE(members.size() == 3u);
  BOOST_TEST(eventually([&] { return live_pids(members).empty(); }, 1s), "members still alive");
  BOOST_TEST(pids_in_group(members.front()).empty());
  BOOST_TEST(zombie_children().empty());
  BOOST_TEST(running_children() == 0u);
}

BOOST_AUTO_TEST_CASE(cancellation_rethrows_after_reaping) {
  asio::io_context ioc;
  asio::cancellation_signal cancel;
  auto spec = helper_spec({"ignore-term", "100000"});
  spec.timeout = 60s;
  spec.kill_grace = 200ms;
  auto future = asio::co_spawn(ioc, run_process(spec), asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
  int pid = 0;
  auto canceller = [&]() -> awaitable<void> {
    pid = co_await find_child("child_helper");
    co_await sleep_for(100ms);  // let it print "ready" and ignore SIGTERM
    cancel.emit(asio::cancellation_type::terminal);
  };
  asio::co_spawn(ioc, canceller(), asio::detached);
  ioc.run();
  BOOST_REQUIRE(pid > 0);
  try {
    future.get();
    BOOST_ERROR("run_process returned instead of passing the cancellation on");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(e.code() == asio::error::operation_aborted);
  }
  BOOST_TEST(!pid_exists(pid));  // reaped before the exception came out
  BOOST_TEST(running_children() == 0u);
}

BOOST_AUTO_TEST_CASE(fifty_concurrent_runs) {
  asio::io_context ioc;
  std::vector<std::future<process_result>> futures;
  for (int i = 0; i < 50; ++i) {
    auto spec = helper_spec({"args", "run-" + std::to_string(i)});
    futures.push_back(asio::co_spawn(ioc, run_process(std::move(spec)), asio::use_future));
  }
  std::size_t peak = 0;
  auto observe = [&]() -> awaitable<void> {
    for (int i = 0; i < 20; ++i) {
      peak = std::max(peak, running_children());
      co_await sleep_for(1ms);
    }
  };
  asio::co_spawn(ioc, observe(), asio::detached);
  ioc.run();
  std::set<int> pids;
  for (int i = 0; i < 50; ++i) {
    const auto r = futures[static_cast<std::size_t>(i)].get();
    BOOST_TEST(r.ok(), r.describe());
    const std::string expected = helper + "\nargs\nrun-" + std::to_string(i) + "\n";
    BOOST_TEST(r.out == expected);
    pids.insert(r.pid);
  }
  BOOST_TEST(pids.size() == 50u);
  BOOST_TEST(peak > 1u);
  BOOST_TEST(running_children() == 0u);
  BOOST_TEST(zombie_children().empty());
}

BOOST_AUTO_TEST_CASE(terminate_all_children_ends_running_children) {
  asio::io_context ioc;
  auto polite = helper_spec({"sleep", "100000"});
  polite.timeout = 60s;
  auto stubborn = helper_spec({"ignore-term", "100000"});
  stubborn.timeout = 60s;
  auto polite_future = asio::co_spawn(ioc, run_process(polite), asio::use_future);
  auto stubborn_future = asio::co_spawn(ioc, run_process(stubborn), asio::use_future);
  // Run the loop until both children run and the stubborn one ignores SIGTERM, then stop it, as the
  // daemon does at shutdown.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (running_children() < 2 && std::chrono::steady_clock::now() < deadline) ioc.run_one_for(10ms);
  ioc.run_for(200ms);
  BOOST_REQUIRE(running_children() == 2u);

  terminate_all_children(300ms);
  BOOST_TEST(running_children() == 0u);
  BOOST_TEST(eventually([] { return children_of_self().empty(); }, 1s));

  // The runs, resumed, report what ended their children.
  ioc.restart();
  ioc.run();
  const auto p = polite_future.get();
  const auto s = stubborn_future.get();
  BOOST_TEST(p.term_signal == SIGTERM);
  BOOST_TEST(s.term_signal == SIGKILL);
  BOOST_TEST(s.out == "ready\n");
  BOOST_TEST(!pid_exists(p.pid));
  BOOST_TEST(!pid_exists(s.pid));
}

BOOST_AUTO_TEST_CASE(a_destroyed_loop_leaves_no_child) {
  int pid = 0;
  {
    asio::io_context ioc;
    auto spec = helper_spec({"ignore-term", "100000"});
    asio::co_spawn(ioc, run_process(spec), asio::detached);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (running_children() < 1 && std::chrono::steady_clock::now() < deadline) ioc.run_one_for(10ms);
    BOOST_REQUIRE(running_children() == 1u);
    pid = children_of_self().at(0).pid;
  }  // the run's frame is destroyed with the loop, never resumed
  BOOST_TEST(running_children() == 0u);
  BOOST_TEST(!pid_exists(pid));
}

BOOST_AUTO_TEST_CASE(orphans_of_finished_runs_are_reaped_on_request) {
  // The shell leaves a short-lived member behind that outlives it and does not hold our pipes; being
  // the subreaper, we inherit it when it exits.
  process_spec spec;
  spec.argv = {"sh", "-c", helper + " sleep 100 >/dev/null 2>&1 & echo $!"};
  const auto r = run(spec);
  BOOST_TEST(r.ok(), r.describe());
  const int orphan = std::stoi(r.out);
  BOOST_TEST(eventually([&] { return is_zombie(orphan); }, 2s));
  BOOST_TEST(reap_orphans() == 1u);
  BOOST_TEST(!pid_exists(orphan));
}

BOOST_AUTO_TEST_CASE(describe_formats) {
  process_result r;
  r.exit_code = 0;
  BOOST_TEST(r.describe() == "exit 0");
  r.truncated = true;
  BOOST_TEST(r.describe() == "exit 0, output truncated");
  r = process_result{};
  r.term_signal = SIGKILL;
  r.timed_out = true;
  r.timeout = 20s;
  BOOST_TEST(r.describe() == "killed by SIGKILL after timeout 20s");
  r.timeout = 1500ms;
  BOOST_TEST(r.describe() == "killed by SIGKILL after timeout 1500ms");
  r.timeout = 5min;
  BOOST_TEST(r.describe() == "killed by SIGKILL after timeout 5m");
  r = process_result{};
  r.error = "pm2: not found on PATH";
  BOOST_TEST(r.describe() == "pm2: not found on PATH");
  BOOST_TEST(!r.started());
}

BOOST_AUTO_TEST_SUITE_END()
