// `redundancy github plan` and `redundancy github run-local`, run as the real binary on workflows
// in a temporary git repository: what the plan prints, the run's streamed output, its exit codes;
// only watched workflows by name (never a path, a symlink out of the folder or one outside
// github.workflows); a run ended by SIGTERM leaves no runner folder behind.
#define BOOST_TEST_MODULE github_cli_local
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "support/daemon.hpp"
#include "support/proc.hpp"

using namespace redundancy::test;
namespace json = boost::json;

namespace {

// A git repository with workflows and a config that points at it.
struct project {
  temp_dir tmp;
  std::filesystem::path dir{tmp.path()};
  std::filesystem::path config_file{dir / "redundancy.json"};

  project() {
    const std::string cmd = "cd '" + dir.string() +
                            "' && git init -q -b main && git -c user.email=t@example.com -c "
                            "user.name=t commit -q --allow-empty -m init";
    BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
    write_text(config_file, json::serialize(json::object{{"project_dir", dir.string()},
                                                         {"state_dir", (dir / "state").string()},
                                                         {"log_dir", (dir / "logs").string()},
                                                         {"pm2", json::object{{"enabled", false}}},
                                                         {"netlify", json::object{{"enabled", false}}}}));
    write_text(dir / ".github/workflows/sync.yml", R"yaml(name: sync
on: workflow_dispatch
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/cache@v4
        with:
          path: x
      - name: sync
        run: |
          echo "syncing in $(basename "$PWD")"
          echo done >> "$GITHUB_WORKSPACE/synced.txt"
  report:
    needs: build
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo report
)yaml");
    write_text(dir / ".github/workflows/plain.yml", R"yaml(on: push
jobs:
  only:
    runs-on: x
    steps:
      - run: echo plain-ran
)yaml");
    write_text(dir / ".github/workflows/fails.yml", R"yaml(on: push
jobs:
  only:
    runs-on: x
    steps:
      - run: echo before-failing; exit 4
      - run: echo never
)yaml");
    write_text(dir / ".github/workflows/broken.yml", R"yaml(on: push
jobs:
  a:
    runs-on: x
    steps:
      - name: neither
)yaml");
  }

  // Rewrites the config with `github` as its github section.
  void set_github(json::object github) {
    auto c = json::parse(read_text(config_file)).as_object();
    c["github"] = std::move(github);
    write_text(config_file, json::serialize(c));
  }

