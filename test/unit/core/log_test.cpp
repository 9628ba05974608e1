// Unit tests for logging: file per area, line format, level filter, rotation, journal prefixes, and
// a log folder or disk that fails under the daemon.
#define BOOST_TEST_MODULE log
#include "redundancy/core/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using redundancy::log_line;
using redundancy::log_settings;
using redundancy::severity;

namespace {

// A fresh folder under the temp directory, removed with everything in it at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("redundancy-log-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sends fd 2 to a temp file while alive, so a test can read what the logger wrote to stderr.
class stderr_capture {
 public:
  stderr_capture() {
    file_ = dir_.path() / "stderr.txt";
    const int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    BOOST_REQUIRE(fd >= 0);
    saved_ = ::dup(STDERR_FILENO);
    BOOST_REQUIRE(saved_ >= 0);
    BOOST_REQUIRE(::dup2(fd, STDERR_FILENO) == STDERR_FILENO);
    ::close(fd);
  }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;
  ~stderr_capture() { restore(); }

  // Restores fd 2 and returns everything written to it meanwhile.
  std::string finish() {
    restore();
    std::ifstream in(file_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }

  temp_dir dir_;
  fs::path file_;
  int saved_{-1};
};

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

log_settings files_only(const fs::path& dir) {
  return log_settings{.dir = dir, .level = severity::info, .to_stderr = false};
}

const std::regex plain_line{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info|warning|error) \[[a-z]+\] .*)"};

}  // namespace

BOOST_AUTO_TEST_CASE(severity_names_round_trip) {
  for (const auto level : {severity::trace, severity::debug, severity::info, severity::warning, severity::error}) {
    BOOST_TEST((redundancy::severity_from_string(redundancy::to_string(level)) == level));
  }
  BOOST_TEST(redundancy::to_string(severity::warning) == "warning");
  BOOST_TEST(!redundancy::severity_from_string("loud").has_value());
  BOOST_TEST(!redundancy::severity_from_string("").has_value());
}

BOOST_AUTO_TEST_CASE(each_area_lands_in_its_file_with_timestamp_severity_and_area) {
  temp_dir dir;
  redundancy::init_logging(files_only(dir.path()));
  log_line("pm2", severity::info, "restarting api");
  log_line("github", severity::warning, "workflow failed");
  log_line("netlify", severity::error, "function missing");
  log_line("orchestrator", severity::info, "emergency mode");
  log_line("http", severity::info, "GET /api/status");
  log_line("redundancy", severity::info, "started");
  RLOG("pm2", info) << "app " << 3 << " online";
  redundancy::flush_logs();

  const std::regex pm2_line{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info \[pm2\] restarting api)"};
  const auto pm2 = read_lines(dir.path() / "pm2.log");
  BOOST_REQUIRE_EQUAL(pm2.size(), 2u);
  BOOST_TEST(std::regex_match(pm2[0], pm2_line), pm2[0]);
  BOOST_TEST(pm2[1].ends_with(" info [pm2] app 3 online"));

  const auto github = read_lines(dir.path() / "github.log");
  BOOST_REQUIRE_EQUAL(github.size(), 1u);
  BOOST_TEST(std::regex_match(github[0], plain_line));
  BOOST_TEST(github[0].ends_with("Z warning [github] workflow failed"));

  const auto netlify = read_lines(dir.path() / "netlify.log");
  BOOST_REQUIRE_EQUAL(netlify.size(), 1u);
  BOOST_TEST(netlify[0].ends_with("Z error [netlify] function missing"));

  const auto orchestrator = read_lines(dir.path() / "orchestrator.log");
  BOOST_REQUIRE_EQUAL(orchestrator.size(), 1u);
  BOOST_TEST(orchestrator[0].ends_with("Z info [orchestrator] emergency mode"));

  const auto rest = read_lines(dir.path() / "redundancy.log");
  BOOST_REQUIRE_EQUAL(rest.size(), 2u);
  BOOST_TEST(rest[0].ends_with("Z info [http] GET /api/status"));
  BOOST_TEST(rest[1].ends_with("Z info [redundancy] started"));
  for (const auto& line : rest) BOOST_TEST(std::regex_match(line, plain_line), line);

  BOOST_TEST(redundancy::log_file_name("http") == "redundancy.log");
  BOOST_TEST(redundancy::log_file_name("pm2") == "pm2.log");
}

