// The local runner on real workflows in a temporary git repository: env layering, working
// directories, needs order, failure() cleanup, continue-on-error, timeouts that end the whole
// process group, partial runs, secrets masked in logs (each line of a multi-line one,
// ::add-mask::), the API token only for steps that ask for it, detached processes ended by their
// tracking id.
#define BOOST_TEST_MODULE github_local_runner
#include "redundancy/github/local_runner.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

#include <unistd.h>

#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "redundancy/github/plan.hpp"

using namespace redundancy;
using namespace redundancy::github;

namespace {

using test::read_text;
using test::write_text;

// A throw-away git repository with a workflows folder, removed at the end.
struct temp_repo {
  test::temp_dir tmp{"redundancy-gh"};
  std::filesystem::path dir = tmp.path();
  config cfg;

  temp_repo() {
    const std::string cmd = "cd '" + dir.string() +
                            "' && git init -q -b main && git -c user.email=t@example.com -c user.name=t commit -q "
                            "--allow-empty -m init";
    BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
    std::filesystem::create_directories(dir / "sub");
    std::filesystem::create_directories(dir / "other");
    cfg.project_dir = dir;
    cfg.state_dir = dir / "state";
    cfg.log_dir = dir / "logs";
  }

  void add_workflow(const std::string& name, const std::string& text) {
    write_text(dir / ".github/workflows" / name, text);
  }

  local_run_report run(const std::string& name, std::string* streamed = nullptr) {
    asio::io_context ioc;
    const workflow w = load_workflow(dir / ".github/workflows" / name);
    auto f = asio::co_spawn(
        ioc,
        [&]() -> awaitable<local_run_report> {
          co_return co_await run_local(cfg, w, [&](std::string_view s) {
            if (streamed) streamed->append(s);
          });
        },
        asio::use_future);
    ioc.run();
    return f.get();
  }

  std::string sha() const {
    const std::string cmd = "git -C '" + dir.string() + "' rev-parse HEAD > '" + dir.string() + "/sha.txt'";
    BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
    auto s = read_text(dir / "sha.txt");
    return s.substr(0, s.find('\n'));
  }
};

std::string steps_of(const action_result& r) {
  std::string s = r.summary + "\n";
  for (const auto& st : r.steps) s += st.name + " [" + (st.ok ? "ok" : "FAILED") + "] " + st.detail + "\n";
  return s + r.output_tail;
}

// A pid is gone when it no longer exists or is only a zombie waiting for a reaper that is not us.
bool pid_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  const auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

}  // namespace

BOOST_AUTO_TEST_CASE(env_layers_working_directories_needs_order_outputs_and_secrets) {
  temp_repo repo;
  ::setenv("REDUNDANCY_TEST_SECRET", "hunter2-xyz", 1);
  repo.add_workflow("layered.yml", R"yaml(name: layered
on: workflow_dispatch
env:
  LEVEL: workflow
  WF_ONLY: wf
defaults:
  run:
    working-directory: sub
jobs:
  second:
    needs: first
    runs-on: ubuntu-latest
    env:
      LEVEL: job
    steps:
      - name: layers
        env:
          LEVEL: step
        run: echo "second $LEVEL $WF_ONLY $(basename "$PWD")" >> "$GITHUB_WORKSPACE/order.txt"
      - name: job level
        working-directory: other
        run: echo "second-job $LEVEL $(basename "$PWD") [${{ steps.x.outputs.y }}]" >> "$GITHUB_WORKSPACE/order.txt"
  first:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: x
        run: |
          echo "y=from-output" >> "$GITHUB_OUTPUT"
          echo "FROM_ENV=carried" >> "$GITHUB_ENV"
      - run: echo "first $LEVEL $FROM_ENV ${{ steps.x.outputs.y }} $CI $GITHUB_SHA ${{ github.sha }}" >> "$GITHUB_WORKSPACE/order.txt"
      - name: secret
        env:
          TOKEN: ${{ secrets.REDUNDANCY_TEST_SECRET }}
        run: echo "token is $TOKEN and ${{ secrets.REDUNDANCY_TEST_SECRET }}"
)yaml");
  std::string streamed;
  const auto report = repo.run("layered.yml", &streamed);
  BOOST_TEST(report.result.ok, steps_of(report.result));
  BOOST_TEST((report.conclusion == run_conclusion::success), steps_of(report.result));
  const auto sha = repo.sha();
  BOOST_TEST(read_text(repo.dir / "order.txt") == "first workflow carried from-output true " + sha + " " + sha +
                                                      "\nsecond step wf sub\nsecond-job job other []\n");
  BOOST_REQUIRE(!report.log_file.empty());
  BOOST_TEST(report.log_file.parent_path() == repo.dir / "logs/workflow-runs");
  const auto log = read_text(report.log_file);
  BOOST_TEST(log.find("token is *** and ***") != std::string::npos, log);
  BOOST_TEST(log.find("hunter2-xyz") == std::string::npos);
  BOOST_TEST(streamed.find("token is *** and ***") != std::string::npos, streamed);
  BOOST_TEST(streamed.find("hunter2-xyz") == std::string::npos);
  BOOST_TEST(steps_of(report.result).find("hunter2-xyz") == std::string::npos);
  BOOST_TEST(report.result.steps.size() == 6u);
}

