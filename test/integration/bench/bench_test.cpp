// Smoke test of tools/bench: `tools/bench --quick --only cost --runs 1` into a folder of its own ends
// with exit 0, writes a complete and sane results.json and performance.md, and leaves no process behind.
// With REDUNDANCY_BENCH_ALL=1 it runs every row (--quick) and checks each is there.
#define BOOST_TEST_MODULE bench
#include <boost/test/unit_test.hpp>

#include "redundancy/core/small_file.hpp"
#include "support/proc.hpp"
#include "support/temp_dir.hpp"
#include "test_paths.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

using namespace redundancy::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Runs tools/bench ARGS in its own process group with BENCH_OUT=out, its output in out/bench.out.
// On timeout: SIGTERM to the group (the bench then ends what it started), a grace, SIGKILL. Returns the
// exit code (-1 on timeout).
int run_bench(const fs::path& out, const std::vector<std::string>& args, std::chrono::seconds timeout) {
  const int fd = ::open((out / "bench.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::setenv("BUILD_DIR", REDUNDANCY_BUILD_DIR, 1);
    ::setenv("BENCH_BINARY", REDUNDANCY_BINARY, 1);
    ::setenv("BENCH_OUT", out.c_str(), 1);
    const std::string bench = std::string{REDUNDANCY_SOURCE_DIR} + "/tools/bench";
    std::vector<char*> argv{const_cast<char*>(bench.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bench.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fd);
  ::setpgid(pid, pid);
  const auto end = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > end) {
      ::kill(-pid, SIGTERM);
      for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(100ms);
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(100ms);
  }
  ::kill(-pid, SIGKILL);  // anything left in its group
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Processes whose command line names `dir`: what the bench started there and left running.
std::vector<std::string> processes_under(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& p : all_procs()) {
    auto cmd = redundancy::read_small_file("/proc/" + std::to_string(p.pid) + "/cmdline").value_or("");
    for (auto& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(dir.string()) != std::string::npos && p.state != 'Z')
      found.push_back(std::to_string(p.pid) + " " + cmd);
  }
  return found;
}

// A figure: median within [min, max], at least one run, a known unit, finite and not negative.
void check_figure(const std::string& name, const json::object& f) {
  BOOST_TEST_CONTEXT(name) {
    const double med = json::value_to<double>(f.at("median"));
    const double lo = json::value_to<double>(f.at("min"));
    const double hi = json::value_to<double>(f.at("max"));
    BOOST_TEST(f.at("runs").to_number<int>() >= 1);
    BOOST_TEST(lo <= med);
    BOOST_TEST(med <= hi);
    BOOST_TEST(lo >= 0.0);
    BOOST_TEST(hi < 1e12);
    BOOST_TEST(!f.at("unit").as_string().empty());
  }
}

double median(const json::object& rows, const char* row, const char* name) {
  return json::value_to<double>(rows.at(row).as_object().at(name).as_object().at("median"));
}

json::object read_results(const fs::path& out) {
  const auto text = redundancy::read_small_file(out / "results.json").value_or("");
  BOOST_REQUIRE_MESSAGE(!text.empty(), "no results.json; the bench said:\n" +
                                           redundancy::read_small_file(out / "bench.out").value_or(""));
  auto doc = json::parse(text).as_object();
  BOOST_TEST(doc.at("machine").as_object().at("cpus").to_number<int>() >= 1);
  BOOST_TEST(!doc.at("date").as_string().empty());
  for (const auto& [row, figures] : doc.at("rows").as_object())
    for (const auto& [name, f] : figures.as_object())
      check_figure(std::string{row} + "/" + std::string{name}, f.as_object());
  const auto md = redundancy::read_small_file(out / "performance.md").value_or("");
  BOOST_TEST(md.find("| row | figure | median | min | max | runs | goal |") != std::string::npos);
  return doc;
}

}  // namespace

BOOST_AUTO_TEST_CASE(quick_cost_row_is_complete_and_sane) {
  temp_dir out;
  const int code = run_bench(out.path(), {"--quick", "--only", "cost", "--runs", "1"}, 300s);
  BOOST_REQUIRE_MESSAGE(code == 0, "tools/bench exited " + std::to_string(code) + ":\n" +
                                       redundancy::read_small_file(out.path() / "bench.out").value_or(""));
  const auto doc = read_results(out.path());
  const auto& rows = doc.at("rows").as_object();
  for (const char* name :
       {"pm2_check_fake_100_wall", "pm2_check_fake_100_own_cpu", "pm2_check_fake_100_children_cpu",
        "pm2_check_fake_1000_own_cpu_beyond_startup", "github_check_50_own_cpu", "netlify_check_200_wall",
        "netlify_check_200_children_cpu", "daemon_cpu_pct_own_default_intervals",
        "daemon_cpu_pct_with_children_default_intervals", "pm2_check_fake_1000_in_daemon_own_cpu"})
    BOOST_TEST(rows.at("cost").as_object().contains(name), name);
  // Sane: a check takes time, a pm2 check runs a child, the functions scan runs node, a CPU share is a share.
  BOOST_TEST(median(rows, "cost", "pm2_check_fake_1000_wall") > 0.0);
  BOOST_TEST(median(rows, "cost", "pm2_check_fake_1000_children_cpu") > 0.0);
  BOOST_TEST(median(rows, "cost", "netlify_check_200_children_cpu") > 0.0);
  // Inside the running daemon a 1,000-app check costs something, and less than a second of CPU.
  BOOST_TEST(median(rows, "cost", "pm2_check_fake_1000_in_daemon_own_cpu") > 0.0);
  BOOST_TEST(median(rows, "cost", "pm2_check_fake_1000_in_daemon_own_cpu") < 1.0);
  BOOST_TEST(median(rows, "cost", "pm2_check_fake_1000_own_cpu") >=
             median(rows, "cost", "pm2_check_fake_1000_own_cpu_beyond_startup"));
  BOOST_TEST(median(rows, "cost", "daemon_cpu_pct_with_children_default_intervals") >=
             median(rows, "cost", "daemon_cpu_pct_own_default_intervals"));
  BOOST_TEST(median(rows, "cost", "daemon_cpu_pct_with_children_default_intervals") <= 200.0);
  // The smoke run's own output, and the printed table.
  const auto printed = redundancy::read_small_file(out.path() / "bench.out").value_or("");
  BOOST_TEST(printed.find("ROW") != std::string::npos);
  BOOST_TEST(printed.find("pm2_check_fake_1000_own_cpu_beyond_startup") != std::string::npos);
  // Everything it started is gone.
  std::vector<std::string> left;
  for (int i = 0; i < 50; ++i) {
    left = processes_under(out.path());
    if (left.empty()) break;
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(left.empty(), "left running: " << (left.empty() ? "" : left.front()));
}

BOOST_AUTO_TEST_CASE(every_row_with_REDUNDANCY_BENCH_ALL) {
  const char* all = std::getenv("REDUNDANCY_BENCH_ALL");
  if (all == nullptr || std::string{all} != "1") {
    BOOST_TEST_MESSAGE("every row runs only with REDUNDANCY_BENCH_ALL=1 (it takes minutes)");
    return;
  }
  temp_dir out;
  const int code = run_bench(out.path(), {"--quick"}, 1800s);
  BOOST_REQUIRE_MESSAGE(code == 0, "tools/bench exited " + std::to_string(code) + ":\n" +
                                       redundancy::read_small_file(out.path() / "bench.out").value_or(""));
  const auto doc = read_results(out.path());
  for (const char* row : {"http", "footprint", "cost", "latency", "scaling"})
    BOOST_TEST(doc.at("rows").as_object().contains(row), row);
  BOOST_TEST(processes_under(out.path()).empty());
}
