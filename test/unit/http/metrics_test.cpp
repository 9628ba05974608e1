// Tests of the Prometheus metrics: names, values, series removal, histogram shape, the text format
// as a strict parser sees it, and `promtool check metrics` on the output.
#define BOOST_TEST_MODULE metrics
#include "redundancy/metrics/metrics.hpp"
#include "redundancy/core/small_file.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

// Lets BOOST_TEST print the series values it compares (an absent series shows as such).
namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<std::optional<double>> {
  void operator()(std::ostream& out, const std::optional<double>& value) {
    if (value)
      out << *value;
    else
      out << "(absent)";
  }
};
}  // namespace boost::test_tools::tt_detail

namespace {

using redundancy::health;
using redundancy::metrics;
using redundancy::read_small_file;
using redundancy::status;
using redundancy::target_health;
namespace fs = std::filesystem;

using label_map = std::map<std::string, std::string>;

struct sample {
  std::string name{};
  label_map labels{};
  double value{};
};

struct family {
  std::string help{};
  std::string type{};
  std::vector<sample> samples{};
};

// A strict reader of the text format 0.0.4 as Prometheus documents it. Fails the test on anything
// promtool would accept but Prometheus would not want: a family's HELP/TYPE twice or after its
// samples, families interleaved, the same series twice, a sample that belongs to no announced
// family.
class exposition {
 public:
  explicit exposition(const std::string& text) {
    BOOST_TEST_REQUIRE(!text.empty());
    BOOST_TEST_REQUIRE(text.back() == '\n', "the last line must end in \\n");
    BOOST_TEST_REQUIRE(text.find('\r') == std::string::npos, "no \\r anywhere");
    std::istringstream lines{text};
    for (std::string line; std::getline(lines, line);) read_line(line);
  }

  const std::map<std::string, family>& families() const { return families_; }

  bool has(const std::string& name) const {
    const auto it = families_.find(name);
    return it != families_.end() && !it->second.samples.empty();
  }

  const family& at(const std::string& name) const {
    const auto it = families_.find(name);
    BOOST_TEST_REQUIRE((it != families_.end()), "family " << name << " is present");
    return it->second;
  }

  // The value of the one series with exactly these labels, or empty.
  std::optional<double> value(const std::string& sample_name, const label_map& labels) const {
    for (const auto& [_, f] : families_)
      for (const auto& s : f.samples)
        if (s.name == sample_name && s.labels == labels) return s.value;
    return std::nullopt;
  }

  std::size_t series_count(const std::string& sample_name) const {
    std::size_t n = 0;
    for (const auto& [_, f] : families_)
      for (const auto& s : f.samples) n += s.name == sample_name ? 1 : 0;
    return n;
  }

 private:
  void start_family(const std::string& name) {
    if (name == current_) return;
    BOOST_TEST_REQUIRE(!finished_.contains(name), "family " << name << " appears twice or interleaved");
    if (!current_.empty()) finished_.insert(current_);
    current_ = name;
  }

  void read_line(const std::string& line) {
    BOOST_TEST_REQUIRE(!line.empty(), "no empty lines expected in our output");
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const bool help = line[2] == 'H';
      const auto rest = line.substr(7);
      const auto space = rest.find(' ');
      BOOST_TEST_REQUIRE(space != std::string::npos, "malformed: " << line);
      const auto name = rest.substr(0, space);
      start_family(name);
      auto& f = families_[name];
      BOOST_TEST_REQUIRE(f.samples.empty(), "HELP/TYPE of " << name << " after its samples");
      auto& field = help ? f.help : f.type;
      BOOST_TEST_REQUIRE(field.empty(), (help ? "HELP" : "TYPE") << " of " << name << " twice");
      field = rest.substr(space + 1);
      BOOST_TEST_REQUIRE(!field.empty());
      return;
    }
    BOOST_TEST_REQUIRE(line[0] != '#', "unexpected comment: " << line);
    sample s = parse_sample(line);
    BOOST_TEST_REQUIRE(!current_.empty(), "sample before any family: " << line);
    const auto& type = families_[current_].type;
    bool belongs = s.name == current_;
    if (type == "histogram")
      belongs = s.name == current_ + "_bucket" || s.name == current_ + "_sum" || s.name == current_ + "_count";
    BOOST_TEST_REQUIRE(belongs, "sample " << s.name << " inside family " << current_);
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "\x1f" + k + "=" + v;
    BOOST_TEST_REQUIRE(series_.insert(key).second, "duplicate series: " << line);
    families_[current_].samples.push_back(std::move(s));
  }

