// The CLI's client commands, run as the real binary against a fake daemon on loopback that answers
// canned JSON in the API's shapes: exit codes, tables, --json, the token, --wait and finding the daemon.
#define BOOST_TEST_MODULE cli_client
#include <boost/test/unit_test.hpp>

#include "test_paths.hpp"

#include "redundancy/core/asio.hpp"
#include "redundancy/core/state_lock.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

namespace {

using namespace redundancy;
using tcp = asio::ip::tcp;
namespace fs = std::filesystem;

struct canned {
  unsigned status{200};
  std::string body{};
};

struct seen_request {
  std::string method{};
  std::string target{};
  std::string authorization{};
  std::string body{};
};

// A daemon stand-in on its own thread: answers "METHOD /path" (query stripped) from `routes`, 404 otherwise.
class fake_daemon {
 public:
  explicit fake_daemon(std::map<std::string, canned> routes)
      : routes_(std::move(routes)), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~fake_daemon() {
    ioc_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::vector<seen_request> requests() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
    }
  }

  awaitable<void> serve(tcp::socket socket) {
    std::string data;
    const auto head_end =
        co_await asio::async_read_until(socket, asio::dynamic_buffer(data), "\r\n\r\n", asio::use_awaitable);
    const std::string head = data.substr(0, head_end);
    auto header = [&head](const std::string& name) {
      const auto at = head.find("\r\n" + name + ": ");
      if (at == std::string::npos) return std::string();
      const auto start = at + name.size() + 4;
      return head.substr(start, head.find("\r\n", start) - start);
    };
    const auto length = header("Content-Length").empty() ? 0 : std::stoul(header("Content-Length"));
    if (data.size() < head_end + length)
      co_await asio::async_read(socket, asio::dynamic_buffer(data),
                                asio::transfer_exactly(head_end + length - data.size()), asio::use_awaitable);
    seen_request r;
    r.method = head.substr(0, head.find(' '));
    r.target = head.substr(r.method.size() + 1, head.find(' ', r.method.size() + 1) - r.method.size() - 1);
    r.authorization = header("Authorization");
    r.body = data.substr(head_end, length);
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(r);
    }
    canned answer{404, R"({"error":{"code":"not_found","message":"no such route"}})"};
    if (auto it = routes_.find(r.method + " " + r.target.substr(0, r.target.find('?'))); it != routes_.end())
      answer = it->second;
    const std::string reply = "HTTP/1.1 " + std::to_string(answer.status) +
                              " X\r\nContent-Type: application/json\r\n"
                              "Content-Length: " +
                              std::to_string(answer.body.size()) + "\r\nConnection: close\r\n\r\n" + answer.body;
    co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
  }

  std::map<std::string, canned> routes_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<seen_request> seen_;
};

struct cli_result {
  int code{-1};
  std::string out{};
  std::string err{};
};

std::string slurp(int fd) {
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return text;
}

