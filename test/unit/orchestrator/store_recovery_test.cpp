// The store's own recovery from a damaged or read-only file: a corrupt file moved aside and replaced
// (other open failures left as errors), and a connection opened read-only reopened once the file is
// writable.
#define BOOST_TEST_MODULE store_recovery
#include "redundancy/core/small_file.hpp"
#include "redundancy/orchestrator/store.hpp"
#include "support/temp_dir.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>
#include <thread>

using namespace redundancy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A fresh folder with the database right in it.
struct temp_dir : redundancy::test::temp_dir {
  // A test takes every permission from the database; given back first, so that nothing stands in the way
  // of the removal.
  ~temp_dir() {
    std::error_code ec;
    fs::permissions(db(), fs::perms::owner_all, ec);
  }
  fs::path db() const { return path() / "redundancy.db"; }
};

std::vector<fs::path> aside_files(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().starts_with("redundancy.db.corrupt-")) found.push_back(entry.path());
  return found;
}

event sample(std::string kind) {
  return event{.id = 0,
               .ts = {},
               .subsystem = "pm2",
               .target = "",
               .kind = std::move(kind),
               .severity = "info",
               .message = "m",
               .data = {}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_database_is_moved_aside_and_replaced) {
  temp_dir t;
  std::ofstream(t.db(), std::ios::binary) << std::string(4096, 'Z');
  auto s = store::open_replacing_corrupt(t.db());
  BOOST_TEST_REQUIRE(s.has_value(), (s ? "" : s.error()));
  BOOST_TEST_REQUIRE(s->notice().has_value());
  BOOST_TEST(s->notice()->find("moved aside to " + t.db().string() + ".corrupt-") != std::string::npos, *s->notice());
  const auto aside = aside_files(t.path());
  BOOST_TEST_REQUIRE(aside.size() == 1u);
  BOOST_TEST(read_small_file(aside[0]).value_or("") == std::string(4096, 'Z'));
  BOOST_TEST(s->add_event(sample("after")).has_value());
  BOOST_TEST(!s->problem().has_value());
  // A plain open of the same file still refuses a corrupt one rather than replacing it.
  std::ofstream(t.path() / "other.db", std::ios::binary) << std::string(4096, 'Z');
  BOOST_TEST(!store::open(t.path() / "other.db").has_value());
}

BOOST_AUTO_TEST_CASE(a_healthy_file_is_kept_without_a_notice) {
  temp_dir t;
  {
    auto first = store::open(t.db());
    BOOST_REQUIRE(first.has_value());
    BOOST_REQUIRE(first->add_event(sample("kept")).has_value());
  }
  auto s = store::open_replacing_corrupt(t.db());
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST(!s->notice().has_value());
  BOOST_TEST(aside_files(t.path()).empty());
  BOOST_TEST(s->events({}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_folder_in_the_way_stays_an_error_and_is_not_moved) {
  temp_dir t;
  fs::create_directories(t.db());
  auto s = store::open_replacing_corrupt(t.db());
  BOOST_TEST(!s.has_value());
  BOOST_TEST(fs::is_directory(t.db()));
  BOOST_TEST(aside_files(t.path()).empty());
}

BOOST_AUTO_TEST_CASE(a_read_only_file_is_a_problem_until_writable_then_reopened) {
  if (::geteuid() == 0) {
    // Root writes through file modes; the integration test uses a read-only bind mount instead.
    BOOST_TEST_MESSAGE("SKIPPED: file modes do not stop root (covered by faults_daemon's read-only row)");
    return;
  }
  temp_dir t;
  {
    auto first = store::open(t.db());
    BOOST_REQUIRE(first.has_value());
  }
  fs::permissions(t.db(), fs::perms::owner_read);
  auto s = store::open(t.db());
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST(s->read_only());
  BOOST_TEST(s->problem().has_value());
  BOOST_TEST(!s->add_event(sample("refused")).has_value());
  fs::permissions(t.db(), fs::perms::owner_read | fs::perms::owner_write);
  std::this_thread::sleep_for(1100ms);  // reopening is tried at most once a second
  BOOST_TEST(s->add_event(sample("written")).has_value());
  BOOST_TEST(!s->read_only());
  BOOST_TEST(!s->problem().has_value());
}
