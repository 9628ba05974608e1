// The one writer of every file the daemon replaces (manifest, ledger, reports, token, http.addr):
// symlinks planted at every temporary name it used or could use are never followed, the result is a
// regular file with the content and the mode asked for, and the leftovers of a killed writer are
// recognised and removed (and nothing else).
#define BOOST_TEST_MODULE core_atomic_file
#include <boost/test/unit_test.hpp>

#include "redundancy/core/asio.hpp"
#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/child_ledger.hpp"
#include "redundancy/core/process.hpp"
#include "redundancy/http/token.hpp"
#include "support/daemon.hpp"

#include <boost/asio/use_future.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

using namespace redundancy;
using redundancy::test::read_text;
using redundancy::test::temp_dir;
using redundancy::test::write_text;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view victim_content = "the victim's own content\n";

// A file outside the folder the writer works in, and links to it planted at `names` in `folder`.
struct planted_links {
  fs::path victim;
  std::vector<fs::path> links;
  planted_links(const temp_dir& dir, const fs::path& folder, const std::vector<std::string>& names)
      : victim(dir.path() / "victim") {
    write_text(victim, victim_content);
    ::chmod(victim.c_str(), 0644);
    fs::create_directories(folder);
    for (const auto& name : names) {
      links.push_back(folder / name);
      fs::create_symlink(victim, links.back());
    }
  }
  // The victim is as it was and every planted link still points at it.
  void check_untouched() const {
    BOOST_TEST(read_text(victim) == victim_content);
    struct stat st {};
    BOOST_TEST(::stat(victim.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0644u);
    for (const auto& link : links) {
      if (!fs::is_symlink(fs::symlink_status(link))) continue;  // the final name's link is replaced
      BOOST_TEST(fs::read_symlink(link) == victim);
    }
  }
};

bool is_regular_not_link(const fs::path& file) {
  struct stat st {};
  return ::lstat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

unsigned mode_of(const fs::path& file) {
  struct stat st {};
  ::lstat(file.c_str(), &st);
  return st.st_mode & 07777;
}

std::vector<std::string> names_in(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Every temporary name the writers of earlier versions used for `name`, with our pid.
std::vector<std::string> old_temporary_names(const std::string& name) {
  const auto pid = std::to_string(::getpid());
  return {"." + name + ".tmp-" + pid, "." + name + ".tmp." + pid, name + ".tmp"};
}

}  // namespace

BOOST_AUTO_TEST_CASE(links_planted_at_every_temporary_name_and_the_target_are_never_followed) {
  temp_dir dir;
  const auto folder = dir.path() / "state";
  const std::string name = "manifest.json";
  auto names = old_temporary_names(name);
  // A guess at the new names' form; the random part makes a hit unlikely, and a hit would only make
  // the writer try another name.
  names.push_back("." + name + ".redundancy-tmp-aaaaaaaaaaaa");
  names.push_back(name);  // the target itself a link: replaced, its target untouched
  planted_links planted(dir, folder, names);

  const auto error = write_file_atomically(folder / name, "new content\n", 0640);
  BOOST_TEST(!error, error.value_or(""));
  planted.check_untouched();
  BOOST_TEST(is_regular_not_link(folder / name));
  BOOST_TEST(read_text(folder / name) == "new content\n");
  BOOST_TEST(mode_of(folder / name) == 0640u);
  // No temporary file is left: the folder holds the planted links and the file, nothing else.
  BOOST_TEST(names_in(folder).size() == names.size());
}

BOOST_AUTO_TEST_CASE(the_mode_is_exact_whatever_the_umask_and_a_failure_leaves_nothing) {
  temp_dir dir;
  const auto old_umask = ::umask(077);
  BOOST_TEST(!write_file_atomically(dir.path() / "report.json", "{}\n", 0640));
  ::umask(0);
  BOOST_TEST(!write_file_atomically(dir.path() / "token", "t\n", 0600));
  ::umask(old_umask);
  BOOST_TEST(mode_of(dir.path() / "report.json") == 0640u);
  BOOST_TEST(mode_of(dir.path() / "token") == 0600u);

  // A folder where the file should be: the rename fails, the error names the file, nothing is left.
  fs::create_directories(dir.path() / "taken" / "inner");
  const auto error = write_file_atomically(dir.path() / "taken", "x", 0644);
  BOOST_REQUIRE(error.has_value());
  BOOST_TEST(error->find((dir.path() / "taken").string()) != std::string::npos, *error);
  BOOST_TEST(names_in(dir.path()) == (std::vector<std::string>{"report.json", "taken", "token"}));
}

BOOST_AUTO_TEST_CASE(unsynced_writes_replace_the_same_way) {
  temp_dir dir;
  planted_links planted(dir, dir.path() / "s", old_temporary_names("child-ledger"));
  BOOST_TEST(!write_file_atomically(dir.path() / "s" / "child-ledger", "boot\n", 0600, file_flush::unsynced));
  planted.check_untouched();
  BOOST_TEST(is_regular_not_link(dir.path() / "s" / "child-ledger"));
  BOOST_TEST(read_text(dir.path() / "s" / "child-ledger") == "boot\n");
}

BOOST_AUTO_TEST_CASE(the_child_ledger_is_written_through_the_atomic_writer) {
  temp_dir dir;
  const auto ledger = dir.path() / "state" / "child-ledger";
  planted_links planted(dir, ledger.parent_path(), old_temporary_names("child-ledger"));
  use_child_ledger(ledger);
  asio::io_context ioc;
  process_spec spec;
  spec.argv = {"/bin/true"};
  spec.timeout = std::chrono::seconds(20);
  auto done = asio::co_spawn(ioc, run_process(std::move(spec)), asio::use_future);
  ioc.run();
  BOOST_TEST(done.get().ok());
  planted.check_untouched();
  BOOST_TEST(is_regular_not_link(ledger));
  BOOST_TEST(mode_of(ledger) == 0600u);
  std::string boot_id;
  std::getline(std::ifstream("/proc/sys/kernel/random/boot_id"), boot_id);
  BOOST_TEST(read_text(ledger) == boot_id + "\n");  // the child is reaped: no line for it
}

BOOST_AUTO_TEST_CASE(the_token_file_is_written_through_the_atomic_writer) {
  temp_dir dir;
  ::unsetenv("REDUNDANCY_TOKEN");
  const auto file = dir.path() / "state" / "token";
  planted_links planted(dir, file.parent_path(), old_temporary_names("token"));
  const auto token = http::load_token(file);
  BOOST_REQUIRE_MESSAGE(token.has_value(), token.error());
  planted.check_untouched();
  BOOST_TEST(is_regular_not_link(file));
  BOOST_TEST(mode_of(file) == 0600u);
  BOOST_TEST(read_text(file) == token->token + "\n");
}

BOOST_AUTO_TEST_CASE(leftovers_are_recognised_by_name_and_only_they_are_removed) {
  for (const std::string_view name :
       {".health-report-2026-12-07.json.tmp-4242", ".token.tmp.17", ".manifest.json.redundancy-tmp-0a1b2c3d4e5f"})
    BOOST_TEST(is_atomic_leftover(name), name);
  for (const std::string_view name :
       {"health-report.json", ".hidden", ".x.tmp-", ".x.tmp-12a", "x.tmp-12", ".tmp-12", ".a.redundancy-tmp-short",
        ".a.redundancy-tmp-0A1B2C3D4E5F", ".a.redundancy-tmp-0a1b2c3d4e5f0", "redundancy.db", "daemon.lock"})
    BOOST_TEST(!is_atomic_leftover(name), name);

  temp_dir dir;
  const auto folder = dir.path() / "logs";
  write_text(folder / ".health-report-1.json.tmp-4242", std::string(1000, 'x'));
  write_text(folder / ".http.addr.redundancy-tmp-0a1b2c3d4e5f", "x");
  write_text(folder / "redundancy.log", "kept\n");
  write_text(folder / ".kept.tmp-notapid", "kept\n");
  fs::create_directories(folder / ".folder.tmp-1");  // not a file: kept
  write_text(dir.path() / "victim", victim_content);
  fs::create_symlink(dir.path() / "victim", folder / ".link.tmp-99");
  const auto removed = remove_atomic_leftovers(folder);
  BOOST_TEST(removed.size() == 3u);
  BOOST_TEST(names_in(folder) == (std::vector<std::string>{".folder.tmp-1", ".kept.tmp-notapid", "redundancy.log"}));
  BOOST_TEST(read_text(dir.path() / "victim") == victim_content);  // the link went, not its target
  BOOST_TEST(remove_atomic_leftovers(dir.path() / "missing").empty());
}