BOOST_AUTO_TEST_CASE(failure_cleanup_continue_on_error_and_skipped_dependents) {
  temp_repo repo;
  repo.add_workflow("fails.yml", R"yaml(on: push
jobs:
  main:
    runs-on: x
    steps:
      - run: exit 3
        continue-on-error: true
      - run: echo after-tolerated >> "$GITHUB_WORKSPACE/marks.txt"
      - name: breaks
        run: exit 1
      - run: echo never >> "$GITHUB_WORKSPACE/marks.txt"
      - if: failure()
        run: echo cleanup >> "$GITHUB_WORKSPACE/marks.txt"
      - if: ${{ always() }}
        run: echo always >> "$GITHUB_WORKSPACE/marks.txt"
  dependent:
    needs: main
    runs-on: x
    steps:
      - run: echo dependent >> "$GITHUB_WORKSPACE/marks.txt"
  notify:
    needs: main
    if: failure()
    runs-on: x
    steps:
      - run: echo notify >> "$GITHUB_WORKSPACE/marks.txt"
)yaml");
  const auto report = repo.run("fails.yml");
  BOOST_TEST(!report.result.ok);
  BOOST_TEST((report.conclusion == run_conclusion::failure));
  BOOST_TEST(read_text(repo.dir / "marks.txt") == "after-tolerated\ncleanup\nalways\nnotify\n",
             steps_of(report.result));
  BOOST_TEST(report.result.summary.find("failed: main / breaks (exit 1)") != std::string::npos, report.result.summary);
  BOOST_REQUIRE(report.result.steps.size() >= 2u);
  BOOST_TEST(report.result.steps[0].ok);  // tolerated by continue-on-error
  BOOST_TEST(report.result.steps[0].detail.find("failure: exit 3 in ") == 0u, report.result.steps[0].detail);
  BOOST_TEST(report.result.steps[0].detail.ends_with("s (continue-on-error)"), report.result.steps[0].detail);
  // Each step's outcome: success, failure or skipped, with the exit code and the time it took.
  const auto& breaks = report.result.steps[2];
  BOOST_TEST(breaks.name == "main / breaks");
  BOOST_TEST(!breaks.ok);
  BOOST_TEST(breaks.detail.find("failure: exit 1 in ") == 0u, breaks.detail);
  BOOST_TEST(report.result.steps[1].detail.find("success: exit 0 in ") == 0u);
  BOOST_TEST(report.result.steps[3].detail == "skipped: an earlier step failed");
}

BOOST_AUTO_TEST_CASE(other_actions_and_unsupported_expressions_make_a_partial_run) {
  temp_repo repo;
  repo.add_workflow("partial.yml", R"yaml(on: push
jobs:
  build:
    runs-on: x
    steps:
      - uses: actions/cache@v4
        with:
          path: x
      - run: echo ran >> "$GITHUB_WORKSPACE/partial.txt"
      - if: hashFiles('package-lock.json') != ''
        run: echo never
  call:
    uses: ./.github/workflows/other.yml
)yaml");
  const auto plan = plan_workflow(repo.cfg, "partial");
  BOOST_TEST(plan.at("valid").as_bool());
  BOOST_TEST(plan.at("coverage").at("runnable").to_number<int>() == 2);
  BOOST_TEST(plan.at("coverage").at("total").to_number<int>() == 4);
  BOOST_TEST(plan.at("coverage").at("skipped").as_array().size() == 2u);

  const auto report = repo.run("partial.yml");
  BOOST_TEST(report.result.ok, steps_of(report.result));
  BOOST_TEST((report.conclusion == run_conclusion::partial));
  BOOST_TEST(read_text(repo.dir / "partial.txt") == "ran\n");
  BOOST_TEST(report.result.summary.find("actions/cache@v4") != std::string::npos, report.result.summary);
  BOOST_TEST(report.result.summary.find("hashfiles() is not supported") != std::string::npos, report.result.summary);
  BOOST_TEST(report.result.summary.find("reusable workflow") != std::string::npos, report.result.summary);
}