  static sample parse_sample(const std::string& line) {
    sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') s.name += line[i++];
    BOOST_TEST_REQUIRE(!s.name.empty(), "malformed: " << line);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string key;
        while (i < line.size() && line[i] != '=') key += line[i++];
        BOOST_TEST_REQUIRE((i + 1 < line.size() && line[i + 1] == '"'), "malformed labels: " << line);
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            BOOST_TEST_REQUIRE(i + 1 < line.size());
            const char c = line[++i];
            BOOST_TEST_REQUIRE((c == '\\' || c == '"' || c == 'n'), "bad escape in: " << line);
            value += c == 'n' ? '\n' : c;
          } else {
            value += line[i];
          }
          ++i;
        }
        BOOST_TEST_REQUIRE(i < line.size(), "unterminated label value: " << line);
        ++i;
        if (i < line.size() && line[i] == ',') ++i;
        BOOST_TEST_REQUIRE(s.labels.emplace(key, value).second, "label " << key << " twice: " << line);
      }
      BOOST_TEST_REQUIRE(i < line.size(), "unterminated labels: " << line);
      ++i;
    }
    BOOST_TEST_REQUIRE((i < line.size() && line[i] == ' '), "malformed: " << line);
    const auto value = line.substr(i + 1);
    BOOST_TEST_REQUIRE(value.find(' ') == std::string::npos, "no timestamps expected: " << line);
    if (value == "+Inf")
      s.value = INFINITY;
    else if (value == "-Inf")
      s.value = -INFINITY;
    else if (value == "NaN")
      s.value = NAN;
    else {
      std::size_t used = 0;
      s.value = std::stod(value, &used);
      BOOST_TEST_REQUIRE(used == value.size(), "bad value: " << line);
    }
    return s;
  }

  std::map<std::string, family> families_;
  std::set<std::string> finished_;
  std::string current_;
  std::set<std::string> series_;
};

target_health target(std::string name, status state, boost::json::object detail = {}) {
  return target_health{.name = std::move(name), .state = state, .reason = {}, .detail = std::move(detail)};
}

health make_health(status state, std::vector<target_health> targets) {
  return health{.state = state, .summary = "test", .targets = std::move(targets), .checked_at = {}, .counterpart = {}};
}

// A daemon's worth of updates touching every metric the README lists.
void fill(metrics& m) {
  m.observe_check("pm2", "ok", std::chrono::milliseconds{120});
  m.observe_lateness("pm2", std::chrono::milliseconds{3});
  m.observe_check("github", "timeout", std::chrono::seconds{30});
  m.observe_check("netlify", "failed", std::chrono::milliseconds{900});
  m.update_subsystem(
      "pm2",
      make_health(status::degraded,
                  {target("api", status::healthy,
                          {{"status", "online"}, {"restarts", 3}, {"memory_bytes", 104857600}, {"cpu_percent", 12.5}}),
                   target("worker", status::unhealthy,
                          {{"status", "errored"}, {"restarts", 15}, {"memory_bytes", 0}, {"cpu_percent", 0}})}));
  m.update_subsystem(
      "github", make_health(status::unhealthy, {target("ci.yml", status::unhealthy, {{"consecutive_failures", 4}}),
                                                target("deploy.yml", status::healthy, {{"consecutive_failures", 0}})}));
  m.update_subsystem("netlify",
                     make_health(status::healthy, {target("hello", status::healthy),
                                                   target("manifest", status::healthy, {{"kind", "manifest"}})}));
  m.count_recovery("pm2", "restart", "succeeded");
  m.set_emergency(true, 2);
}

struct child_result {
  int exit_code{-1};
  std::string err{};
  std::string out{};
};

