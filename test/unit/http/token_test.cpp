// The API token: first-start creation (hex, 0600), reuse, the environment winning, and the comparison.
#define BOOST_TEST_MODULE http_token
#include <boost/test/unit_test.hpp>

#include "redundancy/http/token.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <random>

using namespace redundancy::http;
namespace fs = std::filesystem;

namespace {
struct temp_state {
  fs::path dir;
  temp_state() {
    ::unsetenv("REDUNDANCY_TOKEN");
    dir = fs::temp_directory_path() / ("redundancy-token-" + std::to_string(std::random_device{}()));
  }
  ~temp_state() {
    ::unsetenv("REDUNDANCY_TOKEN");
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

unsigned mode_of(const fs::path& file) {
  struct stat st {};
  ::stat(file.c_str(), &st);
  return st.st_mode & 0777;
}
}  // namespace

BOOST_AUTO_TEST_CASE(created_on_first_start_then_reused) {
  temp_state s;
  const auto file = s.dir / "state" / "token";
  const auto first = load_token(file);
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST(first->created);
  BOOST_TEST(first->token.size() == 64u);
  BOOST_TEST(first->token.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(first->source == file.string());
  BOOST_TEST(mode_of(file) == 0600u);
  // No temp file is left beside it.
  BOOST_TEST(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()) == 1);

  const auto second = load_token(file);
  BOOST_REQUIRE(second.has_value());
  BOOST_TEST(!second->created);
  BOOST_TEST(second->token == first->token);
}

BOOST_AUTO_TEST_CASE(environment_wins) {
  temp_state s;
  const auto file = s.dir / "token";
  ::setenv("REDUNDANCY_TOKEN", "from-env", 1);
  const auto token = load_token(file);
  BOOST_REQUIRE(token.has_value());
  BOOST_TEST(token->token == "from-env");
  BOOST_TEST(token->source == "environment");
  BOOST_TEST(!fs::exists(file));        // nothing created when the environment gives it
  ::setenv("REDUNDANCY_TOKEN", "", 1);  // empty means unset
  BOOST_TEST(load_token(file)->created);
}

BOOST_AUTO_TEST_CASE(existing_file_is_trimmed_and_loose_mode_still_read) {
  temp_state s;
  fs::create_directories(s.dir);
  const auto file = s.dir / "token";
  std::ofstream(file) << "  my-token\n";
  fs::permissions(file, fs::perms(0644));
  const auto token = load_token(file);
  BOOST_REQUIRE(token.has_value());
  BOOST_TEST(token->token == "my-token");
  BOOST_TEST(mode_of(file) == 0644u);  // warned about, not changed
}

BOOST_AUTO_TEST_CASE(errors_name_the_file) {
  temp_state s;
  fs::create_directories(s.dir);
  const auto empty = s.dir / "empty";
  std::ofstream(empty) << "\n";
  const auto res = load_token(empty);
  BOOST_REQUIRE(res.has_error());
  BOOST_TEST(res.error().find(empty.string()) != std::string::npos);
  BOOST_TEST(load_token(s.dir).has_error());  // a folder is not a token file
}

BOOST_AUTO_TEST_CASE(random_and_compare) {
  BOOST_TEST(random_hex(32) != random_hex(32));
  BOOST_TEST(random_hex(4).size() == 8u);
  BOOST_TEST(constant_time_equal("abc", "abc"));
  BOOST_TEST(constant_time_equal("", ""));
  BOOST_TEST(!constant_time_equal("abc", "abd"));
  BOOST_TEST(!constant_time_equal("abc", "ab"));
  BOOST_TEST(!constant_time_equal("ab", "abc"));
  BOOST_TEST(!constant_time_equal("", "a"));
}
