// The runner's temporary folders: named after their maker, and removed at start only when it is gone.
#define BOOST_TEST_MODULE github_runner_temp
#include "redundancy/github/runner_temp.hpp"
#include "support/temp_dir.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace redundancy::github;
namespace fs = std::filesystem;

namespace {

using temp_parent = redundancy::test::temp_dir;

// The pid of a process that has ended and been reaped.
pid_t ended_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

fs::path folder_of(const fs::path& parent, pid_t pid, const char* suffix = "abc123") {
  const auto folder = parent / ("redundancy-runner-" + std::to_string(pid) + "-" + suffix);
  fs::create_directories(folder);
  std::ofstream(folder / "step-output.txt") << "an unmasked secret\n";
  return folder;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_new_folder_is_private_and_names_its_maker) {
  temp_parent parent;
  const auto made = make_runner_temp(parent.path());
  BOOST_TEST_REQUIRE(made.has_value());
  BOOST_TEST(made->filename().string().starts_with("redundancy-runner-" + std::to_string(::getpid()) + "-"));
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(made->c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0700u);
}

BOOST_AUTO_TEST_CASE(only_the_folders_of_ended_makers_are_removed) {
  temp_parent parent;
  const auto dead = folder_of(parent.path(), ended_pid());
  const auto ours = folder_of(parent.path(), ::getpid());
  const auto parents = folder_of(parent.path(), ::getppid());  // a live process
  const auto malformed = folder_of(parent.path(), ended_pid(), "toolong1");
  // A link named like an ended run's folder: neither it nor what it points at is touched.
  const auto victim = folder_of(parent.path(), ::getpid(), "victim");
  const auto link = parent.path() / ("redundancy-runner-" + std::to_string(ended_pid()) + "-link00");
  fs::create_directory_symlink(victim, link);

  const auto removed = remove_runner_temps_of_ended_runs(parent.path());
  BOOST_TEST(removed.size() == 1u);
  BOOST_TEST(!fs::exists(dead));
  BOOST_TEST(fs::exists(ours / "step-output.txt"));
  BOOST_TEST(fs::exists(parents / "step-output.txt"));
  BOOST_TEST(fs::exists(malformed / "step-output.txt"));
  BOOST_TEST(fs::is_symlink(link));
  BOOST_TEST(fs::exists(victim / "step-output.txt"));
}
