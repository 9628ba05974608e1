// Tests of the config loader: defaults, environment overrides, JSON leniency, errors with their
// paths, path resolution, file lookup, redaction and the shipped example.
#define BOOST_TEST_MODULE config
#include "redundancy/core/config.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <functional>

#include "support/temp_dir.hpp"
#include "test_paths.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
using redundancy::config;
using redundancy::env_lookup;

namespace {

const env_lookup no_env{};

// Parses text as "redundancy.json" and fails the test with the message when it is rejected.
config parse_ok(std::string_view text, const env_lookup& env = no_env) {
  auto result = redundancy::parse_config(text, "redundancy.json", env);
  BOOST_TEST_REQUIRE(result.has_value(), (result ? std::string() : result.error()));
  return *result;
}

// The error for text, or "" (which no check below accepts) when it was accepted.
std::string parse_error(std::string_view text, const env_lookup& env = no_env) {
  auto result = redundancy::parse_config(text, "redundancy.json", env);
  BOOST_TEST(!result.has_value(), "accepted: " << text);
  return result ? std::string() : result.error();
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

#define CHECK_CONTAINS(haystack, needle) \
  BOOST_TEST(contains((haystack), (needle)), "\"" << (haystack) << "\" lacks \"" << (needle) << "\"")

// A fresh folder, by its canonical path (the reader resolves paths, and the temp folder may be a link).
class temp_dir : public redundancy::test::temp_dir {
 public:
  const fs::path& path() const { return canonical_; }
  fs::path write(const std::string& name, std::string_view text) const {
    fs::create_directories((path() / name).parent_path());
    std::ofstream(path() / name) << text;
    return path() / name;
  }

 private:
  fs::path canonical_ = fs::canonical(redundancy::test::temp_dir::path());
};

// Runs inside dir, restoring the current directory afterwards.
struct in_dir {
  fs::path previous = fs::current_path();
  explicit in_dir(const fs::path& dir) { fs::current_path(dir); }
  ~in_dir() { fs::current_path(previous); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(defaults)

BOOST_AUTO_TEST_CASE(empty_object_gives_the_documented_defaults) {
  const config c = parse_ok("{}");
  BOOST_TEST(c.source == "redundancy.json");
  BOOST_TEST(c.log.level == "info");
  BOOST_TEST(c.log.max_file_bytes == 10485760u);
  BOOST_TEST(c.log.max_files == 5u);
  BOOST_TEST(c.http.listen == "127.0.0.1:8686");
  BOOST_TEST(!c.http.token_file.has_value());
  BOOST_TEST(c.pm2.command == std::vector<std::string>{"pm2"});
  BOOST_TEST(c.pm2.interval.count() == 30000);
  BOOST_TEST(c.pm2.timeout.count() == 20000);
  BOOST_TEST(c.pm2.cpu_action == "warn");
  BOOST_TEST(c.pm2.transport == "auto");
  BOOST_TEST(c.pm2.daemon_memory_max == 536870912u);
  BOOST_TEST(c.github.interval.count() == 60000);
  BOOST_TEST(c.github.token_env == "GITHUB_TOKEN");
  BOOST_TEST((c.github.backup == std::vector<std::string>{"local", "dispatch"}));
  BOOST_TEST(c.github.local_execution.timeout.count() == 300000);
  BOOST_TEST(c.netlify.interval.count() == 120000);
  BOOST_TEST((c.netlify.deploy_command == std::vector<std::string>{"netlify", "deploy", "--prod"}));
  BOOST_TEST(c.orchestrator.emergency_threshold == 2u);
  BOOST_TEST(c.orchestrator.retention.count() == 30LL * 24 * 3600 * 1000);
  BOOST_TEST(c.notify.repeat_every.count() == 3600000);
}

BOOST_AUTO_TEST_CASE(built_in_defaults_resolve_against_the_current_directory) {
  temp_dir dir;
  in_dir inside{dir.path()};
  auto result = redundancy::parse_config("{}", "built-in defaults", no_env);
  BOOST_TEST_REQUIRE(result.has_value());
  BOOST_TEST(result->project_dir == dir.path());
  BOOST_TEST(result->state_dir == dir.path() / "automation");
  BOOST_TEST(result->log_dir == dir.path() / "automation/logs");
  BOOST_TEST(result->netlify.manifest == dir.path() / "netlify/functions/functions-manifest.json");
  BOOST_TEST(result->pm2.ecosystem_files.at(1) == dir.path() / "ecosystem.redundancy.cjs");
  BOOST_TEST(result->source == "built-in defaults");
}

BOOST_AUTO_TEST_CASE(values_in_the_file_replace_defaults_and_keep_the_rest) {
  const config c = parse_ok(R"({"pm2": {"interval": "10s", "command": ["npx", "pm2"]}, "log": {"level": "debug"}})");
  BOOST_TEST(c.pm2.interval.count() == 10000);
  BOOST_TEST((c.pm2.command == std::vector<std::string>{"npx", "pm2"}));
  BOOST_TEST(c.pm2.timeout.count() == 20000);
  BOOST_TEST(c.log.level == "debug");
  BOOST_TEST(c.log.max_files == 5u);
}

BOOST_AUTO_TEST_CASE(durations_are_strings_or_seconds) {
  const config c = parse_ok(R"({"pm2": {"interval": 45, "timeout": 1.5, "restart_delay": 0},
                                "github": {"interval": "1.5m"}})");
  BOOST_TEST(c.pm2.interval.count() == 45000);
  BOOST_TEST(c.pm2.timeout.count() == 1500);
  BOOST_TEST(c.pm2.restart_delay.count() == 0);
  BOOST_TEST(c.github.interval.count() == 90000);
}

BOOST_AUTO_TEST_CASE(command_as_a_string_is_one_argv_element) {
  const config c = parse_ok(R"({"pm2": {"command": "/usr/local/bin/pm2"}})");
  BOOST_TEST(c.pm2.command == std::vector<std::string>{"/usr/local/bin/pm2"});
}

BOOST_AUTO_TEST_CASE(nullable_keys_accept_null_and_values) {
  const config c = parse_ok(R"({"github": {"repository": "acme/zion", "ca_file": null,
                                            "dispatch": {"ref": "main", "event_type": null}},
                                "netlify": {"typescript_check": ["npx", "tsc"], "site_url": "https://x.netlify.app"},
                                "pm2": {"home": null, "daemon_restart_command": "pm2-restart"}})");
  BOOST_TEST(c.github.repository.value() == "acme/zion");
  BOOST_TEST(!c.github.ca_file.has_value());
  BOOST_TEST(c.github.dispatch.ref.value() == "main");
  BOOST_TEST(!c.github.dispatch.event_type.has_value());
  BOOST_TEST((c.netlify.typescript_check.value() == std::vector<std::string>{"npx", "tsc"}));
  BOOST_TEST(c.netlify.site_url.value() == "https://x.netlify.app");
  BOOST_TEST(!c.pm2.home.has_value());
  BOOST_TEST(c.pm2.daemon_restart_command.value() == std::vector<std::string>{"pm2-restart"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(leniency)

BOOST_AUTO_TEST_CASE(comments_and_trailing_commas_are_accepted) {
  const config c = parse_ok(R"(// leading comment
    {
      /* block comment */
      "pm2": {
        "interval": "15s", // trailing comment
        "processes": ["a", "b",],
      },
    }
  )");
  BOOST_TEST(c.pm2.interval.count() == 15000);
  BOOST_TEST((c.pm2.processes == std::vector<std::string>{"a", "b"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(environment)

BOOST_AUTO_TEST_CASE(overrides_of_every_kind) {
  const env_lookup env{
      {"REDUNDANCY_PM2__INTERVAL", "10s"},                                               // a duration string
      {"REDUNDANCY_PM2__TIMEOUT", "7"},                                                  // a number: seconds
      {"REDUNDANCY_PM2__MAX_RESTART_ATTEMPTS", "9"},                                     // a number
      {"REDUNDANCY_PM2__ENABLED", "false"},                                              // a boolean
      {"REDUNDANCY_PM2__COMMAND", R"(["npx", "pm2"])"},                                  // an array
      {"REDUNDANCY_GITHUB__REPOSITORY", "null"},                                         // null, over the file's value
      {"REDUNDANCY_HTTP__LISTEN", "0.0.0.0:8686"},                                       // not JSON: a string
      {"REDUNDANCY_GITHUB__LOCAL_EXECUTION__TIMEOUT", "2m"},                             // nested
      {"REDUNDANCY_NETLIFY__PROBE_PATHS", R"({"hello": "/.netlify/functions/hello"})"},  // an object
      {"REDUNDANCY_PROJECT_DIR", "/srv/x"},                                              // top level
      {"REDUNDANCY_ORCHESTRATOR__RETENTION", "7d"},  // a section absent from the file
      {"REDUNDANCY_CONFIG", "/nonexistent.json"},    // not overrides: ignored here
      {"REDUNDANCY_URL", "http://127.0.0.1:1"},
      {"REDUNDANCY_TOKEN", "abc"},
      {"HOME", "/root"},
  };
  const config c = parse_ok(R"({"pm2": {"interval": "1m"}, "github": {"repository": "acme/zion"}})", env);
  BOOST_TEST(c.pm2.interval.count() == 10000);
  BOOST_TEST(c.pm2.timeout.count() == 7000);
  BOOST_TEST(c.pm2.max_restart_attempts == 9u);
  BOOST_TEST(!c.pm2.enabled);
  BOOST_TEST((c.pm2.command == std::vector<std::string>{"npx", "pm2"}));
  BOOST_TEST(!c.github.repository.has_value());
  BOOST_TEST(c.http.listen == "0.0.0.0:8686");
  BOOST_TEST(c.github.local_execution.timeout.count() == 120000);
  BOOST_TEST(c.github.local_execution.enabled);
  BOOST_TEST(c.netlify.probe_paths.at("hello") == "/.netlify/functions/hello");
  BOOST_TEST(c.project_dir == fs::path("/srv/x"));
  BOOST_TEST(c.state_dir == fs::path("/srv/x/automation"));
  BOOST_TEST(c.orchestrator.retention.count() == 7LL * 24 * 3600 * 1000);
}

BOOST_AUTO_TEST_CASE(every_key_of_the_schema_is_overridable) {
  // Setting each leaf of the default tree through its variable, with its default value, must be
  // accepted: the override walker and the mapper agree on every key.
  const json::value defaults = redundancy::to_redacted_json(config{});
  std::vector<std::pair<std::string, std::string>> leaves;
  std::function<void(const json::object&, const std::string&)> walk = [&](const json::object& o,
                                                                          const std::string& name) {
    for (const auto& entry : o) {
      std::string key(entry.key());
      for (auto& ch : key) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      const std::string var = name.empty() ? "REDUNDANCY_" + key : name + "__" + key;
      if (entry.value().is_object() && !entry.value().get_object().empty() && entry.key() != "probe_paths")
        walk(entry.value().get_object(), var);
      else
        leaves.emplace_back(var, json::serialize(entry.value()));
    }
  };
  walk(defaults.get_object(), "");
  BOOST_TEST(leaves.size() >= 60u);
  for (const auto& [var, value] : leaves) {
    auto result = redundancy::parse_config("{}", "redundancy.json", env_lookup{{var, value}});
    BOOST_TEST(result.has_value(), var << "=" << value << ": " << (result ? "" : result.error()));
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_variable_is_an_error_naming_it) {
  const auto error = parse_error("{}", {{"REDUNDANCY_PM2__INTERVALL", "10s"}});
  CHECK_CONTAINS(error, "redundancy.json: REDUNDANCY_PM2__INTERVALL: no config key \"pm2.intervall\"");
  CHECK_CONTAINS(parse_error("{}", {{"REDUNDANCY_NOPE", "1"}}), "REDUNDANCY_NOPE");
  CHECK_CONTAINS(parse_error("{}", {{"REDUNDANCY_PM2__INTERVAL__X", "1"}}), "REDUNDANCY_PM2__INTERVAL__X");
  CHECK_CONTAINS(parse_error("{}", {{"REDUNDANCY_PM2____INTERVAL", "1"}}), "REDUNDANCY_PM2____INTERVAL");
}

BOOST_AUTO_TEST_CASE(a_bad_override_fails_validation_and_names_its_variable) {
  const auto error = parse_error("{}", {{"REDUNDANCY_PM2__INTERVAL", "fast"}});
  CHECK_CONTAINS(error, "redundancy.json: pm2.interval: expected a duration like \"30s\", got \"fast\"");
  CHECK_CONTAINS(error, "REDUNDANCY_PM2__INTERVAL");
}

BOOST_AUTO_TEST_CASE(current_environment_reads_environ) {
  BOOST_TEST_REQUIRE(::setenv("REDUNDANCY_TEST_PROBE", "a=b", 1) == 0);
  const auto env = redundancy::current_environment();
  ::unsetenv("REDUNDANCY_TEST_PROBE");
  BOOST_TEST(env.at("REDUNDANCY_TEST_PROBE") == "a=b");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(unknown_keys_name_their_path) {
  CHECK_CONTAINS(parse_error(R"({"pm2": {"intervall": "30s"}})"), "redundancy.json: pm2.intervall: unknown key");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"intervall": "30s"}})"), "did you mean \"interval\"");
  CHECK_CONTAINS(parse_error(R"({"github": {"dispatch": {"reff": "main"}}})"), "github.dispatch.reff: unknown key");
  CHECK_CONTAINS(parse_error(R"({"projectdir": "."})"), "redundancy.json: projectdir: unknown key");
}

BOOST_AUTO_TEST_CASE(wrong_types_name_their_path) {
  CHECK_CONTAINS(parse_error(R"({"http": {"listen": 42}})"), "redundancy.json: http.listen: expected a string, got 42");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"enabled": "yes"}})"), "pm2.enabled: expected true or false, got \"yes\"");
  CHECK_CONTAINS(parse_error(R"({"pm2": 5})"), "pm2: expected an object, got 5");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"processes": ["a", 3]}})"), "pm2.processes[1]: expected a string, got 3");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"processes": "a"}})"), "pm2.processes: expected an array, got \"a\"");
  CHECK_CONTAINS(parse_error(R"({"log": {"max_files": "5"}})"),
                 "log.max_files: expected a whole number from 1 to 100, got \"5\"");
  CHECK_CONTAINS(parse_error(R"({"state_dir": null})"), "state_dir: expected a string, got null");
  CHECK_CONTAINS(parse_error(R"({"netlify": {"probe_paths": {"f": 1}}})"),
                 "netlify.probe_paths.f: expected a string, got 1");
  CHECK_CONTAINS(parse_error(R"([1, 2])"), "redundancy.json: expected a JSON object at the top level");
}

