// Secrets against the real daemon: started with REDUNDANCY_TOKEN, GITHUB_TOKEN and an unrelated cloud
// secret in its environment, and a webhook URL in its config, it runs a `pm2` (the fake tool behind a
// script that prints its whole environment and the webhook URL): no child sees the environment's
// secrets, the config's secret is masked in the stored and served output, neither reaches the history
// file or the logs, and those files are private (redundancy.db 0600, logs and reports 0640).
#define BOOST_TEST_MODULE integration_core_secrets
#include <boost/test/unit_test.hpp>

#include "integration/faults/fake_pm2.hpp"

#include <sys/stat.h>

using namespace redundancy::test;

namespace {

constexpr std::string_view github_token = "ghp_secretgithubtoken0123456789";
constexpr std::string_view cloud_secret = "cloud-secret-value-0123456789";
constexpr std::string_view webhook_url = "http://127.0.0.1:9/hooks/webhook-secret-0123456789";

unsigned mode_of(const fs::path& file) {
  struct stat st {};
  ::lstat(file.c_str(), &st);
  return st.st_mode & 07777;
}

// The bytes of every regular file under `folder`.
std::vector<std::pair<fs::path, std::string>> files_under(const fs::path& folder) {
  std::vector<std::pair<fs::path, std::string>> out;
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file()) out.emplace_back(entry.path(), read_text(entry.path()));
  return out;
}

void check_no_secret_in(std::string_view where, std::string_view text) {
  for (const std::string_view secret : {fault_token, github_token, cloud_secret, webhook_url})
    BOOST_TEST(text.find(secret) == std::string_view::npos, where << " holds " << secret);
}

}  // namespace

BOOST_AUTO_TEST_CASE(no_child_output_answer_history_or_log_holds_a_secret_and_the_files_are_private) {
  temp_dir scripts;
  const auto pm2 = scripts.path() / "pm2";
  fake_pm2_project p(pm2.string(), R"({ "interval": "300ms", "report_interval": "1s" })");
  // The pm2 command: prints its environment and the webhook URL on stderr (which goes into the
  // action's output), then is the fake tool.
  write_text(pm2, "#!/bin/sh\nenv >&2\necho \"posting to " + std::string(webhook_url) + "\" >&2\nexec \"" +
                      p.fake_tool() + "\" \"" + p.tool.string() + "\" \"$@\"\n");
  fs::permissions(pm2, fs::perms::owner_all);
  auto config = read_text(p.config_file);
  config.insert(config.find('{') + 1, R"("notify": { "webhooks": [")" + std::string(webhook_url) + R"("] },)");
  write_text(p.config_file, config);
  p.env["GITHUB_TOKEN"] = std::string(github_token);
  p.env["TEST_CLOUD_SECRET"] = std::string(cloud_secret);
  p.mode("ok");
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "healthy"));

  auto posted = http_post(p.address, "/api/pm2/restart", R"({"app":"web"})", std::string(fault_token));
  BOOST_TEST_REQUIRE(posted.status == 202, posted.body);
  const auto id = std::to_string(json::parse(posted.body).at("action_id").as_int64());
  BOOST_TEST_REQUIRE(wait_for([&] { return p.get("/api/actions/" + id).at("state").as_string() != "running"; }));
  const auto served = http_get(p.address, "/api/actions/" + id);
  const auto action = json::parse(served.body).as_object();
  const std::string output(action.at("output_tail").as_string());
  // The child printed its environment (the base and what pm2 needs) and the config's secret, masked.
  BOOST_TEST(output.find("PM2_HOME=" + p.home.string()) != std::string::npos, output);
  BOOST_TEST(output.find("PATH=") != std::string::npos, output);
  BOOST_TEST(output.find("posting to ***") != std::string::npos, output);
  // No variable of the daemon's own, no token, no secret the daemon was started with.
  BOOST_TEST(output.find("REDUNDANCY_") == std::string::npos, output);
  BOOST_TEST(output.find("GITHUB_TOKEN") == std::string::npos, output);
  BOOST_TEST(output.find("TEST_CLOUD_SECRET") == std::string::npos, output);
  check_no_secret_in("GET /api/actions/" + id, served.body);
  check_no_secret_in("GET /api/actions", http_get(p.address, "/api/actions").body);
  check_no_secret_in("GET /api/events", http_get(p.address, "/api/events?limit=1000").body);
  // A health report has been written (report_interval 1s) before the files are looked at.
  BOOST_TEST(wait_for([&] {
    for (const auto& entry : fs::directory_iterator(p.logs))
      if (entry.path().filename().string().starts_with("health-report-")) return true;
    return false;
  }));

  // The files, while the daemon runs (with -wal and -shm) and after it stopped.
  for (const char* suffix : {"", "-wal", "-shm"})
    if (const auto file = fs::path(p.state.string() + "/redundancy.db" + suffix); fs::exists(file))
      BOOST_TEST(mode_of(file) == 0600u, file << " has mode " << std::oct << mode_of(file));
  BOOST_TEST(mode_of(p.state / "redundancy.db") == 0600u);
  for (const auto& [file, content] : files_under(p.logs))
    BOOST_TEST(mode_of(file) == 0640u, file << " has mode " << std::oct << mode_of(file));
  const auto err = p.process->err();  // the log lines on stderr
  p.stop();
  check_no_secret_in("the daemon's stderr", err);
  for (const auto& [file, content] : files_under(p.state)) check_no_secret_in(file.string(), content);
  for (const auto& [file, content] : files_under(p.logs)) check_no_secret_in(file.string(), content);
  BOOST_TEST(mode_of(p.state / "redundancy.db") == 0600u);
}

BOOST_AUTO_TEST_CASE(a_secret_a_tool_prints_on_stderr_is_masked_in_every_event) {
  temp_dir scripts;
  const auto pm2 = scripts.path() / "pm2";
  fake_pm2_project p(pm2.string(), R"({ "interval": "300ms" })");
  // `pm2 jlist` fails quoting the webhook URL: the health's reason, and so the status event, quote it.
  write_text(pm2, "#!/bin/sh\nif [ \"$1\" = jlist ]; then echo \"cannot post to " + std::string(webhook_url) +
                      "\" >&2; exit 3; fi\nexec \"" + p.fake_tool() + "\" \"" + p.tool.string() + "\" \"$@\"\n");
  fs::permissions(pm2, fs::perms::owner_all);
  auto config = read_text(p.config_file);
  config.insert(config.find('{') + 1, R"("notify": { "webhooks": [")" + std::string(webhook_url) + R"("] },)");
  write_text(p.config_file, config);
  p.mode("ok");
  p.start();
  BOOST_TEST_REQUIRE(p.wait_status("pm2", "unknown"));
  std::string events;
  BOOST_TEST(wait_for([&] {
               events = http_get(p.address, "/api/events?limit=1000").body;
               return events.find("cannot post to ***") != std::string::npos;
             }),
             events);
  check_no_secret_in("GET /api/events", events);
  const auto err = p.process->err();
  p.stop();
  check_no_secret_in("redundancy.db", read_text(p.state / "redundancy.db"));
  check_no_secret_in("the daemon's stderr", err);
}