BOOST_AUTO_TEST_CASE(timestamp_is_current_utc) {
  temp_dir dir;
  redundancy::init_logging(files_only(dir.path()));
  const auto before = std::chrono::system_clock::now();
  log_line("pm2", severity::info, "now");
  const auto lines = read_lines(dir.path() / "pm2.log");
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  std::tm tm{};
  BOOST_REQUIRE(::strptime(lines[0].c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
  const auto logged = std::chrono::system_clock::from_time_t(::timegm(&tm));
  const auto drift = std::chrono::abs(logged - std::chrono::floor<std::chrono::seconds>(before));
  BOOST_TEST((drift <= std::chrono::seconds(2)));
}

BOOST_AUTO_TEST_CASE(line_breaks_in_a_message_stay_on_one_line) {
  temp_dir dir;
  redundancy::init_logging(files_only(dir.path()));
  log_line("pm2", severity::info, "first\nsecond\r\n");
  const auto lines = read_lines(dir.path() / "pm2.log");
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0].ends_with("[pm2] first\\nsecond\\r\\n"));
}

BOOST_AUTO_TEST_CASE(level_filter_drops_lower_severities_everywhere) {
  temp_dir dir;
  stderr_capture captured;
  redundancy::init_logging(log_settings{.dir = dir.path(), .level = severity::warning, .to_stderr = true});
  int built = 0;
  RLOG("pm2", info) << "quiet " << ++built;
  log_line("pm2", severity::debug, "debug line");
  log_line("pm2", severity::warning, "loud");
  log_line("pm2", severity::error, "louder");
  const std::string err = captured.finish();

  BOOST_TEST(built == 0);  // the message of a filtered RLOG is never built
  BOOST_TEST(!redundancy::log_enabled(severity::info));
  BOOST_TEST(redundancy::log_enabled(severity::warning));
  const auto lines = read_lines(dir.path() / "pm2.log");
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_TEST(lines[0].ends_with("warning [pm2] loud"));
  BOOST_TEST(lines[1].ends_with("error [pm2] louder"));
  BOOST_TEST(count(err, "[pm2]") == 2u, err);
  BOOST_TEST(count(err, "quiet") == 0u);
  BOOST_TEST(count(err, "debug line") == 0u);
}

BOOST_AUTO_TEST_CASE(set_log_level_changes_the_filter_at_runtime) {
  temp_dir dir;
  redundancy::init_logging(files_only(dir.path()));
  log_line("github", severity::debug, "hidden");
  redundancy::set_log_level(severity::debug);
  log_line("github", severity::debug, "shown");
  log_line("github", severity::trace, "still hidden");
  redundancy::set_log_level(severity::error);
  log_line("github", severity::warning, "hidden again");
  log_line("github", severity::error, "error shown");

  const auto lines = read_lines(dir.path() / "github.log");
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_TEST(lines[0].ends_with("debug [github] shown"));
  BOOST_TEST(lines[1].ends_with("error [github] error shown"));
}

BOOST_AUTO_TEST_CASE(rotation_keeps_max_files_each_within_max_bytes_plus_one_line) {
  temp_dir dir;
  constexpr std::uint64_t max_bytes = 1000;
  redundancy::init_logging(log_settings{
      .dir = dir.path(), .level = severity::info, .max_file_bytes = max_bytes, .max_files = 3, .to_stderr = false});
  std::size_t longest = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string message = "line " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 40), 'x');
    log_line("netlify", severity::info, message);
    longest = std::max(longest, message.size() + 48);  // timestamp, severity and area around the message
  }

  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().filename().string().starts_with("netlify.log")) files.push_back(entry.path());
  }
  BOOST_TEST(files.size() == 3u);
  BOOST_TEST(fs::exists(dir.path() / "netlify.log"));
  BOOST_TEST(fs::exists(dir.path() / "netlify.log.1"));
  BOOST_TEST(fs::exists(dir.path() / "netlify.log.2"));
  for (const auto& file : files) {
    BOOST_TEST(fs::file_size(file) <= max_bytes + longest, file);
    BOOST_TEST(fs::file_size(file) > 0u, file);
  }
  // Newest lines in the live file, the ones just before them in .1, in order and without gaps.
  const auto live = read_lines(dir.path() / "netlify.log");
  const auto older = read_lines(dir.path() / "netlify.log.1");
  BOOST_REQUIRE(!live.empty());
  BOOST_REQUIRE(!older.empty());
  BOOST_TEST(live.back().find("[netlify] line 299") != std::string::npos);
  const auto number = [](const std::string& line) {
    const auto at = line.find("line ") + 5;
    return std::stoi(line.substr(at));
  };
  BOOST_TEST(number(older.back()) + 1 == number(live.front()));
}