BOOST_AUTO_TEST_CASE(bad_durations_name_their_path) {
  CHECK_CONTAINS(parse_error(R"({"pm2": {"interval": "fast"}})"),
                 "redundancy.json: pm2.interval: expected a duration like \"30s\", got \"fast\"");
  CHECK_CONTAINS(parse_error(R"({"github": {"local_execution": {"timeout": -5}}})"),
                 "github.local_execution.timeout: expected a duration like \"30s\", got -5");
  CHECK_CONTAINS(parse_error(R"({"notify": {"repeat_every": true}})"), "notify.repeat_every: expected a duration");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"interval": "0s"}})"), "pm2.interval: expected a duration above zero");
  CHECK_CONTAINS(parse_error(R"({"orchestrator": {"retention": 0.0001}})"),
                 "orchestrator.retention: expected a duration");
}

BOOST_AUTO_TEST_CASE(out_of_range_values_name_their_path) {
  CHECK_CONTAINS(parse_error(R"({"pm2": {"memory_threshold_pct": 101}})"),
                 "pm2.memory_threshold_pct: expected a number from 1 to 100, got 101");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"cpu_threshold_pct": -1}})"),
                 "pm2.cpu_threshold_pct: expected a number from 1 to 100");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"max_restart_attempts": 0}})"),
                 "pm2.max_restart_attempts: expected a whole number from 1 to 100, got 0");
  CHECK_CONTAINS(parse_error(R"({"github": {"max_failures": 2.5}})"),
                 "github.max_failures: expected a whole number from 1 to 100");
  CHECK_CONTAINS(parse_error(R"({"log": {"max_files": 0}})"),
                 "log.max_files: expected a whole number from 1 to 100, got 0");
  CHECK_CONTAINS(parse_error(R"({"orchestrator": {"emergency_threshold": 4}})"),
                 "orchestrator.emergency_threshold: expected a whole number from 1 to 3, got 4");
  CHECK_CONTAINS(parse_error(R"({"orchestrator": {"emergency_threshold": 0}})"), "orchestrator.emergency_threshold");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"cpu_action": "kill"}})"),
                 "pm2.cpu_action: expected one of \"warn\", \"restart\", got \"kill\"");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"transport": "rpc"}})"),
                 "pm2.transport: expected one of \"auto\", \"socket\", \"cli\", got \"rpc\"");
  BOOST_TEST(parse_ok(R"({"pm2": {"transport": "cli"}})").pm2.transport == "cli");
  BOOST_TEST(parse_ok("{}", {{"REDUNDANCY_PM2__TRANSPORT", "socket"}}).pm2.transport == "socket");
  BOOST_TEST(parse_ok("{}").pm2.save_after_recovery);
  BOOST_TEST(!parse_ok(R"({"pm2": {"save_after_recovery": false}})").pm2.save_after_recovery);
  CHECK_CONTAINS(parse_error(R"({"pm2": {"save_after_recovery": "no"}})"), "pm2.save_after_recovery");
  // Whether the list is the default decides whether a missing file is a warning.
  BOOST_TEST(!parse_ok("{}").pm2.ecosystem_files_configured);
  BOOST_TEST(parse_ok(R"({"pm2": {"ecosystem_files": []}})").pm2.ecosystem_files_configured);
  BOOST_TEST(parse_ok("{}", {{"REDUNDANCY_PM2__ECOSYSTEM_FILES", "[]"}}).pm2.ecosystem_files_configured);
  CHECK_CONTAINS(parse_error(R"({"log": {"level": "verbose"}})"),
                 "log.level: expected one of \"trace\", \"debug\", \"info\"");
  CHECK_CONTAINS(parse_error(R"({"github": {"backup": ["local", "cloud"]}})"),
                 "github.backup[1]: expected one of \"local\", \"dispatch\", got \"cloud\"");
  CHECK_CONTAINS(parse_error(R"({"github": {"repository": "zion"}})"), "github.repository: expected \"owner/name\"");
  CHECK_CONTAINS(parse_error(R"({"github": {"token_env": "GITHUB TOKEN"}})"), "github.token_env");
  CHECK_CONTAINS(parse_error(R"({"github": {"api_url": "ftp://x"}})"),
                 "github.api_url: expected an http:// or https:// URL");
}

