// Availability on known event histories (the pure computation), the report body's shape, the
// report file's name, and the removal of report files older than the retention.
#define BOOST_TEST_MODULE report
#include <boost/test/unit_test.hpp>

#include "redundancy/orchestrator/report.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <sstream>

using namespace redundancy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const sys_time t0 = std::chrono::sys_days{std::chrono::year{2024} / 5 / 10} + 12h;

std::int64_t next_id = 0;

event status_event(std::string subsystem, std::string target, sys_time ts, std::string state,
                   std::string kind = "status_changed") {
  return event{.id = ++next_id,
               .ts = ts,
               .subsystem = std::move(subsystem),
               .target = std::move(target),
               .kind = std::move(kind),
               .severity = "info",
               .message = {},
               .data = {{"status", state}}};
}

event daemon_started(sys_time ts) {
  return event{.id = ++next_id,
               .ts = ts,
               .subsystem = "orchestrator",
               .target = "",
               .kind = "daemon_started",
               .severity = "info",
               .message = {},
               .data = {}};
}

double ratio(const availability_map& m, const std::string& key) {
  auto it = m.find(key);
  BOOST_TEST_REQUIRE((it != m.end()), "no figure for " << key);
  auto r = it->second.ratio();
  BOOST_TEST_REQUIRE(r.has_value(), "no known time for " << key);
  return *r;
}

using redundancy::test::temp_dir;

}  // namespace

