// conf/prometheus/: the rules pass `promtool check rules`, the example config with the scrape job passes
// `promtool check config`, and `promtool test rules` shows the alerts fire when they should and only then.
#define BOOST_TEST_MODULE prometheus
#include <boost/test/unit_test.hpp>

#include "integration/package/programs.hpp"

using namespace redundancy::test;
namespace utf = boost::unit_test;

namespace {

const std::filesystem::path folder = std::filesystem::path(REDUNDANCY_SOURCE_DIR) / "conf" / "prometheus";
const std::filesystem::path rules = folder / "redundancy.rules.yml";

struct has_promtool {
  boost::test_tools::assertion_result operator()(utf::test_unit_id) const {
    boost::test_tools::assertion_result found(on_path("promtool"));
    found.message() << "promtool is not installed (tools/bootstrap installs the prometheus package): skipping";
    return found;
  }
};

// Runs `promtool test rules` against the rules file: one test with `series` (the items of input_series,
// sampled every 30 s) and `alerts` (the items of alert_rule_test).
command_result promtool_test(const std::string& series, const std::string& alerts) {
  const temp_dir dir;
  const auto file = dir.path() / "alerts.test.yml";
  write_text(file, "rule_files:\n  - " + rules.string() + "\nevaluation_interval: 30s\ntests:\n" +
                       "  - interval: 30s\n    input_series:" + series + "    alert_rule_test:" + alerts);
  return run_command({"promtool", "test", "rules", file.string()});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prometheus, *utf::precondition(has_promtool()))

BOOST_AUTO_TEST_CASE(promtool_check_rules_accepts_the_rules) {
  const auto result = run_command({"promtool", "check", "rules", rules.string()});
  BOOST_TEST(result.exit_code == 0, result.output);
  BOOST_TEST(result.output.find("SUCCESS: 3 rules found") != std::string::npos, result.output);
}

BOOST_AUTO_TEST_CASE(promtool_check_config_accepts_the_scrape_job) {
  const auto result = run_command({"promtool", "check", "config", (folder / "prometheus.yml").string()});
  BOOST_TEST(result.exit_code == 0, result.output);
  BOOST_TEST(result.output.find("SUCCESS: 1 rule files found") != std::string::npos, result.output);
  const auto text = read_text(folder / "prometheus.yml");
  BOOST_TEST(text.find("job_name: redundancy") != std::string::npos);
  BOOST_TEST(text.find("metrics_path: /metrics") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unhealthy_fires_after_five_minutes_but_not_for_a_disabled_subsystem) {
  const auto result = promtool_test(R"(
      - series: 'redundancy_subsystem_healthy{instance="h:8686", subsystem="pm2"}'
        values: '0x20'
      - series: 'redundancy_subsystem_status{instance="h:8686", subsystem="pm2", status="unhealthy"}'
        values: '1x20'
      - series: 'redundancy_subsystem_healthy{instance="h:8686", subsystem="github"}'
        values: '0x20'
      - series: 'redundancy_subsystem_status{instance="h:8686", subsystem="github", status="disabled"}'
        values: '1x20'
      - series: 'redundancy_subsystem_healthy{instance="h:8686", subsystem="netlify"}'
        values: '1x20'
)",
                                    R"(
      - eval_time: 4m
        alertname: RedundancySubsystemUnhealthy
        exp_alerts: []
      - eval_time: 6m
        alertname: RedundancySubsystemUnhealthy
        exp_alerts:
          - exp_labels: {severity: warning, instance: "h:8686", subsystem: pm2}
            exp_annotations:
              summary: "redundancy: pm2 unhealthy for 5 minutes"
              description: "`redundancy status` or GET /api/subsystems/pm2 tells which target and why."
)");
  BOOST_TEST(result.exit_code == 0, result.output);
}

BOOST_AUTO_TEST_CASE(emergency_given_up_fires_only_after_the_last_attempt) {
  const auto result = promtool_test(R"(
      - series: 'redundancy_emergency_active{instance="h:8686"}'
        values: '0 1 1 1 1 1 1 1 1 1 1 1'
      - series: 'redundancy_emergency_attempts{instance="h:8686"}'
        values: '0 1 1 2 2 3 3 3 3 3 3 3'
)",
                                    R"(
      - eval_time: 2m
        alertname: RedundancyEmergencyGivenUp
        exp_alerts: []
      - eval_time: 5m
        alertname: RedundancyEmergencyGivenUp
        exp_alerts:
          - exp_labels: {severity: critical, instance: "h:8686"}
            exp_annotations:
              summary: "redundancy emergency recovery gave up on h:8686"
              description: "3 emergency attempts failed; no more automatic attempts until a person acts."
)");
  BOOST_TEST(result.exit_code == 0, result.output);
}

BOOST_AUTO_TEST_CASE(a_wrong_expectation_fails) {
  // The two tests above can fail: an alert expected too early is reported.
  const auto result = promtool_test(R"(
      - series: 'up{job="redundancy", instance="h:8686"}'
        values: '0x10'
)",
                                    R"(
      - eval_time: 1m
        alertname: RedundancyDown
        exp_alerts:
          - exp_labels: {severity: critical, job: redundancy, instance: "h:8686"}
)");
  BOOST_TEST(result.exit_code != 0, result.output);
  BOOST_TEST(result.output.find("RedundancyDown") != std::string::npos, result.output);
}

BOOST_AUTO_TEST_SUITE_END()