BOOST_AUTO_TEST_CASE(timed_out_step_ends_its_background_children) {
  temp_repo repo;
  repo.add_workflow("slow.yml", R"yaml(on: push
jobs:
  slow:
    runs-on: x
    steps:
      - name: hangs
        timeout-minutes: 0.02
        run: |
          (sleep 300; echo late >> "$GITHUB_WORKSPACE/late.txt") &
          echo $! > "$GITHUB_WORKSPACE/bg.pid"
          sleep 300
      - if: always()
        run: echo after >> "$GITHUB_WORKSPACE/after.txt"
)yaml");
  const auto report = repo.run("slow.yml");
  BOOST_TEST(!report.result.ok);
  BOOST_REQUIRE(!report.result.steps.empty());
  BOOST_TEST(report.result.steps[0].detail.find("after timeout 1200ms") != std::string::npos, steps_of(report.result));
  BOOST_TEST(read_text(repo.dir / "after.txt") == "after\n");
  const auto pid_text = read_text(repo.dir / "bg.pid");
  BOOST_REQUIRE(!pid_text.empty());
  const pid_t bg = static_cast<pid_t>(std::stol(pid_text));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {  // the group was killed; give the kernel a moment
    gone = pid_gone(bg);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!gone) ::kill(bg, SIGKILL);
  BOOST_TEST(gone, "the step's background child " << bg << " survived the timeout");
}

BOOST_AUTO_TEST_CASE(invalid_workflow_never_runs) {
  temp_repo repo;
  repo.add_workflow("broken.yml", R"yaml(on: push
jobs:
  a:
    runs-on: x
    steps:
      - run: touch "$GITHUB_WORKSPACE/ran.txt"
      - name: neither
)yaml");
  const auto report = repo.run("broken.yml");
  BOOST_TEST(!report.result.ok);
  BOOST_TEST(report.result.summary.find("broken.yml is invalid and is never run: broken.yml:7: jobs.a.steps[1]") !=
                 std::string::npos,
             report.result.summary);
  BOOST_TEST(!std::filesystem::exists(repo.dir / "ran.txt"));
}

BOOST_AUTO_TEST_CASE(background_processes_live_until_the_job_ends) {
  temp_repo repo;
  repo.cfg.github.local_execution.timeout = std::chrono::seconds(120);
  repo.add_workflow("server.yml", R"yaml(on: push
jobs:
  serve:
    runs-on: x
    steps:
      - name: start
        run: |
          sleep 300 &
          echo $! > "$GITHUB_WORKSPACE/bg.pid"
          echo started
      - name: use
        run: kill -0 "$(cat "$GITHUB_WORKSPACE/bg.pid")" && echo alive >> "$GITHUB_WORKSPACE/alive.txt"
)yaml");
  const auto started = std::chrono::steady_clock::now();
  const auto report = repo.run("server.yml");
  // The step ended with its shell, not with the background process holding its output.
  const bool prompt = std::chrono::steady_clock::now() - started < std::chrono::seconds(100);
  BOOST_TEST(prompt);
  BOOST_TEST(report.result.ok, steps_of(report.result));
  BOOST_REQUIRE(report.result.steps.size() == 2u);
  BOOST_TEST(report.result.steps[0].detail.find("success: exit 0 in ") == 0u, steps_of(report.result));
  BOOST_TEST(read_text(repo.dir / "alive.txt") == "alive\n");  // still there for the next step
  BOOST_TEST(report.result.output_tail.find("ended 1 process group(s) its steps left running") != std::string::npos,
             report.result.output_tail);
  const pid_t bg = static_cast<pid_t>(std::stol(read_text(repo.dir / "bg.pid")));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = pid_gone(bg);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!gone) ::kill(bg, SIGKILL);
  BOOST_TEST(gone, "the background process " << bg << " outlived its job");
}

