// The PM2 subsystem against the real pm2 (pinned in package.json, installed into build/npm), each test
// with its own PM2_HOME that is killed at the end; and against fake pm2 executables that misbehave.
#define BOOST_TEST_MODULE pm2_subsystem
#include <boost/test/unit_test.hpp>

#include "redundancy/core/process.hpp"
#include "redundancy/pm2/pm2_subsystem.hpp"
#include "support/files.hpp"
#include "support/health.hpp"
#include "support/pm2_sandbox.hpp"
#include "support/run.hpp"
#include "test_paths.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <fstream>
#include <functional>
#include <thread>

using namespace redundancy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace redundancy {
std::ostream& operator<<(std::ostream& os, status s) { return os << to_string(s); }
namespace pm2 {
std::ostream& operator<<(std::ostream& os, pm2_state s) { return os << to_string(s); }
}  // namespace pm2
}  // namespace redundancy

namespace {

using test::alive;
using test::describe;
using test::find_target;
using test::have_pm2;
using test::pid_in;
using test::run;

const fs::path& fixtures = test::pm2_fixtures;

unsigned count_steps(const action_result& r, std::string_view prefix) {
  unsigned n = 0;
  for (const auto& s : r.steps) n += s.name.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

// The project every test here starts from: a steady app, a crash-looping one and a memory hog.
struct sandbox : test::pm2_sandbox {
  sandbox() : test::pm2_sandbox({"ok.js", "crash.js", "hog.js"}) {}

  // Checks every second and restarts after 100 ms, so that a crash loop plays out in seconds.
  config make_config(std::vector<std::string> ecosystem_files) const {
    return test::pm2_sandbox::make_config(
        {.ecosystem_files = std::move(ecosystem_files), .interval = 1s, .restart_delay = 100ms});
  }
};

// The usual project: a crash-looping app (while `marker` exists) and a steady one, in a file PM2
// itself would run as a script.
const char* standard_ecosystem = R"js(
module.exports = {
  apps: [
    { name: 'crashy', script: 'crash.js', env: { MARKER: __dirname + '/marker', API_TOKEN: 'not-a-real-secret' },
      // PM2 counts an exit as unstable only within min_uptime * max_restarts of the start: a wide window
      // makes the crash loop end in errored however slow the machine is.
      min_uptime: 10000, max_restarts: 3, autorestart: true },
    { name: 'steady', script: './ok.js' },
  ],
};
)js";

// Checks until `done` holds for the health, at most `limit`; returns the last health.
health check_until(pm2::pm2_subsystem& s, const std::function<bool(const health&)>& done,
                   std::chrono::milliseconds limit = 30s) {
  auto until = std::chrono::steady_clock::now() + limit;
  health h;
  for (;;) {
    h = run(s.check());
    if (done(h) || std::chrono::steady_clock::now() > until) return h;
    std::this_thread::sleep_for(250ms);
  }
}

bool app_is(const health& h, std::string_view name, std::string_view pm2_status) {
  auto t = find_target(h, name);
  return t && t->detail.contains("status") && t->detail.at("status").as_string() == pm2_status;
}

bool all_online(const health& h, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (!app_is(h, n, "online")) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(crash_loop_into_errored_is_brought_back_once_the_cause_is_gone) {
  if (!have_pm2()) return;
  sandbox box;
  box.write("ecosystem.pm2.cjs", standard_ecosystem);
  box.write("marker", "");
  pm2::pm2_subsystem pm2s(box.make_config({"ecosystem.pm2.cjs"}));

  auto h = run(pm2s.check());
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_TEST(pm2s.state() == pm2::pm2_state::daemon_down);
  BOOST_TEST(h.state == status::unhealthy);
  BOOST_TEST(!alive(pid_in(box.home / "pm2.pid")));  // the check spawned no daemon

  // No daemon and no dump: every ecosystem file is started (through a generated JSON ecosystem).
  auto r = run(pm2s.recover(h));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(count_steps(r, "pm2 start ecosystem.pm2.cjs") >= 1u);

  h = check_until(pm2s,
                  [](const health& x) { return app_is(x, "crashy", "errored") && app_is(x, "steady", "online"); });
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_REQUIRE(app_is(h, "crashy", "errored"));
  BOOST_TEST(find_target(h, "crashy")->state == status::unhealthy);
  BOOST_TEST(find_target(h, "crashy")->reason.find("errored") != std::string::npos);
  BOOST_TEST(find_target(h, "steady")->state == status::healthy);
  BOOST_TEST(h.state == status::unhealthy);

  fs::remove(box.dir / "marker");
  r = run(pm2s.recover(h));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(count_steps(r, "pm2 restart crashy") == 1u);
  BOOST_TEST(r.ok);
  h = check_until(pm2s, [](const health& x) { return app_is(x, "crashy", "online"); });
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_REQUIRE(app_is(h, "crashy", "online"));
  BOOST_TEST(find_target(h, "crashy")->state == status::healthy);
  // One restart was counted; on a loaded machine a slow start can make a check see the app down once
  // more and count a second.
  const auto attempts_left = find_target(h, "crashy")->detail.at("attempts_left").to_number<std::int64_t>();
  BOOST_TEST(attempts_left <= 4);
  BOOST_TEST(attempts_left >= 3);
  BOOST_TEST(find_target(h, "crashy")->detail.at("expected").as_bool());
  BOOST_TEST(find_target(h, "crashy")->detail.at("pid").to_number<std::int64_t>() > 0);

  // The generated ecosystem holds the env values: private to us.
  bool found = false;
  for (const auto& e : fs::directory_iterator(box.dir / "state" / "pm2")) {
    found = true;
    struct stat st {};
    BOOST_REQUIRE(::stat(e.path().c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(test::read_text(e.path()).find((box.dir / "ok.js").string()) != std::string::npos);  // absolute script
  }
  BOOST_TEST(found);
  // Nothing of the environment reaches the snapshot.
  for (const auto& t : h.targets)
    BOOST_TEST(boost::json::serialize(t.detail).find("not-a-real-secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(apps_of_ecosystem_files_beyond_the_cap_are_counted_and_not_watched) {
  if (!have_pm2()) return;
  // An ecosystem file is not bounded by the config's check: 10,005 apps would be 10,005 targets.
  sandbox box;
  box.write("ecosystem.config.js",
            "module.exports = {apps: Array.from({length: 10005}, (_, i) => ({name: 'app' + i, script: 'ok.js'}))};\n");
  pm2::pm2_subsystem pm2s(box.make_config({"ecosystem.config.js"}));
  auto h = run(pm2s.check());
  BOOST_TEST(!alive(pid_in(box.home / "pm2.pid")));  // the check spawned no daemon
  BOOST_TEST(h.summary.find("5 apps of the ecosystem files not watched: at most 10000 apps are") != std::string::npos,
             h.summary.substr(0, 500));
  const auto apps = std::count_if(h.targets.begin(), h.targets.end(),
                                  [](const target_health& t) { return t.name.starts_with("app"); });
  BOOST_TEST(apps == 10'000);
}

BOOST_AUTO_TEST_CASE(absent_expected_app_is_started_from_its_ecosystem_file) {
  if (!have_pm2()) return;
  sandbox box;
  box.write("ecosystem.pm2.cjs", standard_ecosystem);
  BOOST_REQUIRE(box.pm2("start ok.js --name stranger") == 0);  // a daemon with an app nobody expects
  pm2::pm2_subsystem pm2s(box.make_config({"ecosystem.pm2.cjs"}));

  auto h = run(pm2s.check());
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_TEST(pm2s.state() == pm2::pm2_state::ok);
  BOOST_TEST(find_target(h, "steady")->state == status::unhealthy);
  BOOST_TEST(find_target(h, "steady")->detail.at("status").as_string() == "absent");
  BOOST_REQUIRE(find_target(h, "stranger"));
  BOOST_TEST(!find_target(h, "stranger")->detail.at("expected").as_bool());
  int stranger_pid = static_cast<int>(find_target(h, "stranger")->detail.at("pid").to_number<std::int64_t>());

  auto r = run(pm2s.recover(h));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(count_steps(r, "pm2 start ecosystem.pm2.cjs --only steady") == 1u);
  BOOST_TEST(count_steps(r, "pm2 start ecosystem.pm2.cjs --only crashy") == 1u);
  h = check_until(pm2s, [](const health& x) { return all_online(x, {"steady", "crashy"}); });
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_TEST(all_online(h, {"steady", "crashy"}));
  // The stranger was never touched.
  BOOST_TEST(find_target(h, "stranger")->detail.at("pid").to_number<std::int64_t>() == stranger_pid);
}

// Nobody watches PM2's bus here (start_watching is not called), so nothing says the stop was by hand: the
// stopped app is judged like one that stopped by itself. pm2_manual_stop_test has the daemon with the bus.
BOOST_AUTO_TEST_CASE(without_the_bus_a_stopped_app_is_restarted_after_one_interval) {
  if (!have_pm2()) return;
  sandbox box;
  box.write("ecosystem.pm2.cjs", standard_ecosystem);
  pm2::pm2_subsystem pm2s(box.make_config({"ecosystem.pm2.cjs"}));
  run(pm2s.recover(run(pm2s.check())));
  auto h = check_until(pm2s, [](const health& x) { return all_online(x, {"steady", "crashy"}); });
  BOOST_REQUIRE(all_online(h, {"steady", "crashy"}));

  BOOST_REQUIRE(box.pm2("stop steady") == 0);
  h = run(pm2s.check());
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_TEST(app_is(h, "steady", "stopped"));
  BOOST_TEST(find_target(h, "steady")->state == status::degraded);  // within one interval: a deploy may be at work
  BOOST_TEST(count_steps(run(pm2s.recover(h)), "pm2 restart") == 0u);

  std::this_thread::sleep_for(1100ms);
  h = run(pm2s.check());
  BOOST_TEST(find_target(h, "steady")->state == status::unhealthy);
  auto r = run(pm2s.recover(h));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(count_steps(r, "pm2 restart steady") == 1u);
  h = check_until(pm2s, [](const health& x) { return app_is(x, "steady", "online"); });
  BOOST_TEST(app_is(h, "steady", "online"));
}

BOOST_AUTO_TEST_CASE(an_oversized_log_is_a_warning_and_the_recovery_rotates_it) {
  if (!have_pm2()) return;
  sandbox box;
  const auto log = box.dir / "steady-out.log";
  box.write("ecosystem.pm2.cjs", "module.exports = { apps: [ { name: 'steady', script: './ok.js', out_file: '" +
                                     log.string() + "' } ] };\n");
  auto cfg = box.make_config({"ecosystem.pm2.cjs"});
  cfg.pm2.log_max_bytes = 4000;
  cfg.pm2.log_keep = 2;
  const auto grow_log = [&] { std::ofstream(log, std::ios::app) << std::string(5000, 'x') << "\n"; };
  {
    pm2::pm2_subsystem starter(cfg);
    run(starter.recover(run(starter.check())));
    const auto up = check_until(starter, [](const health& x) { return all_online(x, {"steady"}); });
    BOOST_REQUIRE(all_online(up, {"steady"}));
  }
  grow_log();
  pm2::pm2_subsystem pm2s(cfg);
  auto h = run(pm2s.check());
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_TEST(h.state == status::degraded);
  BOOST_TEST(h.summary.find("steady: log " + log.string() + " is") != std::string::npos);
  auto r = run(pm2s.recover(h));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(count_steps(r, "rotate steady-out.log") == 1u);
  BOOST_TEST(r.ok);
  BOOST_TEST(fs::file_size(fs::path(log.string() + ".1")) > 5000u);
  BOOST_TEST(fs::file_size(log) < 4000u);
  // Measured again at the next check after a rotation, not a minute later (between those, once a minute).
  grow_log();
  h = run(pm2s.check());
  BOOST_TEST(h.summary.find("steady: log " + log.string() + " is") != std::string::npos, describe(h));
}

BOOST_AUTO_TEST_CASE(after_max_attempts_the_app_is_given_up_and_left_alone) {
  if (!have_pm2()) return;
  sandbox box;
  box.write("ecosystem.pm2.cjs", standard_ecosystem);
  box.write("marker", "");
  auto cfg = box.make_config({"ecosystem.pm2.cjs"});
  cfg.pm2.max_restart_attempts = 2;
  pm2::pm2_subsystem pm2s(cfg);
  run(pm2s.recover(run(pm2s.check())));

  unsigned restarts = 0, give_ups = 0;
  for (int round = 0; round < 12 && give_ups == 0; ++round) {
    auto h = check_until(pm2s, [](const health& x) { return app_is(x, "crashy", "errored"); });
    BOOST_REQUIRE(app_is(h, "crashy", "errored"));
    std::this_thread::sleep_for(300ms);  // past the (doubling) delay of 100 ms
    auto r = run(pm2s.recover(h));
    BOOST_TEST_MESSAGE(describe(r));
    restarts += count_steps(r, "pm2 restart crashy");
    give_ups += count_steps(r, "give up crashy");
  }
  BOOST_TEST(restarts == 2u);
  BOOST_TEST(give_ups == 1u);

  auto h = run(pm2s.check());
  auto restart_count = find_target(h, "crashy")->detail.at("restarts").to_number<std::int64_t>();
  for (int i = 0; i < 3; ++i) {
    h = run(pm2s.check());
    BOOST_TEST(find_target(h, "crashy")->detail.at("given_up").as_bool());
    BOOST_TEST(find_target(h, "crashy")->detail.at("attempts_left").to_number<std::int64_t>() == 0);
    BOOST_TEST(find_target(h, "crashy")->reason.find("given up") != std::string::npos);
    auto r = run(pm2s.recover(h));
    BOOST_TEST(count_steps(r, "pm2 restart") == 0u);
    std::this_thread::sleep_for(300ms);
  }
  BOOST_TEST(find_target(run(pm2s.check()), "crashy")->detail.at("restarts").to_number<std::int64_t>() ==
             restart_count);

  // A manual restart resets it.
  fs::remove(box.dir / "marker");
  auto r = run(pm2s.restart_app("crashy"));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(r.ok);
  h = check_until(pm2s, [](const health& x) { return app_is(x, "crashy", "online"); });
  BOOST_TEST(app_is(h, "crashy", "online"));
  BOOST_TEST(!find_target(h, "crashy")->detail.at("given_up").as_bool());
}

BOOST_AUTO_TEST_CASE(daemon_killed_is_resurrected) {
  if (!have_pm2()) return;
  sandbox box;
  box.write("ecosystem.pm2.cjs", standard_ecosystem);
  pm2::pm2_subsystem pm2s(box.make_config({"ecosystem.pm2.cjs"}));
  run(pm2s.recover(run(pm2s.check())));
  auto h = check_until(pm2s, [](const health& x) { return all_online(x, {"steady", "crashy"}); });
  BOOST_REQUIRE(all_online(h, {"steady", "crashy"}));
  BOOST_TEST(h.summary.find("dump.pm2") == std::string::npos);  // the recovery saved what it started
  BOOST_REQUIRE(box.pm2("save") == 0);
  h = run(pm2s.check());
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_TEST(h.state == status::healthy);

  int old_daemon = pid_in(box.home / "pm2.pid");
  BOOST_REQUIRE(box.pm2("kill") == 0);
  for (int i = 0; i < 50 && alive(old_daemon); ++i) std::this_thread::sleep_for(100ms);
  h = run(pm2s.check());
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_TEST(pm2s.state() == pm2::pm2_state::daemon_down);
  BOOST_TEST(h.summary.find("PM2 daemon is not running") != std::string::npos);
  BOOST_TEST(find_target(h, "steady")->state == status::unhealthy);

  auto r = run(pm2s.recover(h));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(count_steps(r, "pm2 resurrect") == 1u);
  h = check_until(pm2s, [](const health& x) { return all_online(x, {"steady", "crashy"}); });
  BOOST_TEST(all_online(h, {"steady", "crashy"}));
  BOOST_TEST(pm2s.state() == pm2::pm2_state::ok);
  BOOST_TEST(pid_in(box.home / "pm2.pid") != old_daemon);
}

BOOST_AUTO_TEST_CASE(emergency_restart_kills_pm2_and_starts_everything) {
  if (!have_pm2()) return;
  sandbox box;
  box.write("ecosystem.pm2.cjs", standard_ecosystem);
  pm2::pm2_subsystem pm2s(box.make_config({"ecosystem.pm2.cjs"}));
  run(pm2s.recover(run(pm2s.check())));
  auto h = check_until(pm2s, [](const health& x) { return all_online(x, {"steady", "crashy"}); });
  BOOST_REQUIRE(all_online(h, {"steady", "crashy"}));
  auto old_pid = find_target(h, "steady")->detail.at("pid").to_number<std::int64_t>();
  int old_daemon = pid_in(box.home / "pm2.pid");

  auto r = run(pm2s.emergency({}));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(count_steps(r, "pm2 kill") == 1u);
  BOOST_TEST(count_steps(r, "pm2 start ecosystem.pm2.cjs") == 1u);
  BOOST_TEST(!alive(old_daemon));
  BOOST_TEST(!alive(static_cast<int>(old_pid)));
  h = check_until(pm2s, [](const health& x) { return all_online(x, {"steady", "crashy"}); });
  BOOST_TEST(all_online(h, {"steady", "crashy"}));
  BOOST_TEST(find_target(h, "steady")->detail.at("pid").to_number<std::int64_t>() != old_pid);
}

BOOST_AUTO_TEST_CASE(memory_over_threshold_is_restarted_after_three_checks) {
  if (!have_pm2()) return;
  sandbox box;
  box.write("ecosystem.hog.config.cjs", R"js(
module.exports = { apps: [ { name: 'hog', script: 'hog.js', env: { HOG_MB: '64' }, max_memory_restart: '1G' } ] };
)js");
  auto cfg = box.make_config({"ecosystem.hog.config.cjs"});
  cfg.pm2.memory_threshold_pct = 2;  // 64 MiB and more of 1 GiB is over
  // Started and watched through another instance, so that the streak under test starts at zero.
  pm2::pm2_subsystem starter(cfg);
  auto r = run(starter.recover(run(starter.check())));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(count_steps(r, "pm2 start ecosystem.hog.config.cjs") == 1u);  // a config name: used as is
  auto h = check_until(starter, [](const health& x) {
    auto t = find_target(x, "hog");
    return t && t->detail.at("memory_percent").to_number<double>() >= 6.0;
  });
  pm2::pm2_subsystem pm2s(cfg);
  h = run(pm2s.check());
  BOOST_TEST_MESSAGE(describe(h));
  auto first_pid = find_target(h, "hog")->detail.at("pid").to_number<std::int64_t>();
  BOOST_TEST(find_target(h, "hog")->state == status::healthy);  // one check over is no failure
  BOOST_TEST(count_steps(run(pm2s.recover(h)), "pm2 restart") == 0u);
  h = run(pm2s.check());
  BOOST_TEST(find_target(h, "hog")->state == status::healthy);
  BOOST_TEST(count_steps(run(pm2s.recover(h)), "pm2 restart") == 0u);
  h = run(pm2s.check());
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_TEST(find_target(h, "hog")->state == status::unhealthy);
  BOOST_TEST(find_target(h, "hog")->reason.find("memory") != std::string::npos);
  r = run(pm2s.recover(h));
  BOOST_TEST_MESSAGE(describe(r));
  BOOST_TEST(count_steps(r, "pm2 restart hog") == 1u);
  h = check_until(pm2s, [&](const health& x) {
    auto t = find_target(x, "hog");
    return t && app_is(x, "hog", "online") && t->detail.at("pid").to_number<std::int64_t>() != first_pid;
  });
  BOOST_TEST(find_target(h, "hog")->detail.at("pid").to_number<std::int64_t>() != first_pid);
}

BOOST_AUTO_TEST_CASE(broken_ecosystem_file_is_a_clear_unhealthy_reason) {
  sandbox box;
  box.write("ecosystem.pm2.cjs", "module.exports = { apps: [ { name: 'x', script: 'ok.js' } ] ;;; syntax(");
  auto cfg = box.make_config({"ecosystem.pm2.cjs"});
  cfg.pm2.command = {"/nonexistent/pm2"};
  pm2::pm2_subsystem pm2s(cfg);
  auto h = run(pm2s.check());
  BOOST_TEST_MESSAGE(describe(h));
  BOOST_TEST(h.state == status::unhealthy);
  auto t = find_target(h, "ecosystem.pm2.cjs");
  BOOST_REQUIRE(t);
  BOOST_TEST(t->state == status::unhealthy);
  BOOST_TEST(t->reason.find("cannot load ecosystem.pm2.cjs") == 0u);
  BOOST_TEST(t->detail.at("kind").as_string() == "ecosystem_file");
}

// Fake pm2 executables: a "running" daemon (our own pid in pm2.pid) behind a pm2 that misbehaves.
struct fake_case {
  std::vector<std::string> command;
  pm2::pm2_state expected;
  status expected_status;
  std::string summary_part;
};

BOOST_AUTO_TEST_CASE(misbehaving_pm2_gives_a_clear_state_and_no_crash) {
  const std::vector<fake_case> cases{
      {{(fixtures / "bin/pm2-hang").string()}, pm2::pm2_state::not_answering, status::unhealthy, "not answering"},
      {{(fixtures / "bin/pm2-garbage").string()}, pm2::pm2_state::bad_output, status::unknown, "not JSON"},
      {{(fixtures / "bin/pm2-huge").string()}, pm2::pm2_state::bad_output, status::unknown, "printed more than"},
      {{"/nonexistent/bin/pm2"}, pm2::pm2_state::not_installed, status::unhealthy, "pm2 is not installed"},
      {{"redundancy-no-such-pm2-command"}, pm2::pm2_state::not_installed, status::unhealthy, "pm2 is not installed"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.command.front()) {
      sandbox box;
      std::ofstream(box.home / "pm2.pid") << ::getpid();
      auto cfg = box.make_config({});
      cfg.pm2.processes = {"web"};
      cfg.pm2.command = c.command;
      cfg.pm2.timeout = 1s;
      pm2::pm2_subsystem pm2s(cfg);
      auto h = run(pm2s.check());
      BOOST_TEST_MESSAGE(describe(h));
      BOOST_TEST(pm2s.state() == c.expected);
      BOOST_TEST(h.state == c.expected_status);
      BOOST_TEST(h.summary.find(c.summary_part) != std::string::npos);
      BOOST_REQUIRE(find_target(h, "web"));
      BOOST_TEST(find_target(h, "web")->reason.find("PM2 is not usable") == 0u);
      auto r = run(pm2s.recover(h));
      BOOST_TEST_MESSAGE(describe(r));
      BOOST_TEST(!r.ok);
      BOOST_TEST(!r.summary.empty());
      BOOST_TEST(running_children() == 0u);
      fs::remove(box.home / "pm2.pid");
    }
  }
}