BOOST_AUTO_TEST_CASE(durations_above_their_ceiling_name_the_path_the_limit_and_the_variable) {
  // 200000d was accepted and made the check timer's nanoseconds overflow: checks back to back.
  CHECK_CONTAINS(parse_error("{}", {{"REDUNDANCY_GITHUB__INTERVAL", "200000d"}}),
                 "redundancy.json: github.interval: expected a duration of at most 7d, got "
                 "\"200000d\" (set by REDUNDANCY_GITHUB__INTERVAL)");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"interval": "100000d"}})"),
                 "pm2.interval: expected a duration of at most 7d, got \"100000d\"");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"interval": 1e12}})"), "pm2.interval: expected a duration of at most 7d");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"timeout": "25h"}})"),
                 "pm2.timeout: expected a duration of at most 1d, got \"25h\"");
  CHECK_CONTAINS(parse_error(R"({"notify": {"repeat_every": "366d"}})"),
                 "notify.repeat_every: expected a duration of at most 365d");
  CHECK_CONTAINS(parse_error(R"({"orchestrator": {"retention": "3651d"}})"),
                 "orchestrator.retention: expected a duration of at most 3650d, got \"3651d\"");
  CHECK_CONTAINS(parse_error(R"({"github": {"local_execution": {"timeout": "3000000d"}}})"),
                 "github.local_execution.timeout: expected a duration of at most 1d");
  // Each ceiling itself is allowed.
  const auto c = parse_ok(R"({"pm2": {"interval": "7d", "timeout": "1d"},
                              "orchestrator": {"retention": "3650d"},
                              "notify": {"give_up_after": "365d", "group_window": "24h"}})");
  BOOST_TEST(c.pm2.interval == std::chrono::milliseconds(7 * 24h));
  BOOST_TEST(c.orchestrator.retention == std::chrono::milliseconds(3650 * 24h));
  BOOST_TEST(c.notify.give_up_after == std::chrono::milliseconds(365 * 24h));
}