// A scratch folder with a config whose state_dir is inside it; removed at the end of the test.
struct sandbox {
  fs::path dir;
  fs::path config_file;
  explicit sandbox(const std::string& listen) {
    dir =
        fs::temp_directory_path() / ("redundancy-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir / "state");
    config_file = dir / "redundancy.json";
    std::ofstream(config_file) << R"({"project_dir": ")" << dir.string() << R"(", "state_dir": ")"
                               << (dir / "state").string() << R"(", "http": {"listen": ")" << listen << R"("}})";
  }
  ~sandbox() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  inline static int counter = 0;

  // Runs the binary with `args` and --config, in `dir`, with a clean environment plus `env`.
  cli_result run(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    args.insert(args.begin(), REDUNDANCY_BINARY);
    args.push_back("--config");
    args.push_back(config_file.string());
    env.push_back("PATH=/usr/bin:/bin");
    int out[2];
    int err[2];
    BOOST_REQUIRE(::pipe(out) == 0 && ::pipe(err) == 0);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::close(out[0]);
      ::close(err[0]);
      if (::chdir(dir.c_str()) != 0) ::_exit(126);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      std::vector<char*> envp;
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    // stderr is small; read stdout first, then stderr, then reap.
    cli_result r;
    r.out = slurp(out[0]);
    r.err = slurp(err[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }
};

const std::string status_json =
    R"({"status":"degraded","checked_at":"2026-01-02T03:04:05Z",)"
    R"("subsystems":{"pm2":{"status":"healthy","summary":"2 apps online",)"
    R"("checked_at":"2026-01-02T03:04:05Z","next_check_at":"2026-01-02T03:04:35Z",)"
    R"("consecutive_failures":0,"paused_until":null,"targets":[{"name":"api",)"
    R"("status":"healthy","reason":"online","since":"2026-01-01T00:00:00Z"}]},)"
    R"("github":{"status":"degraded","summary":"1 workflow failing",)"
    R"("checked_at":"2026-01-02T03:04:05Z","next_check_at":null,"consecutive_failures":2,)"
    R"("paused_until":null,"targets":[{"name":"ci.yml","status":"unhealthy",)"
    R"("reason":"last run failed","since":"2026-01-02T00:00:00Z"}]},)"
    R"("netlify":{"status":"disabled","summary":"no functions","checked_at":null,)"
    R"("next_check_at":null,"consecutive_failures":0,"paused_until":null,"targets":[]}},)"
    R"("emergency":{"active":false,"attempts":0,"max_attempts":3},)"
    R"("daemon":{"version":"0.1.0","pid":42,"started_at":"2026-01-02T00:00:00Z","rss_bytes":1024}})";

const std::string unhealthy_health = R"({"status":"unhealthy","checked_at":"2026-01-02T03:04:05Z",)"
                                     R"("subsystems":{"pm2":{"status":"unhealthy","summary":"api errored",)"
                                     R"("checked_at":"2026-01-02T03:04:05Z"}},)"
                                     R"("emergency":{"active":false,"attempts":0,"max_attempts":3}})";

}  // namespace

BOOST_AUTO_TEST_CASE(status_prints_a_table_with_every_subsystem) {
  fake_daemon daemon({{"GET /api/status", {200, status_json}}});
  sandbox box(daemon.url().substr(7));
  const auto r = box.run({"status"});
  BOOST_TEST(r.code == 0, r.err);  // degraded still counts as working
  for (const auto* word : {"pm2", "healthy", "github", "degraded", "netlify", "disabled", "pm2/api", "github/ci.yml",
                           "unhealthy", "2 apps online", "last run failed"})
    BOOST_TEST(r.out.find(word) != std::string::npos, "missing '" << word << "' in:\n" << r.out);
  BOOST_TEST(r.out.find("\x1b[") == std::string::npos);  // not a terminal: no colour
}

BOOST_AUTO_TEST_CASE(json_passes_the_daemons_answer_through) {
  fake_daemon daemon({{"GET /api/status", {200, status_json}}});
  sandbox box("127.0.0.1:1");
  const auto r = box.run({"status", "--json", "--url", daemon.url()});
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(r.out == status_json + "\n");
}

BOOST_AUTO_TEST_CASE(health_exit_code_follows_the_http_status) {
  fake_daemon sick({{"GET /api/health", {503, unhealthy_health}}});
  sandbox box("127.0.0.1:1");
  auto r = box.run({"health"}, {"REDUNDANCY_URL=" + sick.url()});
  BOOST_TEST(r.code == 1, r.err);
  BOOST_TEST(r.out.find("api errored") != std::string::npos, r.out);

  fake_daemon well({{"GET /api/health", {200, status_json}}});
  r = box.run({"health"}, {"REDUNDANCY_URL=" + well.url()});
  BOOST_TEST(r.code == 0, r.err);
}

BOOST_AUTO_TEST_CASE(status_of_an_unhealthy_daemon_exits_1) {
  fake_daemon daemon({{"GET /api/status", {200, unhealthy_health}}});
  sandbox box(daemon.url().substr(7));
  BOOST_TEST(box.run({"status"}).code == 1);
}