  run_result cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config_file.string(), "github"});
    return run_binary(args, {}, std::chrono::seconds(120));
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(plan_prints_what_would_run_and_what_is_skipped) {
  project p;
  const auto r = p.cli({"plan", "sync"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("sync.yml (sync): 3 of 4 steps can run locally\n") == 0u, r.out);
  BOOST_TEST(r.out.find("job build\n") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("  satisfied line 7  Run actions/checkout@v4: ") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("  skipped   line 8  Run actions/cache@v4: ") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("  run       line 11  sync  [bash -e {0}]") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("job report (needs build) if: always()\n") != std::string::npos, r.out);
  // Nothing ran.
  BOOST_TEST(!std::filesystem::exists(p.dir / "synced.txt"));
  BOOST_TEST(!std::filesystem::exists(p.dir / "logs/workflow-runs"));

  const auto j = p.cli({"plan", "sync.yml", "--json"});
  BOOST_TEST(j.exit_code == 0, j.err);
  const auto plan = json::parse(j.out).as_object();
  BOOST_TEST(plan.at("coverage").at("runnable").to_number<int>() == 3);
  BOOST_TEST(plan.at("jobs").at(0).at("steps").at(1).at("action") == "skipped");
}

BOOST_AUTO_TEST_CASE(plan_of_an_invalid_or_missing_workflow) {
  project p;
  const auto invalid = p.cli({"plan", "broken"});
  BOOST_TEST(invalid.exit_code == 1);
  BOOST_TEST(invalid.err.find("broken.yml is invalid and would never run:\n") == 0u, invalid.err);
  BOOST_TEST(invalid.err.find("broken.yml:6: jobs.a.steps[0]: a step needs 'run' or 'uses'") != std::string::npos,
             invalid.err);
  const auto missing = p.cli({"plan", "nope.yml"});
  BOOST_TEST(missing.exit_code == 2);
  BOOST_TEST(missing.err.find("no workflow 'nope.yml' in ") != std::string::npos, missing.err);
  BOOST_TEST(p.cli({"plan"}).exit_code == 2);  // WORKFLOW is required
}

BOOST_AUTO_TEST_CASE(run_local_streams_the_steps_and_exits_with_the_result) {
  project p;
  const auto ok = p.cli({"run-local", "plain"});
  BOOST_TEST(ok.exit_code == 0, ok.out << ok.err);
  BOOST_TEST(ok.out.find("plain-ran\n") != std::string::npos, ok.out);
  BOOST_TEST(ok.err.find("log: " + (p.dir / "logs/workflow-runs/plain-").string()) != std::string::npos, ok.err);

  const auto failed = p.cli({"run-local", "fails.yml"});
  BOOST_TEST(failed.exit_code == 1, failed.out << failed.err);
  BOOST_TEST(failed.out.find("before-failing\n") != std::string::npos, failed.out);
  BOOST_TEST(failed.out.find("failure: exit 4 in ") != std::string::npos, failed.out);
  BOOST_TEST(failed.out.find("never\n") == std::string::npos, failed.out);

  // A partial run (actions/cache cannot run here) did its part: 0, unless --strict.
  const auto partial = p.cli({"run-local", "sync"});
  BOOST_TEST(partial.exit_code == 0, partial.out << partial.err);
  BOOST_TEST(partial.out.find("syncing in ") != std::string::npos, partial.out);
  BOOST_TEST(partial.out.find("ran locally: partial") != std::string::npos, partial.out);
  BOOST_TEST(read_text(p.dir / "synced.txt") == "done\n");
  const auto strict = p.cli({"run-local", "sync", "--strict"});
  BOOST_TEST(strict.exit_code == 1, strict.out << strict.err);
  BOOST_TEST(strict.err.find("partial run: failing because of --strict") != std::string::npos, strict.err);
  BOOST_TEST(read_text(p.dir / "synced.txt") == "done\ndone\n");
}

BOOST_AUTO_TEST_CASE(run_local_never_runs_an_invalid_workflow) {
  project p;
  const auto r = p.cli({"run-local", "broken"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err.find("broken.yml is invalid and is never run:\n") == 0u, r.err);
  BOOST_TEST(!std::filesystem::exists(p.dir / "logs/workflow-runs"));
  BOOST_TEST(p.cli({"run-local", "nope"}).exit_code == 2);
}

namespace {

// A hostile workflow outside the project: its step would create `marker`.
std::filesystem::path write_evil(const temp_dir& outside, const std::filesystem::path& marker) {
  const auto evil = outside.path() / "evil.yml";
  write_text(evil,
             "on: push\njobs:\n  evil:\n    runs-on: x\n    steps:\n      - run: touch '" + marker.string() + "'\n");
  return evil;
}

}  // namespace

BOOST_AUTO_TEST_CASE(run_local_and_plan_take_only_the_name_of_a_watched_workflow) {
  project p;
  temp_dir outside;
  const auto marker = outside.path() / "evil-ran";
  const auto evil = write_evil(outside, marker);
  const auto relative = std::filesystem::relative(evil, std::filesystem::current_path());
  BOOST_REQUIRE(relative.string().starts_with(".."));
  std::filesystem::create_symlink(evil, p.dir / ".github/workflows/link.yml");
  const std::string known = "; the watched workflows are broken.yml, fails.yml, plain.yml, sync.yml";
  for (const std::string& name : {evil.string(), relative.string()}) {
    for (const char* command : {"run-local", "plan"}) {
      const auto r = p.cli({command, name});
      BOOST_TEST(r.exit_code == 2, command << " " << name << ": " << r.out << r.err);
      BOOST_TEST(r.err.find("no workflow '" + name + "' in ") != std::string::npos, r.err);
      BOOST_TEST(r.err.find(known) != std::string::npos, r.err);
    }
  }
  // The symlink in the folder is not a watched workflow, and says why.
  for (const char* command : {"run-local", "plan"}) {
    const auto r = p.cli({command, "link.yml"});
    BOOST_TEST(r.exit_code == 2, r.out << r.err);
    BOOST_TEST(r.err.find("workflow 'link.yml' is a symlink to " + evil.string() + ", outside ") != std::string::npos,
               r.err);
  }
  // With github.workflows set, the other files in the folder are not watched either.
  p.set_github(json::object{{"workflows", json::array{"plain.yml"}}});
  const auto unlisted = p.cli({"run-local", "fails.yml"});
  BOOST_TEST(unlisted.exit_code == 2, unlisted.out << unlisted.err);
  BOOST_TEST(unlisted.err.find("no workflow 'fails.yml' in " + (p.dir / ".github/workflows").string() +
                               "; the watched workflows are plain.yml\n") != std::string::npos,
             unlisted.err);
  BOOST_TEST(unlisted.out.find("before-failing") == std::string::npos, unlisted.out);
  BOOST_TEST(p.cli({"run-local", "plain"}).exit_code == 0);
  BOOST_TEST(!std::filesystem::exists(marker));
}

BOOST_AUTO_TEST_CASE(plan_says_why_a_pull_request_workflow_is_not_run_locally) {
  project p;
  write_text(p.dir / ".github/workflows/pr.yml", R"yaml(on:
  pull_request_target:
  issue_comment:
jobs:
  pr:
    runs-on: x
    steps:
      - run: touch "$GITHUB_WORKSPACE/pr-ran"
)yaml");
  const std::string why =
      "it runs only on pull_request_target, issue_comment, not on the deploy branch's own events "
      "(push, schedule, workflow_dispatch, repository_dispatch), so it is never run locally";
  const auto plan = p.cli({"plan", "pr"});
  BOOST_TEST(plan.exit_code == 0, plan.err);
  BOOST_TEST(plan.out.find("pr.yml (pr.yml): 0 of 1 steps can run locally\nnot run locally: " + why + "\n") == 0u,
             plan.out);
  const auto j = json::parse(p.cli({"plan", "pr", "--json"}).out).as_object();
  BOOST_TEST(j.at("local") == false);
  BOOST_TEST(std::string(j.at("not_run_locally").as_string()) == why);
  const auto run = p.cli({"run-local", "pr"});
  BOOST_TEST(run.exit_code == 1, run.out << run.err);
  BOOST_TEST(run.err.find("redundancy: pr.yml: " + why) != std::string::npos, run.err);
  BOOST_TEST(!std::filesystem::exists(p.dir / "pr-ran"));
}

BOOST_AUTO_TEST_CASE(a_run_ended_by_sigterm_leaves_no_runner_folder_with_unmasked_output) {
  project p;
  write_text(p.dir / ".github/workflows/slow.yml", R"yaml(on: push
jobs:
  slow:
    runs-on: x
    steps:
      - env:
          S: ${{ secrets.RUNNER_TEST_CLI_SECRET }}
        run: |
          echo "secret $S"
          echo "$RUNNER_TEMP" > "$GITHUB_WORKSPACE/runner-temp.txt"
          sleep 60
)yaml");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::setenv("RUNNER_TEST_CLI_SECRET", "plain-secret-5150", 1);
    const std::string config = p.config_file.string();
    ::execl(REDUNDANCY_BINARY, REDUNDANCY_BINARY, "--config", config.c_str(), "github", "run-local", "slow", nullptr);
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  const auto file = p.dir / "runner-temp.txt";
  const bool started = redundancy::test::eventually([&] { return !read_text(file).empty(); }, std::chrono::seconds(60));
  BOOST_TEST_REQUIRE(started);
  const std::filesystem::path runner_temp = read_text(file).substr(0, read_text(file).size() - 1);
  BOOST_TEST(runner_temp.filename().string().starts_with("redundancy-runner-"), runner_temp);
  BOOST_TEST(std::filesystem::exists(runner_temp));
  ::kill(pid, SIGTERM);
  int status = 0;
  const bool exited =
      redundancy::test::eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, std::chrono::seconds(20));
  if (!exited) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  BOOST_TEST(exited);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 1);
  BOOST_TEST(!std::filesystem::exists(runner_temp), runner_temp << " was left behind");
  std::error_code ec;
  std::filesystem::remove_all(runner_temp, ec);
}