BOOST_AUTO_TEST_CASE(every_number_has_a_range) {
  // 0 made every app "over" the threshold: a healthy 40 MB app was restarted four times in 20 s.
  CHECK_CONTAINS(parse_error(R"({"pm2": {"memory_threshold_pct": 0}})"),
                 "redundancy.json: pm2.memory_threshold_pct: expected a number from 1 to 100, got 0");
  CHECK_CONTAINS(parse_error("{}", {{"REDUNDANCY_PM2__CPU_THRESHOLD_PCT", "0"}}),
                 "pm2.cpu_threshold_pct: expected a number from 1 to 100, got 0 (set by "
                 "REDUNDANCY_PM2__CPU_THRESHOLD_PCT)");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"memory_threshold_pct": 0.5}})"),
                 "pm2.memory_threshold_pct: expected a number from 1 to 100, got ");
  BOOST_TEST(parse_ok(R"({"pm2": {"memory_threshold_pct": 1}})").pm2.memory_threshold_pct == 1.0);
  BOOST_TEST(parse_ok(R"({"pm2": {"cpu_threshold_pct": 100}})").pm2.cpu_threshold_pct == 100.0);
  CHECK_CONTAINS(parse_error(R"({"log": {"max_file_bytes": 100}})"),
                 "log.max_file_bytes: expected a whole number from 65536 to 1099511627776, got 100");
  CHECK_CONTAINS(parse_error(R"({"log": {"max_files": 1000}})"),
                 "log.max_files: expected a whole number from 1 to 100, got 1000");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"daemon_memory_max": 1024}})"),
                 "pm2.daemon_memory_max: expected a whole number from 16777216");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"log_max_bytes": 0}})"),
                 "pm2.log_max_bytes: expected a whole number from 65536");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"log_keep": 101}})"),
                 "pm2.log_keep: expected a whole number from 1 to 100, got 101");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"max_restart_attempts": 4294967295}})"),
                 "pm2.max_restart_attempts: expected a whole number from 1 to 100");
  CHECK_CONTAINS(parse_error(R"({"netlify": {"max_failures": 0}})"),
                 "netlify.max_failures: expected a whole number from 1 to 100, got 0");
  CHECK_CONTAINS(parse_error(R"({"orchestrator": {"max_recovery_attempts": 0}})"),
                 "orchestrator.max_recovery_attempts: expected a whole number from 1 to 100, got 0");
  const auto c = parse_ok(R"({"log": {"max_file_bytes": 65536, "max_files": 100},
                              "pm2": {"daemon_memory_max": 16777216, "log_keep": 1}})");
  BOOST_TEST(c.log.max_file_bytes == 65536u);
  BOOST_TEST(c.pm2.daemon_memory_max == 16777216u);
}