BOOST_AUTO_TEST_CASE(nothing_listening_exits_3) {
  std::string url;
  {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    url = "127.0.0.1:" + std::to_string(probe.local_endpoint().port());
  }
  sandbox box(url);
  const auto r = box.run({"health"});
  BOOST_TEST(r.code == 3);
  BOOST_TEST(r.err.find("connection refused") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(refused_token_exits_3) {
  fake_daemon daemon({{"POST /api/check", {401, R"({"error":{"code":"unauthorized","message":"bad token"}})"}}});
  sandbox box(daemon.url().substr(7));
  const auto r = box.run({"check"}, {"REDUNDANCY_TOKEN=wrong"});
  BOOST_TEST(r.code == 3);
  BOOST_TEST(r.err.find("bad token") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(token_comes_from_the_environment_then_the_token_file) {
  fake_daemon daemon({{"POST /api/check", {202, R"({"action_id":7})"}}});
  sandbox box(daemon.url().substr(7));
  std::ofstream(box.dir / "state" / "token") << "from-file-0123\n";

  auto r = box.run({"check", "pm2"}, {"REDUNDANCY_TOKEN=from-env-4567"});
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(r.out.find("action 7 queued") != std::string::npos, r.out);
  r = box.run({"pm2", "check"});
  BOOST_TEST(r.code == 0, r.err);

  const auto seen = daemon.requests();
  BOOST_TEST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0].authorization == "Bearer from-env-4567");
  BOOST_TEST(seen[1].authorization == "Bearer from-file-0123");
  BOOST_TEST(seen[0].body == R"({"subsystem":"pm2"})");
  BOOST_TEST(seen[1].body == R"({"subsystem":"pm2"})");
}

BOOST_AUTO_TEST_CASE(actions_post_their_documented_bodies) {
  fake_daemon daemon({{"POST /api/pm2/restart", {202, R"({"action_id":1})"}},
                      {"POST /api/github/trigger", {202, R"({"action_id":2})"}},
                      {"POST /api/netlify/deploy", {202, R"({"action_id":3})"}},
                      {"POST /api/pause", {200, R"({"target":"pm2/api","paused_until":"2026-01-02T04:00:00Z"})"}},
                      {"POST /api/resume", {200, R"({"target":"pm2/api","paused_until":null})"}},
                      {"GET /api/events",
                       {200, R"({"events":[{"id":1,"ts":"2026-01-02T03:00:00Z","subsystem":"pm2",)"
                             R"("target":"api","kind":"restart","severity":"warning",)"
                             R"("message":"restarted api","data":{}}]})"}}});
  sandbox box(daemon.url().substr(7));
  const std::vector<std::string> env{"REDUNDANCY_TOKEN=t"};
  BOOST_TEST(box.run({"pm2", "restart", "api"}, env).code == 0);
  BOOST_TEST(box.run({"github", "trigger", "ci.yml", "--dispatch"}, env).code == 0);
  BOOST_TEST(box.run({"netlify", "deploy"}, env).code == 0);
  auto r = box.run({"pause", "pm2/api", "--for", "30m", "--reason", "maintenance"}, env);
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(r.out.find("paused pm2/api until 2026-01-02T04:00:00Z") != std::string::npos, r.out);
  BOOST_TEST(box.run({"resume", "pm2/api"}, env).code == 0);
  r = box.run({"events", "--limit", "5", "--subsystem", "pm2"});
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(r.out.find("restarted api") != std::string::npos, r.out);

  const auto seen = daemon.requests();
  BOOST_TEST_REQUIRE(seen.size() == 6u);
  BOOST_TEST(seen[0].body == R"({"app":"api"})");
  BOOST_TEST(seen[1].body == R"({"workflow":"ci.yml","mode":"dispatch"})");
  BOOST_TEST(seen[2].target == "/api/netlify/deploy");
  BOOST_TEST(seen[3].body == R"({"target":"pm2/api","for":"30m","reason":"maintenance"})");
  BOOST_TEST(seen[4].body == R"({"target":"pm2/api"})");
  BOOST_TEST(seen[5].target == "/api/events?limit=5&subsystem=pm2");
}

BOOST_AUTO_TEST_CASE(wait_follows_the_action_to_its_end) {
  fake_daemon daemon({{"POST /api/emergency", {202, R"({"action_id":9})"}},
                      {"GET /api/actions/9",
                       {200, R"({"id":9,"kind":"emergency","subsystem":"orchestrator",)"
                             R"("target":"","requested_by":"api","state":"failed",)"
                             R"("steps":[{"name":"restart pm2","ok":false,"detail":"boom"}],)"
                             R"("output_tail":"pm2: not found"})"}},
                      {"POST /api/check", {202, R"({"action_id":10})"}},
                      {"GET /api/actions/10",
                       {200, R"({"id":10,"kind":"check","subsystem":"orchestrator",)"
                             R"("state":"succeeded","steps":[]})"}}});
  sandbox box(daemon.url().substr(7));
  auto r = box.run({"emergency", "--wait"}, {"REDUNDANCY_TOKEN=t"});
  BOOST_TEST(r.code == 1, r.err);
  BOOST_TEST(r.out.find("failed") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("boom") != std::string::npos, r.out);
  r = box.run({"check", "--wait"}, {"REDUNDANCY_TOKEN=t"});
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(r.out.find("succeeded") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(a_running_emergency_is_a_failed_action) {
  fake_daemon daemon({{"POST /api/emergency",
                       {409, R"({"error":{"code":"conflict","message":"already running"},)"
                             R"("action_id":4})"}}});
  sandbox box(daemon.url().substr(7));
  const auto r = box.run({"emergency"}, {"REDUNDANCY_TOKEN=t"});
  BOOST_TEST(r.code == 1);
  BOOST_TEST(r.err.find("already running") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("4") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(a_request_the_daemon_finds_wrong_is_a_usage_error) {
  fake_daemon daemon(
      {{"POST /api/github/trigger",
        {404,
         R"({"error":{"code":"not_found","message":"no workflow '/tmp/evil.yml'; the watched workflows are sync.yml"}})"}},
       {"POST /api/pause",
        {400, R"({"error":{"code":"bad_request","message":"for: expected a duration of at most 3650d"}})"}}});
  sandbox box(daemon.url().substr(7));
  auto r = box.run({"github", "trigger", "/tmp/evil.yml"}, {"REDUNDANCY_TOKEN=t"});
  BOOST_TEST(r.code == 2, r.err);
  BOOST_TEST(r.err.find("the watched workflows are sync.yml") != std::string::npos, r.err);
  r = box.run({"pause", "pm2", "--for", "100000d"}, {"REDUNDANCY_TOKEN=t"});
  BOOST_TEST(r.code == 2, r.err);
  BOOST_TEST(r.err.find("at most 3650d") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(port_zero_reads_the_address_the_daemon_wrote) {
  fake_daemon daemon({{"GET /api/health", {200, status_json}}});
  sandbox box("127.0.0.1:0");
  auto r = box.run({"health"});
  BOOST_TEST(r.code == 3);  // no http.addr yet: nowhere to go
  BOOST_TEST(r.err.find("http.addr") != std::string::npos, r.err);
  std::ofstream(box.dir / "state" / "http.addr") << daemon.url().substr(7) << "\n";
  // Left by a daemon that ended: nobody holds the state folder's lock.
  r = box.run({"health"});
  BOOST_TEST(r.code == 3);
  BOOST_TEST(r.err.find("no daemon runs on state_dir") != std::string::npos, r.err);
  // This test stands in for the running daemon that wrote it.
  auto lock = state_lock::take(box.dir / "state");
  BOOST_TEST_REQUIRE(lock.has_value());
  r = box.run({"health"});
  BOOST_TEST(r.code == 0, r.err);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
  sandbox box("127.0.0.1:1");
  BOOST_TEST(box.run({"pause", "pm2"}).code == 2);  // --for is required
  BOOST_TEST(box.run({"github", "trigger", "--local", "--dispatch"}).code == 2);
  BOOST_TEST(box.run({"events", "--limit", "0"}).code == 2);
}