BOOST_AUTO_TEST_CASE(max_files_one_keeps_only_the_live_file) {
  temp_dir dir;
  redundancy::init_logging(log_settings{
      .dir = dir.path(), .level = severity::info, .max_file_bytes = 200, .max_files = 1, .to_stderr = false});
  for (int i = 0; i < 20; ++i) log_line("pm2", severity::info, "line " + std::to_string(i));
  BOOST_TEST(!fs::exists(dir.path() / "pm2.log.1"));
  const auto lines = read_lines(dir.path() / "pm2.log");
  BOOST_REQUIRE(!lines.empty());
  BOOST_TEST(lines.back().ends_with("line 19"));
  BOOST_TEST(fs::file_size(dir.path() / "pm2.log") <= 200u);
}

BOOST_AUTO_TEST_CASE(stderr_lines_have_the_file_format) {
  stderr_capture captured;
  redundancy::init_logging(log_settings{.dir = {}, .level = severity::info, .to_stderr = true});
  log_line("orchestrator", severity::warning, "entering emergency mode");
  const auto err = captured.finish();
  BOOST_TEST(std::regex_match(err, std::regex{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning \[orchestrator\] )"
                                              R"(entering emergency mode\n)"}),
             err);
}

BOOST_AUTO_TEST_CASE(journal_mode_prefixes_priority_and_drops_timestamp) {
  temp_dir dir;
  stderr_capture captured;
  redundancy::init_logging(
      log_settings{.dir = dir.path(), .level = severity::trace, .to_stderr = true, .journal = true});
  log_line("pm2", severity::trace, "t");
  log_line("pm2", severity::debug, "d");
  log_line("http", severity::info, "i");
  log_line("github", severity::warning, "w");
  log_line("netlify", severity::error, "e");
  const auto err = captured.finish();
  BOOST_TEST(err ==
                 "<7>trace [pm2] t\n<7>debug [pm2] d\n<6>info [http] i\n<4>warning [github] "
                 "w\n<3>error [netlify] e\n",
             err);
  // The files keep their timestamps.
  const auto lines = read_lines(dir.path() / "github.log");
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(std::regex_match(lines[0], plain_line));
}

BOOST_AUTO_TEST_CASE(reload_replaces_the_sinks) {
  temp_dir first;
  temp_dir second;
  stderr_capture captured;
  redundancy::init_logging(log_settings{.dir = first.path(), .level = severity::info, .to_stderr = true});
  log_line("pm2", severity::info, "before reload");
  redundancy::init_logging(files_only(second.path()));
  log_line("pm2", severity::info, "after reload");
  const auto err = captured.finish();

  const auto old_lines = read_lines(first.path() / "pm2.log");
  BOOST_REQUIRE_EQUAL(old_lines.size(), 1u);
  BOOST_TEST(old_lines[0].ends_with("before reload"));
  const auto new_lines = read_lines(second.path() / "pm2.log");
  BOOST_REQUIRE_EQUAL(new_lines.size(), 1u);
  BOOST_TEST(new_lines[0].ends_with("after reload"));
  BOOST_TEST(count(err, "before reload") == 1u);  // stderr was turned off by the reload
  BOOST_TEST(count(err, "after reload") == 0u);
}

BOOST_AUTO_TEST_CASE(deleted_folder_is_recreated_on_the_next_line) {
  temp_dir dir;
  const fs::path logs = dir.path() / "logs";
  stderr_capture captured;
  redundancy::init_logging(files_only(logs));
  log_line("pm2", severity::info, "before delete");
  fs::remove_all(logs);
  BOOST_CHECK_NO_THROW(log_line("pm2", severity::info, "after delete"));
  const auto err = captured.finish();

  const auto lines = read_lines(logs / "pm2.log");
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0].ends_with("[pm2] after delete"));
  BOOST_TEST(count(err, "cannot write") == 0u, err);
}