BOOST_AUTO_TEST_CASE(a_key_given_twice_names_both_lines) {
  CHECK_CONTAINS(parse_error("{\n  \"pm2\": {\n    \"interval\": \"10s\",\n    // again\n"
                             "    \"interval\": \"1s\"\n  }\n}"),
                 "redundancy.json: line 5: pm2.interval given twice (first on line 3)");
  // The same key spelt with an escape is the same key.
  CHECK_CONTAINS(parse_error("{\"pm2\": {\"interval\": \"10s\",\n\"\\u0069nterval\": \"1s\"}}"),
                 "redundancy.json: line 2: pm2.interval given twice (first on line 1)");
  CHECK_CONTAINS(parse_error("{\"log\": {},\n/* a\n comment */ \"log\": {}}"),
                 "redundancy.json: line 3: log given twice (first on line 1)");
  CHECK_CONTAINS(parse_error("{\"notify\": {\"webhooks\": [\"https://a.example\",\n"
                             "  {\"url\": \"https://b.example\",\n   \"url\": \"https://c.example\"}]}}"),
                 "redundancy.json: line 3: notify.webhooks[1].url given twice (first on line 2)");
  CHECK_CONTAINS(parse_error("{}", {{"REDUNDANCY_PM2", R"({"interval": "1s", "interval": "2s"})"}}),
                 "REDUNDANCY_PM2: line 1: pm2.interval given twice (first on line 1)");
  // The same key in two objects, and a key's text as a value, are not duplicates.
  parse_ok(R"({"pm2": {"interval": "1s"}, "github": {"interval": "1s", "workflows": ["interval"]},
              "netlify": {"probe_paths": {"a": "/a", "b": "/a"}}})");
}