BOOST_AUTO_TEST_CASE(output_streams_live_and_summaries_are_shown_and_kept) {
  temp_repo repo;
  ::setenv("REDUNDANCY_TEST_RUNNER_TOKEN", "tok-abc-987", 1);
  repo.cfg.github.token_env = "REDUNDANCY_TEST_RUNNER_TOKEN";
  repo.add_workflow("live.yml", R"yaml(on: push
jobs:
  live:
    runs-on: x
    steps:
      - name: waits for its first line to be seen
        timeout-minutes: 1
        run: |
          echo first-line
          while [ ! -f "$GITHUB_WORKSPACE/seen" ]; do sleep 0.05; done
          echo "leaked $REDUNDANCY_TEST_RUNNER_TOKEN"
          echo "## Sync report" >> "$GITHUB_STEP_SUMMARY"
          echo "42 rows" >> "$GITHUB_STEP_SUMMARY"
)yaml");
  // The step goes on only once its first line has reached the output: it fails by timeout unless
  // the output is streamed while the step runs.
  std::string streamed;
  asio::io_context ioc;
  const workflow w = load_workflow(repo.dir / ".github/workflows/live.yml");
  auto f = asio::co_spawn(
      ioc,
      [&]() -> awaitable<local_run_report> {
        co_return co_await run_local(repo.cfg, w, [&](std::string_view s) {
          streamed.append(s);
          if (streamed.find("first-line\n") != std::string::npos) std::ofstream(repo.dir / "seen") << "";
        });
      },
      asio::use_future);
  ioc.run();
  const auto report = f.get();
  BOOST_TEST(report.result.ok, steps_of(report.result));
  // The token's variable is not in a step's environment at all (only an expression hands it out).
  BOOST_TEST(streamed.find("leaked \n") != std::string::npos, streamed);
  BOOST_TEST(streamed.find("tok-abc-987") == std::string::npos);
  BOOST_TEST(read_text(report.log_file).find("tok-abc-987") == std::string::npos);
  BOOST_TEST(streamed.find("step summary:\n## Sync report\n42 rows\n") != std::string::npos, streamed);
  BOOST_REQUIRE(!report.summary_file.empty());
  BOOST_TEST(report.summary_file.parent_path() == repo.dir / "logs/workflow-runs");
  BOOST_TEST(read_text(report.summary_file) == "## Sync report\n42 rows\n");
}

BOOST_AUTO_TEST_CASE(each_line_of_a_multi_line_secret_and_add_mask_values_are_masked) {
  temp_repo repo;
  ::setenv("REDUNDANCY_TEST_MULTI", "first-line-abc\nsecond-line-def", 1);
  repo.add_workflow("masks.yml", R"yaml(on: push
jobs:
  masks:
    runs-on: x
    steps:
      - name: lines
        env:
          KEY: ${{ secrets.REDUNDANCY_TEST_MULTI }}
        run: |
          echo "$KEY" | head -n 1
          echo "tail: $(echo "$KEY" | tail -n 1)"
          echo "::add-mask::hunter2"
          echo "said hunter2"
      - name: later
        run: echo "later hunter2 too"
)yaml");
  std::string streamed;
  const auto report = repo.run("masks.yml", &streamed);
  BOOST_TEST(report.result.ok, steps_of(report.result));
  const auto log = read_text(report.log_file);
  const std::vector<const std::string*> shown_in{&streamed, &report.result.output_tail, &log};
  for (const std::string* shown : shown_in) {
    BOOST_TEST(shown->find("first-line-abc") == std::string::npos, *shown);
    BOOST_TEST(shown->find("second-line-def") == std::string::npos, *shown);
    BOOST_TEST(shown->find("hunter2") == std::string::npos, *shown);
    BOOST_TEST(shown->find("\n***\ntail: ***\n") != std::string::npos, *shown);
    BOOST_TEST(shown->find("::add-mask::***\nsaid ***\n") != std::string::npos, *shown);
    BOOST_TEST(shown->find("later *** too") != std::string::npos, *shown);
  }
}