// Runs program with the text on its stdin (from a file, so no pipe can fill up) and collects its
// output.
child_result run_with_stdin(const std::string& program, std::vector<std::string> args, const std::string& input) {
  const fs::path dir = fs::temp_directory_path() / ("metrics_test." + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto in_path = dir / "in", out_path = dir / "out", err_path = dir / "err";
  std::ofstream{in_path} << input;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  BOOST_TEST_REQUIRE(rc == 0, "posix_spawn " << program);
  int wstatus = 0;
  BOOST_TEST_REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
  child_result result;
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  result.out = read_small_file(out_path).value_or("");
  result.err = read_small_file(err_path).value_or("");
  fs::remove_all(dir);
  return result;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_design_metric_is_present_after_updates) {
  metrics m;
  fill(m);
  const exposition e{m.serialize()};
  for (const char* name : {"redundancy_build_info",
                           "redundancy_subsystem_healthy",
                           "redundancy_target_healthy",
                           "redundancy_checks_total",
                           "redundancy_check_duration_seconds",
                           "redundancy_check_lateness_seconds",
                           "redundancy_recovery_actions_total",
                           "redundancy_emergency_active",
                           "redundancy_emergency_attempts",
                           "redundancy_pm2_app_online",
                           "redundancy_pm2_app_restarts",
                           "redundancy_pm2_app_memory_bytes",
                           "redundancy_pm2_app_cpu_percent",
                           "redundancy_github_workflow_consecutive_failures",
                           "redundancy_netlify_function_healthy",
                           "process_cpu_seconds_total",
                           "process_resident_memory_bytes",
                           "process_open_fds",
                           "process_start_time_seconds",
                           "process_virtual_memory_bytes",
                           "process_max_fds"})
    BOOST_TEST(e.has(name), name << " has samples");
  for (const auto& [name, f] : e.families()) {
    BOOST_TEST(!f.help.empty(), name << " has HELP");
    BOOST_TEST(!f.type.empty(), name << " has TYPE");
    BOOST_TEST((f.type != "counter" || name.ends_with("_total")), name << " is a counter ending in _total");
  }
  BOOST_TEST(e.at("redundancy_checks_total").type == "counter");
  BOOST_TEST(e.at("redundancy_check_duration_seconds").type == "histogram");
  BOOST_TEST(e.at("redundancy_check_lateness_seconds").type == "histogram");
  BOOST_TEST(e.at("process_cpu_seconds_total").type == "counter");
  BOOST_TEST(e.at("redundancy_emergency_active").type == "gauge");
  BOOST_TEST(e.value("redundancy_build_info", {{"version", REDUNDANCY_VERSION}}) == 1.0);
}

BOOST_AUTO_TEST_CASE(values_match_the_updates) {
  metrics m;
  fill(m);
  const exposition e{m.serialize()};
  BOOST_TEST(e.value("redundancy_pm2_app_memory_bytes", {{"app", "api"}}) == 104857600.0);
  BOOST_TEST(e.value("redundancy_pm2_app_restarts", {{"app", "api"}}) == 3.0);
  BOOST_TEST(e.value("redundancy_pm2_app_cpu_percent", {{"app", "api"}}) == 12.5);
  BOOST_TEST(e.value("redundancy_pm2_app_online", {{"app", "api"}}) == 1.0);
  BOOST_TEST(e.value("redundancy_pm2_app_online", {{"app", "worker"}}) == 0.0);
  BOOST_TEST(e.value("redundancy_pm2_app_restarts", {{"app", "worker"}}) == 15.0);
  BOOST_TEST(e.value("redundancy_target_healthy", {{"subsystem", "pm2"}, {"target", "api"}}) == 1.0);
  BOOST_TEST(e.value("redundancy_target_healthy", {{"subsystem", "pm2"}, {"target", "worker"}}) == 0.0);
  BOOST_TEST(e.value("redundancy_subsystem_healthy", {{"subsystem", "pm2"}}) == 1.0);  // degraded counts
  BOOST_TEST(e.value("redundancy_subsystem_healthy", {{"subsystem", "github"}}) == 0.0);
  BOOST_TEST(e.value("redundancy_subsystem_status", {{"subsystem", "pm2"}, {"status", "degraded"}}) == 1.0);
  BOOST_TEST(e.value("redundancy_subsystem_status", {{"subsystem", "pm2"}, {"status", "healthy"}}) == 0.0);
  BOOST_TEST(e.series_count("redundancy_subsystem_status") == 18u);  // 3 subsystems x 6 statuses
  BOOST_TEST(e.value("redundancy_github_workflow_consecutive_failures", {{"workflow", "ci.yml"}}) == 4.0);
  BOOST_TEST(e.value("redundancy_github_workflow_consecutive_failures", {{"workflow", "deploy.yml"}}) == 0.0);
  BOOST_TEST(e.value("redundancy_netlify_function_healthy", {{"function", "hello"}}) == 1.0);
  // A target of another kind is a target, not a function.
  BOOST_TEST(!e.value("redundancy_netlify_function_healthy", {{"function", "manifest"}}));
  BOOST_TEST(e.value("redundancy_target_healthy", {{"subsystem", "netlify"}, {"target", "manifest"}}) == 1.0);
  BOOST_TEST(e.value("redundancy_checks_total", {{"subsystem", "github"}, {"result", "timeout"}}) == 1.0);
  // The other results of a checked subsystem exist at 0, so the first failure is a visible
  // increase.
  BOOST_TEST(e.value("redundancy_checks_total", {{"subsystem", "github"}, {"result", "ok"}}) == 0.0);
  BOOST_TEST(e.series_count("redundancy_checks_total") == 12u);
  BOOST_TEST(e.value("redundancy_recovery_actions_total",
                     {{"subsystem", "pm2"}, {"action", "restart"}, {"result", "succeeded"}}) == 1.0);
  BOOST_TEST(e.value("redundancy_emergency_active", {}) == 1.0);
  BOOST_TEST(e.value("redundancy_emergency_attempts", {}) == 2.0);

  m.set_emergency(false, 0);
  m.observe_check("github", "timeout", std::chrono::seconds{1});
  m.count_recovery("pm2", "restart", "succeeded");
  const exposition after{m.serialize()};
  BOOST_TEST(after.value("redundancy_emergency_active", {}) == 0.0);
  BOOST_TEST(after.value("redundancy_emergency_attempts", {}) == 0.0);
  BOOST_TEST(after.value("redundancy_checks_total", {{"subsystem", "github"}, {"result", "timeout"}}) == 2.0);
  BOOST_TEST(after.value("redundancy_recovery_actions_total",
                         {{"subsystem", "pm2"}, {"action", "restart"}, {"result", "succeeded"}}) == 2.0);
}

BOOST_AUTO_TEST_CASE(series_of_a_removed_target_disappear) {
  metrics m;
  fill(m);
  // "worker" is gone from PM2, "ci.yml" from GitHub, "hello" from Netlify.
  m.update_subsystem(
      "pm2",
      make_health(status::healthy,
                  {target("api", status::healthy,
                          {{"status", "online"}, {"restarts", 3}, {"memory_bytes", 2048}, {"cpu_percent", 1}})}));
  m.update_subsystem(
      "github", make_health(status::healthy, {target("deploy.yml", status::healthy, {{"consecutive_failures", 0}})}));
  m.update_subsystem("netlify", make_health(status::disabled, {}));
  const exposition e{m.serialize()};
  for (const char* name : {"redundancy_pm2_app_online", "redundancy_pm2_app_restarts",
                           "redundancy_pm2_app_memory_bytes", "redundancy_pm2_app_cpu_percent"}) {
    BOOST_TEST(!e.value(name, {{"app", "worker"}}), name << "{app=worker} is gone");
    BOOST_TEST(e.value(name, {{"app", "api"}}).has_value(), name << "{app=api} stays");
  }
  BOOST_TEST(e.value("redundancy_pm2_app_memory_bytes", {{"app", "api"}}) == 2048.0);
  BOOST_TEST(!e.value("redundancy_target_healthy", {{"subsystem", "pm2"}, {"target", "worker"}}));
  BOOST_TEST(!e.value("redundancy_target_healthy", {{"subsystem", "github"}, {"target", "ci.yml"}}));
  BOOST_TEST(!e.value("redundancy_github_workflow_consecutive_failures", {{"workflow", "ci.yml"}}));
  BOOST_TEST(e.value("redundancy_github_workflow_consecutive_failures", {{"workflow", "deploy.yml"}}) == 0.0);
  BOOST_TEST(!e.value("redundancy_netlify_function_healthy", {{"function", "hello"}}));
  BOOST_TEST(!e.value("redundancy_target_healthy", {{"subsystem", "netlify"}, {"target", "manifest"}}));
  // A disabled subsystem is not healthy; its status says why.
  BOOST_TEST(e.value("redundancy_subsystem_healthy", {{"subsystem", "netlify"}}) == 0.0);
  BOOST_TEST(e.value("redundancy_subsystem_status", {{"subsystem", "netlify"}, {"status", "disabled"}}) == 1.0);
  BOOST_TEST(e.series_count("redundancy_target_healthy") == 2u);
}

BOOST_AUTO_TEST_CASE(absent_detail_keys_leave_their_series_out) {
  metrics m;
  fill(m);
  // PM2 could not read the app's memory this time, and "status" is a number, not a string.
  m.update_subsystem(
      "pm2",
      make_health(status::healthy, {target("api", status::healthy, {{"status", 1}, {"restarts", 3}}),
                                    target("pm2-daemon", status::healthy, {{"kind", "daemon"}, {"memory_bytes", 1}})}));
  const exposition e{m.serialize()};
  BOOST_TEST(e.value("redundancy_pm2_app_restarts", {{"app", "api"}}) == 3.0);
  BOOST_TEST(!e.value("redundancy_pm2_app_memory_bytes", {{"app", "api"}}));
  BOOST_TEST(!e.value("redundancy_pm2_app_cpu_percent", {{"app", "api"}}));
  BOOST_TEST(!e.value("redundancy_pm2_app_online", {{"app", "api"}}));
  BOOST_TEST(!e.value("redundancy_pm2_app_memory_bytes", {{"app", "pm2-daemon"}}));
  BOOST_TEST(e.value("redundancy_target_healthy", {{"subsystem", "pm2"}, {"target", "pm2-daemon"}}) == 1.0);
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_and_end_in_inf_equal_to_count) {
  metrics m;
  const std::vector<double> durations{0.001, 0.02, 0.02, 0.3, 4, 29.5, 500};
  double sum = 0;
  for (const double d : durations) {
    m.observe_check("pm2", "ok", std::chrono::duration<double>{d});
    sum += d;
  }
  const exposition e{m.serialize()};
  const auto& f = e.at("redundancy_check_duration_seconds");
  std::vector<std::pair<double, double>> buckets;  // le, count
  std::optional<double> count, total;
  for (const auto& s : f.samples) {
    BOOST_TEST(s.labels.at("subsystem") == "pm2");
    if (s.name.ends_with("_bucket")) buckets.emplace_back(std::stod(s.labels.at("le")), s.value);
    if (s.name.ends_with("_count")) count = s.value;
    if (s.name.ends_with("_sum")) total = s.value;
  }
  BOOST_TEST_REQUIRE(buckets.size() >= 2u);
  BOOST_TEST_REQUIRE(count.has_value());
  BOOST_TEST_REQUIRE(total.has_value());
  for (std::size_t i = 1; i < buckets.size(); ++i) {
    BOOST_TEST(buckets[i].first > buckets[i - 1].first, "le increases");
    BOOST_TEST(buckets[i].second >= buckets[i - 1].second, "counts are cumulative");
  }
  BOOST_TEST(std::isinf(buckets.back().first));
  BOOST_TEST(buckets.back().second == *count);
  BOOST_TEST(*count == static_cast<double>(durations.size()));
  BOOST_TEST(*total == sum, boost::test_tools::tolerance(1e-9));
  // Each bucket holds exactly the observations at or below its bound.
  for (const auto& [le, n] : buckets) {
    double expected = 0;
    for (const double d : durations) expected += d <= le ? 1 : 0;
    BOOST_TEST(n == expected, "bucket le=" << le);
  }
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped_and_kept_valid_utf8) {
  metrics m;
  const std::string odd = "we\"ird\\app\nname";
  const std::string bad_utf8 = std::string{"caf\xc3\xa9-"} + "\xff\xc3";
  m.update_subsystem("pm2", make_health(status::healthy, {target(odd, status::healthy, {{"restarts", 1}}),
                                                          target(bad_utf8, status::healthy, {{"restarts", 2}})}));
  const exposition e{m.serialize()};
  BOOST_TEST(e.value("redundancy_pm2_app_restarts", {{"app", odd}}) == 1.0);
  BOOST_TEST(e.value("redundancy_pm2_app_restarts", {{"app", "caf\xc3\xa9-\xef\xbf\xbd\xef\xbf\xbd"}}) == 2.0);
}

BOOST_AUTO_TEST_CASE(an_unknown_check_result_is_a_bug) {
  metrics m;
  BOOST_CHECK_THROW(m.observe_check("pm2", "weird", std::chrono::seconds{1}), std::invalid_argument);
  const exposition e{m.serialize()};
  BOOST_TEST(!e.has("redundancy_checks_total"));
}

BOOST_AUTO_TEST_CASE(process_stats_describe_this_process) {
  const auto stats = redundancy::read_process_stats();
  BOOST_TEST_REQUIRE(stats.resident_bytes.has_value());
  BOOST_TEST(*stats.resident_bytes > 0.0);
  BOOST_TEST_REQUIRE(stats.virtual_bytes.has_value());
  BOOST_TEST(*stats.virtual_bytes >= *stats.resident_bytes);
  BOOST_TEST_REQUIRE(stats.cpu_seconds.has_value());
  BOOST_TEST(*stats.cpu_seconds >= 0.0);

  // Open descriptors: three more files open means three more counted.
  BOOST_TEST_REQUIRE(stats.open_fds.has_value());
  BOOST_TEST(*stats.open_fds >= 3.0);
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const auto more = redundancy::read_process_stats().open_fds;
  for (const int fd : fds) ::close(fd);
  BOOST_TEST_REQUIRE(more.has_value());
  BOOST_TEST(*more == *stats.open_fds + 3.0);

  rlimit limit{};
  BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur == RLIM_INFINITY)
    BOOST_TEST(!stats.max_fds.has_value());
  else
    BOOST_TEST(stats.max_fds == static_cast<double>(limit.rlim_cur));

  // Started within the last day and not in the future (one clock tick of rounding allowed).
  BOOST_TEST_REQUIRE(stats.start_time_seconds.has_value());
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  BOOST_TEST(*stats.start_time_seconds <= now + 1.0);
  BOOST_TEST(*stats.start_time_seconds > now - 86400.0);
}