BOOST_AUTO_TEST_CASE(six_hours_down_in_a_day_is_75_percent) {
  // Healthy since long before the window, down from -12 h to -6 h, healthy again.
  const std::vector<event> history{
      status_event("pm2", "api", t0 - 10 * 24h, "healthy", "status_observed"),
      status_event("pm2", "api", t0 - 12h, "unhealthy"),
      status_event("pm2", "api", t0 - 6h, "healthy"),
  };
  const auto day = compute_availability(history, t0 - 24h, t0);
  BOOST_TEST(ratio(day, "pm2/api") == 0.75, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(day.at("pm2/api").known.count() == std::chrono::milliseconds(24h).count());
  const auto week = compute_availability(history, t0 - 7 * 24h, t0);
  BOOST_TEST(ratio(week, "pm2/api") == 1.0 - 6.0 / 168.0, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(order_of_the_input_does_not_matter_and_keys_are_separate) {
  std::vector<event> history{
      status_event("github", "", t0 - 3h, "healthy"),
      status_event("github", "", t0 - 4h, "unhealthy"),
      status_event("netlify", "hello", t0 - 4h, "degraded"),
  };
  const auto m = compute_availability(history, t0 - 4h, t0);
  BOOST_TEST(ratio(m, "github") == 0.75, boost::test_tools::tolerance(1e-9));
  // Degraded is working, with warnings: available.
  BOOST_TEST(ratio(m, "netlify/hello") == 1.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(m.count("pm2") == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_paused_and_unwatched_time_count_neither_way) {
  const std::vector<event> history{
      status_event("pm2", "api", t0 - 10h, "unhealthy"),
      status_event("pm2", "api", t0 - 9h, "paused"),   // maintenance: not counted
      status_event("pm2", "api", t0 - 7h, "healthy"),  // 1 h down, then healthy
      daemon_started(t0 - 5h),                         // the daemon was down before this: unknown
      status_event("pm2", "api", t0 - 4h, "unknown"),
      status_event("pm2", "api", t0 - 3h, "healthy"),
  };
  const auto m = compute_availability(history, t0 - 10h, t0);
  const auto& f = m.at("pm2/api");
  // Known: 1 h unhealthy + 2 h healthy (-7 h to -5 h) + 3 h healthy (-3 h to now).
  BOOST_TEST(f.known.count() == std::chrono::milliseconds(6h).count());
  BOOST_TEST(f.available.count() == std::chrono::milliseconds(5h).count());
}

BOOST_AUTO_TEST_CASE(nothing_known_is_no_figure_not_zero) {
  const std::vector<event> history{
      status_event("pm2", "api", t0 - 2h, "disabled"),
      status_event("github", "", t0 + 1h, "healthy"),  // after the window
  };
  const auto m = compute_availability(history, t0 - 24h, t0);
  BOOST_TEST(!m.at("pm2/api").ratio().has_value());
  BOOST_TEST((m.count("github") == 0u || !m.at("github").ratio().has_value()));
}

BOOST_AUTO_TEST_CASE(report_body_puts_figures_on_subsystems_and_targets) {
  const std::vector<event> history{
      status_event("pm2", "", t0 - 48h, "healthy", "status_observed"),
      status_event("pm2", "api", t0 - 48h, "healthy", "status_observed"),
      status_event("pm2", "api", t0 - 12h, "unhealthy"),
      status_event("pm2", "api", t0 - 6h, "healthy"),
  };
  report_inputs in;
  in.status = boost::json::parse(R"({"status": "healthy", "subsystems": {"pm2": {"status": "healthy",
      "targets": [{"name": "api", "status": "healthy"}, {"name": "worker", "status": "healthy"}]}}})")
                  .as_object();
  in.last_day = {history[2], history[3]};
  in.history = history;
  in.daemon = {.pid = 42, .started_at = t0 - 1h, .rss_bytes = 1024.0, .cpu_seconds = 0.5};
  in.now = t0;
  const auto r = build_report(std::move(in));
  const auto& pm2 = r.at("subsystems").at("pm2");
  BOOST_TEST(pm2.at("availability").at("24h").as_double() == 1.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(pm2.at("availability").at("7d").as_double() == 1.0, boost::test_tools::tolerance(1e-9));
  const auto& api = pm2.at("targets").as_array().at(0);
  BOOST_TEST(api.at("availability").at("24h").as_double() == 0.75, boost::test_tools::tolerance(1e-9));
  // Known for 48 h of the week, 6 h of it down.
  BOOST_TEST(api.at("availability").at("7d").as_double() == 42.0 / 48.0, boost::test_tools::tolerance(1e-9));
  // A target with no history has no figure rather than a made-up one.
  BOOST_TEST(pm2.at("targets").as_array().at(1).at("availability").at("24h").is_null());
  BOOST_TEST(r.at("events").as_array().size() == 2u);
  BOOST_TEST(r.at("daemon").at("pid").as_int64() == 42);
  BOOST_TEST(r.at("daemon").at("uptime_seconds").as_double() == 3600.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(r.at("daemon").at("rss_bytes").as_double() == 1024.0);
  BOOST_TEST(r.at("generated_at").as_string() == to_rfc3339(t0));
}

BOOST_AUTO_TEST_CASE(a_subsystem_with_many_targets_lists_a_bounded_number_the_broken_first) {
  // 250,000 targets' rows made a 99 MB report.
  boost::json::array targets;
  for (int i = 0; i < 10'000; ++i)
    targets.push_back({{"name", "app" + std::to_string(i)},
                       {"status", i % 2500 == 7 ? "unhealthy" : "healthy"},
                       {"detail", {{"kind", "app"}, {"padding", std::string(200, 'x')}}}});
  report_inputs in;
  in.status = {{"status", "unhealthy"},
               {"subsystems", {{"pm2", {{"status", "unhealthy"}, {"targets", std::move(targets)}}}}}};
  in.now = t0;
  const auto r = build_report(std::move(in));
  const auto& pm2 = r.at("subsystems").at("pm2");
  const auto& listed = pm2.at("targets").as_array();
  BOOST_TEST(listed.size() == 1'000u);
  BOOST_TEST(pm2.at("targets_total").as_uint64() == 10'000u);
  BOOST_TEST(std::string(pm2.at("targets_truncated").as_string()).find("1000 of 10000") != std::string::npos);
  // The four unhealthy ones come first, in their order.
  std::size_t i = 0;
  for (const auto* name : {"app7", "app2507", "app5007", "app7507"})
    BOOST_TEST(listed[i++].at("name").as_string() == name);
  BOOST_TEST(listed[3].at("status").as_string() == "unhealthy");
  BOOST_TEST(listed[4].at("status").as_string() == "healthy");
  BOOST_TEST(boost::json::serialize(r).size() < 1'000'000u);
}

BOOST_AUTO_TEST_CASE(report_file_is_the_days_json_and_old_ones_go) {
  temp_dir dir;
  BOOST_TEST(report_file_name(t0) == "health-report-2024-05-10.json");
  std::ofstream(dir.path() / "health-report-2024-04-01.json") << "{}";  // older than the retention
  std::ofstream(dir.path() / "health-report-2024-05-09.json") << "{}";  // kept
  std::ofstream(dir.path() / "health-report-notes.txt") << "x";         // not a report: left alone
  const boost::json::object body{{"status", "healthy"}};
  const auto error = write_report_file(dir.path(), body, t0, t0 - 30 * 24h);
  BOOST_TEST(!error.has_value());
  const auto text = redundancy::test::read_existing_text(dir.path() / "health-report-2024-05-10.json");
  BOOST_TEST(boost::json::parse(text).at("status").as_string() == "healthy");
  BOOST_TEST(!fs::exists(dir.path() / "health-report-2024-04-01.json"));
  BOOST_TEST(fs::exists(dir.path() / "health-report-2024-05-09.json"));
  BOOST_TEST(fs::exists(dir.path() / "health-report-notes.txt"));
  // Written again the same day: replaced, no temporary left behind.
  BOOST_TEST(!write_report_file(dir.path(), {{"status", "degraded"}}, t0 + 1h, t0 - 30 * 24h).has_value());
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++files;
  BOOST_TEST(files == 3u);
}