BOOST_AUTO_TEST_CASE(the_api_token_reaches_only_a_step_that_asks_for_it) {
  temp_repo repo;
  ::setenv("REDUNDANCY_TEST_GH_TOKEN_ENV", "gho-token-4711", 1);
  repo.cfg.github.token_env = "REDUNDANCY_TEST_GH_TOKEN_ENV";
  repo.add_workflow("token.yml", R"yaml(on: push
jobs:
  token:
    runs-on: x
    steps:
      - name: does not ask
        run: echo "${REDUNDANCY_TEST_GH_TOKEN_ENV:-unset}" > "$GITHUB_WORKSPACE/plain.txt"
      - name: asks
        env:
          T: ${{ secrets.GITHUB_TOKEN }}
        run: |
          echo "$T" > "$GITHUB_WORKSPACE/asked.txt"
          echo "${{ github.token }}" > "$GITHUB_WORKSPACE/github-token.txt"
          echo "got $T and ${REDUNDANCY_TEST_GH_TOKEN_ENV:-no variable}"
)yaml");
  const auto report = repo.run("token.yml");
  BOOST_TEST(report.result.ok, steps_of(report.result));
  BOOST_TEST(read_text(repo.dir / "plain.txt") == "unset\n");
  BOOST_TEST(read_text(repo.dir / "asked.txt") == "gho-token-4711\n");
  BOOST_TEST(read_text(repo.dir / "github-token.txt") == "gho-token-4711\n");
  BOOST_TEST(report.result.output_tail.find("got *** and no variable") != std::string::npos, report.result.output_tail);
  BOOST_TEST(steps_of(report.result).find("gho-token-4711") == std::string::npos);
  BOOST_TEST(read_text(report.log_file).find("gho-token-4711") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_process_that_left_its_group_is_ended_with_its_job) {
  temp_repo repo;
  repo.add_workflow("detach.yml", R"yaml(on: push
jobs:
  detach:
    runs-on: x
    steps:
      - name: detaches
        run: |
          setsid sh -c 'echo $$ > "$GITHUB_WORKSPACE/detached.pid"; exec sleep 302' > /dev/null 2>&1 &
          while [ ! -s "$GITHUB_WORKSPACE/detached.pid" ]; do sleep 0.05; done
          echo "tracking id: ${RUNNER_TRACKING_ID:+set}"
)yaml");
  const auto report = repo.run("detach.yml");
  BOOST_TEST(report.result.ok, steps_of(report.result));
  const pid_t detached = static_cast<pid_t>(std::stol(read_text(repo.dir / "detached.pid")));
  BOOST_REQUIRE(detached > 1);
  bool gone = false;
  for (int i = 0; i < 150 && !gone; ++i) {
    gone = pid_gone(detached);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!gone) ::kill(detached, SIGKILL);
  BOOST_TEST(gone, "the detached process " << detached << " outlived its job");
  BOOST_TEST(report.result.output_tail.find("tracking id: set") != std::string::npos, report.result.output_tail);
  BOOST_TEST(report.result.output_tail.find("ended 1 process(es) that had left their step's "
                                            "process group (found by RUNNER_TRACKING_ID)") != std::string::npos,
             report.result.output_tail);
}

BOOST_AUTO_TEST_CASE(a_pull_request_only_workflow_is_never_run_locally) {
  temp_repo repo;
  repo.add_workflow("pr.yml", R"yaml(on: pull_request_target
jobs:
  pr:
    runs-on: x
    steps:
      - run: touch "$GITHUB_WORKSPACE/pr-ran"
)yaml");
  const auto report = repo.run("pr.yml");
  BOOST_TEST(!report.result.ok);
  BOOST_TEST(report.result.steps.empty());
  BOOST_TEST(report.result.summary ==
                 "pr.yml: it runs only on pull_request_target, not on the deploy branch's own "
                 "events (push, schedule, workflow_dispatch, repository_dispatch), so it is never "
                 "run locally",
             report.result.summary);
  BOOST_TEST(!std::filesystem::exists(repo.dir / "pr-ran"));
  const auto plan = plan_workflow(repo.cfg, "pr");
  BOOST_TEST(plan.at("local") == false);
  BOOST_TEST(plan.at("coverage").at("runnable").to_number<int>() == 0);
  BOOST_TEST(plan.at("jobs").at(0).at("steps").at(0).at("action") == "skipped");
}
