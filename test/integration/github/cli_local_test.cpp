// `redundancy github plan` and `redundancy github run-local`, run as the real binary on workflows in
// a temporary git repository: what the plan prints, the run's streamed output, its exit codes.
#define BOOST_TEST_MODULE github_cli_local
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "support/daemon.hpp"

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
    write_text(config_file, json::serialize(json::object{
                                {"project_dir", dir.string()},
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
  BOOST_TEST(r.out.find("  satisfied line 7  Run actions/checkout@v4: ") != std::string::npos,
             r.out);
  BOOST_TEST(r.out.find("  skipped   line 8  Run actions/cache@v4: ") != std::string::npos,
             r.out);
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
  BOOST_TEST(invalid.err.find("broken.yml:6: jobs.a.steps[0]: a step needs 'run' or 'uses'") !=
                 std::string::npos,
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
  BOOST_TEST(ok.err.find("log: " + (p.dir / "logs/workflow-runs/plain-").string()) != std::string::npos,
             ok.err);

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
  BOOST_TEST(strict.err.find("partial run: failing because of --strict") != std::string::npos,
             strict.err);
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