BOOST_AUTO_TEST_CASE(folder_deleted_and_not_recreatable_falls_back_to_stderr_once) {
  temp_dir dir;
  const fs::path logs = dir.path() / "logs";
  stderr_capture captured;
  redundancy::init_logging(files_only(logs));
  log_line("pm2", severity::info, "before delete");
  fs::remove_all(logs);
  std::ofstream(logs) << "a regular file where the folder was\n";  // so the folder cannot come back
  for (int i = 0; i < 5; ++i) {
    BOOST_CHECK_NO_THROW(log_line("pm2", severity::info, "lost " + std::to_string(i)));
    BOOST_CHECK_NO_THROW(log_line("github", severity::error, "also lost " + std::to_string(i)));
  }
  const auto err = captured.finish();

  BOOST_TEST(count(err, "cannot write") == 1u, err);
  BOOST_TEST(count(err, "redundancy: cannot write log " + (logs / "pm2.log").string() +
                            ": Not a directory; logging to stderr only\n") == 1u,
             err);
  // With the file sink gone and no stderr sink configured, the lines still reach stderr.
  BOOST_TEST(count(err, "info [pm2] lost ") == 5u, err);
  BOOST_TEST(count(err, "error [github] also lost ") == 5u, err);
}

BOOST_AUTO_TEST_CASE(folder_that_cannot_be_created_is_reported_once) {
  temp_dir dir;
  std::ofstream(dir.path() / "plain") << "not a folder\n";
  const fs::path logs = dir.path() / "plain" / "logs";
  stderr_capture captured;
  BOOST_CHECK_NO_THROW(redundancy::init_logging(log_settings{.dir = logs, .level = severity::info, .to_stderr = true}));
  for (int i = 0; i < 3; ++i) {
    BOOST_CHECK_NO_THROW(log_line("pm2", severity::info, "line " + std::to_string(i)));
    BOOST_CHECK_NO_THROW(log_line("http", severity::info, "request " + std::to_string(i)));
  }
  const auto err = captured.finish();

  BOOST_TEST(count(err, "cannot write") == 1u, err);
  BOOST_TEST(count(err, "logging to stderr only") == 1u, err);
  // to_stderr is on: every line appears exactly once, not again as a fallback copy.
  BOOST_TEST(count(err, "info [pm2] line ") == 3u, err);
  BOOST_TEST(count(err, "info [http] request ") == 3u, err);
  BOOST_TEST(!fs::exists(logs));
}

BOOST_AUTO_TEST_CASE(full_disk_is_reported_once_and_logging_goes_on) {
  temp_dir dir;
  fs::create_symlink("/dev/full", dir.path() / "pm2.log");
  stderr_capture captured;
  redundancy::init_logging(files_only(dir.path()));
  for (int i = 0; i < 4; ++i) BOOST_CHECK_NO_THROW(log_line("pm2", severity::warning, "full " + std::to_string(i)));
  log_line("github", severity::info, "other file fine");
  const auto err = captured.finish();

  BOOST_TEST(count(err, "cannot write") == 1u, err);
  BOOST_TEST(count(err, "redundancy: cannot write log " + (dir.path() / "pm2.log").string() +
                            ": No space left on device; logging to stderr only\n") == 1u,
             err);
  BOOST_TEST(count(err, "warning [pm2] full ") == 4u, err);
  const auto github = read_lines(dir.path() / "github.log");
  BOOST_REQUIRE_EQUAL(github.size(), 1u);
  BOOST_TEST(github[0].ends_with("other file fine"));
}

BOOST_AUTO_TEST_CASE(a_failed_log_is_retried_and_its_recovery_reported_once) {
  temp_dir dir;
  const fs::path logs = dir.path() / "logs";
  stderr_capture captured;
  redundancy::init_logging(files_only(logs));
  fs::remove_all(logs);
  std::ofstream(logs) << "in the way\n";
  log_line("orchestrator", severity::info, "lost");
  fs::remove(logs);
  // Failed opens are retried a few seconds later, not on every line: this one still goes to stderr.
  log_line("orchestrator", severity::info, "too early");
  std::this_thread::sleep_for(std::chrono::milliseconds(5200));
  log_line("orchestrator", severity::info, "back");
  log_line("orchestrator", severity::info, "and again");
  const auto err = captured.finish();

  BOOST_TEST(count(err, "cannot write") == 1u, err);
  BOOST_TEST(count(err, "redundancy: log " + (logs / "orchestrator.log").string() + " is writable again\n") == 1u, err);
  BOOST_TEST(count(err, "[orchestrator] too early") == 1u, err);
  BOOST_TEST(count(err, "[orchestrator] back") == 0u, err);
  const auto lines = read_lines(logs / "orchestrator.log");
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_TEST(lines[0].ends_with("[orchestrator] back"));
  BOOST_TEST(lines[1].ends_with("[orchestrator] and again"));
}
