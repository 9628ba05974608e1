// Every command in README.md is run: each ```sh block against a daemon this test starts on a copy of the
// demo project without its broken parts; each ```sh no-test: REASON block is only syntax-checked (bash -n)
// and its reason printed.
#define BOOST_TEST_MODULE readme
#include <boost/test/unit_test.hpp>

#include "support/daemon.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace redundancy::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct block {
  int line{0};         // of the opening fence, for messages
  std::string info{};  // what follows ```sh on the fence
  std::string code{};
};

// The ```sh blocks of a Markdown text, in order.
std::vector<block> sh_blocks(const std::string& markdown) {
  std::vector<block> blocks;
  std::istringstream in(markdown);
  std::string line;
  int number = 0;
  block* open = nullptr;
  while (std::getline(in, line)) {
    ++number;
    if (open == nullptr) {
      if (line.rfind("```sh", 0) == 0 && (line.size() == 5 || line[5] == ' ')) {
        blocks.push_back({.line = number, .info = line.size() > 6 ? line.substr(6) : "", .code = {}});
        open = &blocks.back();
      }
    } else if (line.rfind("```", 0) == 0) {
      open = nullptr;
    } else {
      open->code += line + "\n";
    }
  }
  BOOST_REQUIRE_MESSAGE(open == nullptr, "README.md: an unclosed ```sh block");
  return blocks;
}

struct outcome {
  int exit_code{-1};
  std::string output{};
};

// bash `options` on `script` in `cwd` with `env` added, its output captured, killed (group) after `limit`.
outcome run_bash(const std::vector<std::string>& options, const std::string& script, const fs::path& cwd,
                 const std::vector<std::pair<std::string, std::string>>& env, std::chrono::seconds limit) {
  const fs::path file = cwd / ".readme-block.sh";
  const fs::path out = cwd / ".readme-block.out";
  write_text(file, script);
  const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv{const_cast<char*>("bash")};
    for (const auto& o : options) argv.push_back(const_cast<char*>(o.c_str()));
    const std::string path = file.string();
    argv.push_back(const_cast<char*>(path.c_str()));
    argv.push_back(nullptr);
    ::execvp("bash", argv.data());
    ::_exit(127);
  }
  ::close(out_fd);
  outcome r;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.output = "(killed after " + std::to_string(limit.count()) + " s)\n";
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(-pid, SIGKILL);  // anything the block left in the background
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output += read_text(out);
  return r;
}

// The demo project (tools/demo/project) without nightly.yml and broken.js, with PM2 off and any port.
fs::path make_project(const fs::path& dir) {
  const fs::path project = dir / "project";
  fs::copy(fs::path(REDUNDANCY_SOURCE_DIR) / "tools/demo/project", project, fs::copy_options::recursive);
  fs::remove(project / ".github/workflows/nightly.yml");
  fs::remove(project / "netlify/functions/broken.js");
  auto config = read_text(project / "redundancy.json");
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = config.find(from);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "tools/demo/project/redundancy.json lacks " << from);
    config.replace(at, from.size(), to);
  };
  replace("\"command\": \"@PM2@\"", "\"enabled\": false");
  replace("127.0.0.1:8686", "127.0.0.1:0");
  write_text(project / "redundancy.json", config);
  fs::create_directory_symlink(fs::path(REDUNDANCY_SOURCE_DIR) / "conf", project / "conf");
  fs::create_directories(dir / "bin");
  fs::create_symlink(REDUNDANCY_BINARY, dir / "bin/redundancy");
  return project;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_sh_block_of_the_readme_runs) {
  const auto blocks = sh_blocks(read_text(fs::path(REDUNDANCY_SOURCE_DIR) / "README.md"));
  temp_dir dir;
  const auto project = make_project(dir.path());
  daemon_process daemon(project / "redundancy.json", dir.path());
  const auto address = daemon.wait_for_address(project / "automation");
  const auto token = read_text(project / "automation/token");
  // The README's commands expect a daemon that has checked everything once (health is 503 before).
  const bool ready = [&] {
    for (int i = 0; i < 600; ++i) {
      if (http_get(address, "/api/health").status == 200) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }();
  BOOST_REQUIRE_MESSAGE(ready, "the daemon never became healthy: " << http_get(address, "/api/health").body);

  const std::vector<std::pair<std::string, std::string>> env{
      {"PATH", (dir.path() / "bin").string() + ":" + std::getenv("PATH")},
      {"REDUNDANCY_CONFIG", (project / "redundancy.json").string()},
      {"REDUNDANCY_URL", "http://" + address},
      {"REDUNDANCY_TOKEN", token.substr(0, token.find_last_not_of("\r\n") + 1)}};
  unsigned ran = 0, not_run = 0;
  for (const auto& b : blocks) {
    const std::string where = "README.md:" + std::to_string(b.line);
    if (b.info.rfind("no-test:", 0) == 0) {
      ++not_run;
      const auto reason = b.info.substr(8);
      BOOST_TEST(reason.find_first_not_of(' ') != std::string::npos, where << ": no-test needs a reason");
      BOOST_TEST_MESSAGE("NOT RUN " << where << ":" << reason);
      const auto syntax = run_bash({"-n"}, b.code, project, env, 30s);
      BOOST_TEST(syntax.exit_code == 0, where << ": bash -n says\n" << syntax.output);
      continue;
    }
    BOOST_TEST(b.info.empty(), where << ": unknown marker '" << b.info << "' (use ```sh or ```sh no-test: REASON)");
    ++ran;
    const auto r = run_bash({"-e", "-o", "pipefail"}, b.code, project, env, 120s);
    BOOST_TEST(r.exit_code == 0, where << " exited " << r.exit_code << ":\n" << b.code << "--- output:\n" << r.output);
    BOOST_TEST_MESSAGE("RAN " << where << " (exit " << r.exit_code << ")");
  }
  // The README keeps its runnable examples: an extraction that found nothing must not pass.
  BOOST_TEST(ran >= 5u);
  BOOST_TEST_MESSAGE(ran << " blocks run, " << not_run << " only syntax-checked");
  // sync.yml's local run (README: github trigger sync.yml --local) wrote its file.
  BOOST_TEST(fs::exists(project / "out/last-sync.txt"));
}