BOOST_AUTO_TEST_CASE(targets_beyond_the_cap_are_refused_naming_the_path_and_the_limit) {
  const auto names = [](std::size_t n) {
    std::string out = "[";
    for (std::size_t i = 0; i < n; ++i) out += (i ? ",\"a" : "\"a") + std::to_string(i) + "\"";
    return out + "]";
  };
  CHECK_CONTAINS(parse_error(R"({"pm2": {"processes": )" + names(10'001) + "}}"),
                 "redundancy.json: pm2.processes: expected at most 10000 apps, got 10001");
  CHECK_CONTAINS(parse_error(R"({"github": {"workflows": )" + names(250'000) + "}}"),
                 "github.workflows: expected at most 10000 workflows, got 250000");
  CHECK_CONTAINS(parse_error(R"({"netlify": {"local_invoke": )" + names(10'001) + "}}"),
                 "netlify.local_invoke: expected at most 10000 functions, got 10001");
  std::string probes = "{";
  for (int i = 0; i < 10'001; ++i) probes += (i ? ",\"f" : "\"f") + std::to_string(i) + "\": \"/\"";
  CHECK_CONTAINS(parse_error(R"({"netlify": {"probe_paths": )" + probes + "}}}"),
                 "netlify.probe_paths: expected at most 10000 functions, got 10001");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"ecosystem_files": )" + names(101) + "}}"),
                 "pm2.ecosystem_files: expected at most 100 files, got 101");
  BOOST_TEST(parse_ok(R"({"pm2": {"processes": )" + names(10'000) + "}}").pm2.processes.size() == 10'000u);
}

BOOST_AUTO_TEST_CASE(listen_is_host_and_port) {
  for (const char* good : {"127.0.0.1:0", "0.0.0.0:65535", "localhost:8686", "[::1]:8686"})
    BOOST_TEST(parse_ok(std::string(R"({"http": {"listen": ")") + good + "\"}}").http.listen == good);
  for (const char* bad : {"127.0.0.1:65536", "localhost", ":8686", "127.0.0.1:", "::1:80", "host:8x", "host:-1"})
    CHECK_CONTAINS(parse_error(std::string(R"({"http": {"listen": ")") + bad + "\"}}"),
                   "http.listen: expected \"host:port\" with a port from 0 to 65535");
}

BOOST_AUTO_TEST_CASE(commands_are_a_string_or_a_non_empty_array_of_strings) {
  CHECK_CONTAINS(parse_error(R"({"pm2": {"command": []}})"),
                 "pm2.command: expected a command: a string or a non-empty array of strings, got []");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"command": ["pm2", 1]}})"), "pm2.command[1]: expected a string, got 1");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"command": 7}})"), "pm2.command: expected a command");
  CHECK_CONTAINS(parse_error(R"({"netlify": {"deploy_command": ""}})"),
                 "netlify.deploy_command: expected a non-empty string");
  CHECK_CONTAINS(parse_error(R"({"pm2": {"daemon_restart_command": []}})"),
                 "pm2.daemon_restart_command: expected a command");
}

BOOST_AUTO_TEST_CASE(every_error_is_reported_each_on_its_own_line) {
  const auto error = parse_error(R"({"pm2": {"interval": "fast", "intervall": 1}, "log": {"level": 3}})");
  BOOST_TEST(std::count(error.begin(), error.end(), '\n') == 2);
  CHECK_CONTAINS(error, "redundancy.json: pm2.interval: expected a duration");
  CHECK_CONTAINS(error, "redundancy.json: pm2.intervall: unknown key");
  CHECK_CONTAINS(error, "redundancy.json: log.level: expected a string, got 3");
}

BOOST_AUTO_TEST_CASE(invalid_json_names_line_and_column) {
  CHECK_CONTAINS(parse_error("{\n  \"pm2\": {\n    \"interval\": fast\n  }\n}"),
                 "redundancy.json: invalid JSON at line 3, column 17");
  CHECK_CONTAINS(parse_error("{\"pm2\": {}"), "redundancy.json: invalid JSON at line 1, column 11");
  CHECK_CONTAINS(parse_error("{} {}"), "redundancy.json: invalid JSON at line 1, column 4: unexpected text");
  CHECK_CONTAINS(parse_error(""), "redundancy.json: invalid JSON");
}

BOOST_AUTO_TEST_CASE(secrets_are_not_echoed_in_errors) {
  const auto error = parse_error(R"({"netlify": {"build_hook_url": "ftp://SECRET-HOOK"},
                                     "notify": {"webhooks": ["SECRET-WEBHOOK"]}})");
  CHECK_CONTAINS(error, "netlify.build_hook_url: expected an http:// or https:// URL, got a string");
  CHECK_CONTAINS(error, "notify.webhooks[0]: expected an http:// or https:// URL");
  BOOST_TEST(!contains(error, "SECRET"), error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(paths)

BOOST_AUTO_TEST_CASE(project_dir_resolves_against_the_file_and_the_rest_against_project_dir) {
  temp_dir dir;
  const auto file = dir.write("etc/redundancy.json", R"({
    "project_dir": "../site/./",
    "log_dir": "/var/log/redundancy/",
    "http": {"token_file": "secrets/token", "web_root": "../web"},
    "pm2": {"ecosystem_files": ["ecosystem.pm2.cjs", "/opt/other.cjs"]},
    "github": {"ca_file": "certs/ca.pem"},
    "netlify": {"functions_dir": "netlify/functions/"}
  })");
  auto result = redundancy::load_config(file, no_env);
  BOOST_TEST_REQUIRE(result.has_value(), (result ? std::string() : result.error()));
  const config& c = *result;
  BOOST_TEST(c.source == file.string());
  BOOST_TEST(c.project_dir == dir.path() / "site");
  BOOST_TEST(c.state_dir == dir.path() / "site/automation");
  BOOST_TEST(c.log_dir == fs::path("/var/log/redundancy"));
  BOOST_TEST(c.http.token_file.value() == dir.path() / "site/secrets/token");
  BOOST_TEST(c.http.web_root.value() == dir.path() / "web");
  BOOST_TEST(c.pm2.ecosystem_files.at(0) == dir.path() / "site/ecosystem.pm2.cjs");
  BOOST_TEST(c.pm2.ecosystem_files.at(1) == fs::path("/opt/other.cjs"));
  BOOST_TEST(c.github.ca_file.value() == dir.path() / "site/certs/ca.pem");
  BOOST_TEST(c.github.workflows_dir == dir.path() / "site/.github/workflows");
  BOOST_TEST(c.netlify.functions_dir == dir.path() / "site/netlify/functions");
  BOOST_TEST(c.netlify.manifest == dir.path() / "site/netlify/functions/functions-manifest.json");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lookup)