BOOST_AUTO_TEST_CASE(promtool_finds_nothing_to_complain_about) {
  const std::string promtool = "/usr/bin/promtool";
  if (!fs::exists(promtool)) {
    BOOST_TEST_MESSAGE("SKIPPED: promtool check metrics: " << promtool << " is missing (Debian package `prometheus`)");
    return;
  }
  metrics m;
  fill(m);
  m.update_subsystem("pm2", make_health(status::healthy, {target("we\"ird\\app\nname", status::healthy,
                                                                 {{"status", "online"}, {"restarts", 1}})}));
  const auto text = m.serialize();
  const auto result = run_with_stdin(promtool, {"check", "metrics"}, text);
  BOOST_TEST(result.exit_code == 0, "promtool exit code; stderr: " << result.err << "\ninput:\n" << text);
  BOOST_TEST(result.err.empty(), "promtool stderr: " << result.err);

  // The check itself can fail: a counter without _total is reported.
  const auto bad = run_with_stdin(promtool, {"check", "metrics"},
                                  "# HELP x_count_things Things.\n# TYPE x_count_things counter\nx_count_things 1\n");
  BOOST_TEST(bad.exit_code != 0);
  BOOST_TEST(!bad.err.empty());
}

BOOST_AUTO_TEST_CASE(content_type_is_the_text_format) {
  BOOST_TEST(metrics::content_type == "text/plain; version=0.0.4; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(lateness_counts_a_check_over_one_second_outside_the_le_1_bucket) {
  metrics m;
  m.observe_lateness("pm2", std::chrono::milliseconds{2});
  m.observe_lateness("pm2", std::chrono::milliseconds{-5});  // a timer early by rounding: 0
  m.observe_lateness("pm2", std::chrono::milliseconds{1500});
  const exposition e{m.serialize()};
  BOOST_TEST(e.value("redundancy_check_lateness_seconds_count", {{"subsystem", "pm2"}}) == 3.0);
  BOOST_TEST(e.value("redundancy_check_lateness_seconds_bucket", {{"subsystem", "pm2"}, {"le", "1"}}) == 2.0);
  BOOST_TEST(e.value("redundancy_check_lateness_seconds_bucket", {{"subsystem", "pm2"}, {"le", "0.001"}}) == 1.0);
  BOOST_TEST(*e.value("redundancy_check_lateness_seconds_sum", {{"subsystem", "pm2"}}) == 1.502,
             boost::test_tools::tolerance(1e-9));
}