BOOST_AUTO_TEST_CASE(an_explicit_file_that_cannot_be_read_is_an_error_naming_it) {
  temp_dir dir;
  const auto missing = dir.path() / "missing.json";
  auto result = redundancy::load_config(missing, no_env);
  BOOST_TEST_REQUIRE(!result.has_value());
  CHECK_CONTAINS(result.error(), missing.string() + ": cannot read the config file: No such file or directory");
  auto folder = redundancy::load_config(dir.path(), no_env);
  BOOST_TEST_REQUIRE(!folder.has_value());
  CHECK_CONTAINS(folder.error(), dir.path().string() + ": cannot read the config file");
}

BOOST_AUTO_TEST_CASE(errors_in_a_file_are_prefixed_with_its_path) {
  temp_dir dir;
  const auto file = dir.write("conf.json", R"({"pm2": {"interval": "fast"}})");
  auto result = redundancy::load_config(file, no_env);
  BOOST_TEST_REQUIRE(!result.has_value());
  BOOST_TEST(result.error() == file.string() + ": pm2.interval: expected a duration like \"30s\", got \"fast\"");
}

BOOST_AUTO_TEST_CASE(explicit_file_then_variable_then_current_directory_then_defaults) {
  temp_dir dir;
  const auto explicit_file = dir.write("explicit.json", R"({"pm2": {"interval": "1s"}})");
  const auto env_file = dir.write("env.json", R"({"pm2": {"interval": "2s"}})");
  dir.write("cwd/redundancy.json", R"({"pm2": {"interval": "3s"}})");
  fs::create_directories(dir.path() / "empty");
  const env_lookup env{{"REDUNDANCY_CONFIG", env_file.string()}};
  {
    in_dir inside{dir.path() / "cwd"};
    BOOST_TEST(redundancy::load_config(explicit_file, env)->pm2.interval.count() == 1000);
    BOOST_TEST(redundancy::load_config(std::nullopt, env)->pm2.interval.count() == 2000);
    auto from_cwd = redundancy::load_config(std::nullopt, no_env);
    BOOST_TEST_REQUIRE(from_cwd.has_value());
    BOOST_TEST(from_cwd->pm2.interval.count() == 3000);
    BOOST_TEST(from_cwd->source == "redundancy.json");
    BOOST_TEST(from_cwd->project_dir == dir.path() / "cwd");
  }
  auto missing_env =
      redundancy::load_config(std::nullopt, {{"REDUNDANCY_CONFIG", (dir.path() / "nope.json").string()}});
  BOOST_TEST_REQUIRE(!missing_env.has_value());
  CHECK_CONTAINS(missing_env.error(), "nope.json: cannot read the config file");
  if (!fs::exists("/etc/redundancy/redundancy.json")) {
    in_dir inside{dir.path() / "empty"};
    auto defaults = redundancy::load_config(std::nullopt, {{"REDUNDANCY_PM2__INTERVAL", "4s"}});
    BOOST_TEST_REQUIRE(defaults.has_value());
    BOOST_TEST(defaults->source == "built-in defaults");
    BOOST_TEST(defaults->pm2.interval.count() == 4000);
    BOOST_TEST(defaults->project_dir == dir.path() / "empty");
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(output)

BOOST_AUTO_TEST_CASE(redaction_hides_every_secret) {
  const config c = parse_ok(R"({
    "netlify": {"build_hook_url": "https://api.netlify.com/build_hooks/SECRET1",
                "deploy_command": ["netlify", "deploy", "--auth", "SECRET2", "--token=SECRET3", "--prod"],
                "site_url": "https://user:SECRET4@example.netlify.app/x?token=SECRET5&page=2",
                "typescript_check": ["tsc", "nfp_SECRET6"]},
    "notify": {"webhooks": ["https://hooks.slack.com/services/SECRET7", "https://example.com/SECRET8"]},
    "pm2": {"daemon_restart_command": ["pm2", "ghp_SECRET9"]}
  })");
  const json::value out = redundancy::to_redacted_json(c);
  const std::string text = json::serialize(out);
  BOOST_TEST(!contains(text, "SECRET"), text);
  BOOST_TEST(out.at("netlify").at("build_hook_url") == "<redacted>");
  BOOST_TEST((out.at("notify").at("webhooks") == json::array{"<redacted>", "<redacted>"}));
  BOOST_TEST((out.at("netlify").at("deploy_command") ==
              json::array{"netlify", "deploy", "--auth", "<redacted>", "--token=<redacted>", "--prod"}));
  BOOST_TEST(out.at("netlify").at("site_url") == "https://<redacted>@example.netlify.app/x?token=<redacted>&page=2");
  // Unset secrets stay null, so the output says they are unset.
  const json::value defaults = redundancy::to_redacted_json(config{});
  BOOST_TEST(defaults.at("netlify").at("build_hook_url").is_null());
  BOOST_TEST(defaults.at("notify").at("webhooks").as_array().empty());
}

BOOST_AUTO_TEST_CASE(output_uses_the_input_schema_and_parses_back) {
  const config c = parse_ok(R"({"pm2": {"interval": 90, "command": "pm2", "processes": ["a"]},
                                "github": {"local_execution": {"timeout": "1.5s"}}})");
  const json::value out = redundancy::to_redacted_json(c);
  BOOST_TEST(out.at("pm2").at("interval") == "90s");
  BOOST_TEST(out.at("github").at("local_execution").at("timeout") == "1500ms");
  BOOST_TEST(out.at("orchestrator").at("retention") == "30d");
  BOOST_TEST((out.at("pm2").at("command") == json::array{"pm2"}));
  const config again = parse_ok(json::serialize(out));
  BOOST_TEST(json::serialize(redundancy::to_redacted_json(again)) == json::serialize(out));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(example)

BOOST_AUTO_TEST_CASE(the_shipped_example_loads) {
  const fs::path file = fs::path(REDUNDANCY_SOURCE_DIR) / "conf/redundancy.example.json";
  auto result = redundancy::load_config(file, no_env);
  BOOST_TEST_REQUIRE(result.has_value(), (result ? std::string() : result.error()));
  const config& c = *result;
  BOOST_TEST((c.pm2.processes == std::vector<std::string>{"zion-auto-sync", "zion-auto-sync-cron",
                                                          "redundancy-automation-system", "redundancy-health-monitor",
                                                          "redundancy-git-sync", "redundancy-build-monitor"}));
  BOOST_TEST(c.pm2.ecosystem_files.at(0).filename() == "ecosystem.pm2.cjs");
  BOOST_TEST(c.pm2.ecosystem_files.at(1).filename() == "ecosystem.redundancy.cjs");
  BOOST_TEST((c.github.workflows == std::vector<std::string>{"marketing-sync.yml", "sync-health.yml"}));
  BOOST_TEST(c.netlify.manifest == c.project_dir / "netlify/functions/functions-manifest.json");
  BOOST_TEST(c.project_dir == fs::path(REDUNDANCY_SOURCE_DIR) / "conf");
  // The example states every key: its effective config equals the defaults apart from the lists it
  // fills.
  json::value out = redundancy::to_redacted_json(c);
  json::value defaults = redundancy::to_redacted_json(config{});
  out.at("pm2").as_object()["processes"] = json::array{};
  out.at("github").as_object()["workflows"] = json::array{};
  for (auto* tree : {&out, &defaults})
    for (const char* key : {"project_dir", "state_dir", "log_dir"}) tree->as_object()[key] = "";
  for (auto* tree : {&out, &defaults}) {
    tree->at("pm2").as_object()["ecosystem_files"] = json::array{};
    for (const char* key : {"workflows_dir"}) tree->at("github").as_object()[key] = "";
    for (const char* key : {"functions_dir", "manifest"}) tree->at("netlify").as_object()[key] = "";
  }
  BOOST_TEST(json::serialize(out) == json::serialize(defaults));
}

BOOST_AUTO_TEST_CASE(the_example_states_every_key) {
  // Every key of the schema appears in the example, so it documents the whole schema.
  const fs::path file = fs::path(REDUNDANCY_SOURCE_DIR) / "conf/redundancy.example.json";
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  const json::value example = json::parse(text, {}, options);
  const json::value defaults = redundancy::to_redacted_json(config{});
  std::function<void(const json::object&, const json::object&, const std::string&)> compare =
      [&](const json::object& schema, const json::object& given, const std::string& path) {
        for (const auto& entry : schema) {
          const std::string key = path + std::string(entry.key());
          BOOST_TEST(given.contains(entry.key()), "example lacks " << key);
          if (entry.value().is_object() && given.contains(entry.key()) && given.at(entry.key()).is_object())
            compare(entry.value().get_object(), given.at(entry.key()).get_object(), key + ".");
        }
      };
  compare(defaults.get_object(), example.get_object(), "");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(public_routes_are_absolute_paths) {
  BOOST_TEST(parse_ok("{}").http.public_routes == (std::vector<std::string>{"/api/health", "/metrics"}));
  BOOST_TEST(parse_ok(R"({"http": {"public_routes": []}})").http.public_routes.empty());
  BOOST_TEST(parse_ok(R"({"http": {"public_routes": ["/api/status"]}})").http.public_routes ==
             (std::vector<std::string>{"/api/status"}));
  for (const char* bad : {"api/health", "", "/api/events?limit=1", "/a b"})
    CHECK_CONTAINS(parse_error(std::string(R"({"http": {"public_routes": ["/metrics", ")") + bad + "\"]}}"),
                   "http.public_routes[1]: expected an absolute path like \"/api/health\"");
  CHECK_CONTAINS(parse_error(R"({"http": {"public_routes": "/metrics"}})"), "http.public_routes");
}

BOOST_AUTO_TEST_CASE(changed_keys_names_each_changed_key_and_never_a_value) {
  const auto before = parse_ok(R"({"netlify": {"build_hook_url": "https://api.netlify.com/build_hooks/OLDSECRET"}})");
  BOOST_TEST(redundancy::changed_keys(before, before).empty());
  const auto after = parse_ok(R"({
    "http": {"listen": "127.0.0.1:9000"},
    "github": {"enabled": false, "local_execution": {"timeout": "1m"}},
    "netlify": {"functions_dir": "fn", "build_hook_url": "https://api.netlify.com/build_hooks/NEWSECRET"},
    "notify": {"webhooks": ["https://hooks.example/x"]}
  })");
  const auto changed = redundancy::changed_keys(before, after);
  const std::vector<std::string> expected{
      "http.listen",           "github.enabled",         "github.local_execution.timeout",
      "netlify.functions_dir", "netlify.build_hook_url", "notify.webhooks"};
  BOOST_TEST(changed == expected, boost::test_tools::per_element());
  for (const auto& key : changed) BOOST_TEST(key.find("SECRET") == std::string::npos);
}
