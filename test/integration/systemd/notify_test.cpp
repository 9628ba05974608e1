// The real daemon speaking sd_notify to a test-owned socket in $NOTIFY_SOCKET (a path and an
// abstract name): READY=1 only once the port is bound and answering, STATUS= after each check,
// WATCHDOG=1 at half of $WATCHDOG_USEC and none while the loop is stuck, RELOADING=1/READY=1 around
// SIGHUP, STOPPING=1 on SIGTERM; never READY when the port or the config is bad; every message from
// the daemon's own pid.
#define BOOST_TEST_MODULE systemd_notify_daemon
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <random>

#include "redundancy/systemd/status_line.hpp"
#include "support/daemon.hpp"
#include "support/notify_socket.hpp"
#include "support/proc.hpp"

using namespace redundancy::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string unique(std::string_view prefix) {
  std::random_device random;
  return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(random());
}

// GitHub and Netlify on, with nothing to watch in an empty project: checks that are real, quick and
// need no network, every second.
std::string checking_config(const fs::path& dir) {
  return R"({
    "project_dir": ")" +
         dir.string() + R"(",
    "state_dir": "state", "log_dir": "logs",
    "http": { "listen": "127.0.0.1:0" },
    "pm2": { "enabled": false },
    "github": { "interval": "1s" },
    "netlify": { "interval": "1s" },
    "orchestrator": { "interval": "1s" }
  })";
}

long long monotonic_usec() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

std::vector<notify_message> since(const notify_socket& s, std::size_t from) {
  auto all = s.messages();
  return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
}

std::vector<std::chrono::steady_clock::time_point> pings_in(const std::vector<notify_message>& messages) {
  std::vector<std::chrono::steady_clock::time_point> at;
  for (const auto& m : messages)
    if (m.has("WATCHDOG=1")) at.push_back(m.at);
  return at;
}

// A config file that is a FIFO: each read of it waits until the test serves the text. A reload then
// blocks the daemon's event loop in open() for as long as the test wants, a real stall of the
// thread that sends the keep-alives.
class config_pipe {
 public:
  config_pipe(fs::path path, std::string text) : path_(std::move(path)), text_(std::move(text)) {
    if (::mkfifo(path_.c_str(), 0600) != 0) throw std::runtime_error("mkfifo " + path_.string());
    writer_ = std::thread([this] { serve(); });
  }
  ~config_pipe() {
    done_ = true;
    writer_.join();
  }
  // The next read of the file (only that one) gets the text.
  void serve_once() { pending_ = true; }
  int served() const { return served_; }

 private:
  void serve() {
    while (!done_) {
      if (!pending_) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      // Non-blocking: succeeds only while a reader waits in open(), ENXIO otherwise.
      const int fd = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      ::fcntl(fd, F_SETFL, 0);
      const auto written = ::write(fd, text_.data(), text_.size());
      // Counted before the close: the reader sees the end of the file, and so can answer, only after.
      if (written == static_cast<ssize_t>(text_.size())) {
        pending_ = false;
        ++served_;
      }
      ::close(fd);
    }
  }

  fs::path path_;
  std::string text_;
  std::atomic<bool> pending_{false};
  std::atomic<bool> done_{false};
  std::atomic<int> served_{0};
  std::thread writer_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(ready_once_the_port_answers_then_a_status_after_each_check_and_stopping_on_sigterm) {
  temp_dir dir;
  notify_socket listener((dir.path() / "notify.sock").string());
  const auto file = dir.path() / "redundancy.json";
  write_text(file, checking_config(dir.path()));
  daemon_process d(file, dir.path(), {{"NOTIFY_SOCKET", listener.name()}});

  const auto ready = listener.wait_for("READY=1");
  BOOST_TEST_REQUIRE(ready.has_value(), d.err());
  // The port was 0: the address READY names is the one bound, so READY came after the bind.
  const auto address = read_text(dir.path() / "state" / "http.addr");
  BOOST_TEST_REQUIRE(!address.empty());
  const auto ready_message = listener.messages()[*ready];
  BOOST_TEST(ready_message.value("STATUS").value_or("(none)") ==
             "starting: listening on http://" + address.substr(0, address.size() - 1) + "/");
  BOOST_TEST(ready_message.sender == d.pid());
  BOOST_TEST(http_get(address.substr(0, address.size() - 1), "/api/health").status == 200);
  // Nothing before READY but READY itself.
  BOOST_TEST(*ready == 0u);

  // One STATUS per check result, both subsystems checked every second.
  auto status_count = [&] {
    std::size_t n = 0;
    for (const auto& m : listener.messages()) n += m.value("STATUS") && !m.has("READY=1") ? 1 : 0;
    return n;
  };
  BOOST_TEST_REQUIRE(eventually([&] { return status_count() >= 4; }, 30s), d.err());
  // The line is the health body's summary: once steady, the last one matches /api/health now.
  const auto addr = address.substr(0, address.size() - 1);
  bool matched = false;
  for (int attempt = 0; attempt < 50 && !matched; ++attempt) {
    const auto body = http_get(addr, "/api/health").body;
    const auto expected = redundancy::systemd::status_line(boost::json::parse(body).as_object());
    std::optional<std::string> last;
    for (const auto& m : listener.messages())
      if (auto s = m.value("STATUS"); s && !m.has("READY=1")) last = s;
    matched = last.value_or("(none)") == expected;
    if (!matched) std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(matched);
  std::optional<std::string> last;
  for (const auto& m : listener.messages()) {
    if (auto s = m.value("STATUS"); s && !m.has("READY=1")) last = s;
    BOOST_TEST(m.sender == d.pid());
  }
  BOOST_TEST_REQUIRE(last.has_value());
  BOOST_TEST(last->starts_with("healthy: github disabled ("), *last);
  BOOST_TEST(last->find("; netlify disabled (") != std::string::npos, *last);
  // No WATCHDOG_USEC: no keep-alives.
  BOOST_TEST(pings_in(listener.messages()).empty());

  const auto before_stop = listener.messages().size();
  BOOST_TEST_REQUIRE(d.signal_and_wait(SIGTERM, 5s).has_value());
  BOOST_TEST(d.exit_code() == 0);
  const auto stopping = listener.wait_for("STOPPING=1", before_stop, 5s);
  BOOST_TEST_REQUIRE(stopping.has_value());
  BOOST_TEST(listener.messages()[*stopping].sender == d.pid());
}

BOOST_AUTO_TEST_CASE(keep_alives_to_an_abstract_name_at_half_the_watchdog_timeout_and_none_after_stopping) {
  temp_dir dir;
  notify_socket listener(unique("@redundancy-notify-"));
  const auto file = dir.path() / "redundancy.json";
  write_text(file, checking_config(dir.path()));
  // 3 s timeout: a keep-alive every 1.5 s.
  daemon_process d(file, dir.path(), {{"NOTIFY_SOCKET", listener.name()}, {"WATCHDOG_USEC", "3000000"}});
  const auto ready = listener.wait_for("READY=1");
  BOOST_TEST_REQUIRE(ready.has_value(), d.err());
  BOOST_TEST(listener.messages()[*ready].sender == d.pid());

  BOOST_TEST_REQUIRE(eventually([&] { return pings_in(since(listener, *ready)).size() >= 5; }, 30s));
  const auto pings = pings_in(since(listener, *ready));
  for (std::size_t i = 1; i < pings.size(); ++i) {
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(pings[i] - pings[i - 1]);
    // Never early (a timer only fires late; 100 ms for the receiving side), and always before
    // systemd's timeout would end the service.
    BOOST_TEST(gap >= 1400ms, gap.count() << " ms");
    BOOST_TEST(gap < 3000ms, gap.count() << " ms");
  }
  for (const auto& m : listener.messages()) BOOST_TEST(m.sender == d.pid());

  BOOST_TEST_REQUIRE(d.signal_and_wait(SIGTERM, 5s).has_value());
  const auto stopping = listener.wait_for("STOPPING=1", 0, 5s);
  BOOST_TEST_REQUIRE(stopping.has_value());
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(pings_in(since(listener, *stopping)).empty());
}

BOOST_AUTO_TEST_CASE(a_watchdog_meant_for_another_pid_gets_no_keep_alives) {
  temp_dir dir;
  notify_socket listener((dir.path() / "notify.sock").string());
  const auto file = dir.path() / "redundancy.json";
  write_text(file, checking_config(dir.path()));
  // As a child of the service's main process would inherit it.
  daemon_process d(file, dir.path(),
                   {{"NOTIFY_SOCKET", listener.name()}, {"WATCHDOG_USEC", "400000"}, {"WATCHDOG_PID", "1"}});
  BOOST_TEST_REQUIRE(listener.wait_for("READY=1").has_value(), d.err());
  // Ten keep-alive periods, and STATUS lines to show the loop is running.
  std::this_thread::sleep_for(2s);
  BOOST_TEST(pings_in(listener.messages()).empty());
  BOOST_TEST(listener.messages().size() >= 2u);
}

BOOST_AUTO_TEST_CASE(sighup_brackets_the_reload_with_reloading_and_ready) {
  temp_dir dir;
  notify_socket listener(unique("@redundancy-notify-"));
  const auto file = dir.path() / "redundancy.json";
  write_text(file, checking_config(dir.path()));
  daemon_process d(file, dir.path(), {{"NOTIFY_SOCKET", listener.name()}});
  const auto ready = listener.wait_for("READY=1");
  BOOST_TEST_REQUIRE(ready.has_value(), d.err());

  const auto before = monotonic_usec();
  ::kill(d.pid(), SIGHUP);
  const auto reloading = listener.wait_for("RELOADING=1", *ready + 1, 10s);
  BOOST_TEST_REQUIRE(reloading.has_value());
  const auto after = monotonic_usec();
  const auto message = listener.messages()[*reloading];
  BOOST_TEST(message.sender == d.pid());
  // systemd compares it with its own CLOCK_MONOTONIC: the moment the reload began.
  const auto stamp = message.value("MONOTONIC_USEC");
  BOOST_TEST_REQUIRE(stamp.has_value());
  BOOST_TEST(std::stoll(*stamp) >= before);
  BOOST_TEST(std::stoll(*stamp) <= after);
  const auto done = listener.wait_for("READY=1", *reloading + 1, 10s);
  BOOST_TEST_REQUIRE(done.has_value());
  BOOST_TEST(listener.messages()[*done].text == "READY=1");
  BOOST_TEST(d.err().find("config reloaded") != std::string::npos);

  // A broken config is refused: the reload still ends with READY=1, and the status says why.
  write_text(file, R"({ "github": { "interval": "soon" } })");
  ::kill(d.pid(), SIGHUP);
  const auto again = listener.wait_for("RELOADING=1", *done + 1, 10s);
  BOOST_TEST_REQUIRE(again.has_value());
  const auto refused = listener.wait_for("READY=1", *again + 1, 10s);
  BOOST_TEST_REQUIRE(refused.has_value());
  const auto status = listener.messages()[*refused].value("STATUS");
  BOOST_TEST_REQUIRE(status.has_value());
  BOOST_TEST(status->starts_with("reload refused, running config kept: "), *status);
  BOOST_TEST(status->find("github.interval") != std::string::npos, *status);
  BOOST_TEST(!d.exited());
}

BOOST_AUTO_TEST_CASE(a_stuck_event_loop_sends_no_keep_alives) {
  temp_dir dir;
  notify_socket listener((dir.path() / "notify.sock").string());
  config_pipe config(dir.path() / "redundancy.json", checking_config(dir.path()));
  config.serve_once();  // the start-up read
  daemon_process d(dir.path() / "redundancy.json", dir.path(),
                   {{"NOTIFY_SOCKET", listener.name()}, {"WATCHDOG_USEC", "1000000"}});
  const auto ready = listener.wait_for("READY=1");
  BOOST_TEST_REQUIRE(ready.has_value(), d.err());
  BOOST_TEST_REQUIRE(listener.wait_for("WATCHDOG=1", *ready + 1, 10s).has_value());

  // The reload reads the config on the loop's thread, and the pipe has no writer: the loop stops
  // there.
  ::kill(d.pid(), SIGHUP);
  const auto reloading = listener.wait_for("RELOADING=1", *ready + 1, 10s);
  BOOST_TEST_REQUIRE(reloading.has_value());
  // Six keep-alive periods of silence: a keep-alive sent from anywhere but the loop would show
  // here.
  std::this_thread::sleep_for(3s);
  BOOST_TEST(!d.exited());
  const auto during = since(listener, *reloading + 1);
  BOOST_TEST(pings_in(during).empty());
  BOOST_TEST(during.empty());

  // Unstuck, it finishes the reload and the keep-alives resume.
  config.serve_once();
  const auto done = listener.wait_for("READY=1", *reloading + 1, 10s);
  BOOST_TEST_REQUIRE(done.has_value(), d.err());
  BOOST_TEST(config.served() == 2);
  BOOST_TEST_REQUIRE(listener.wait_for("WATCHDOG=1", *done + 1, 10s).has_value());
  BOOST_TEST(d.err().find("config reloaded") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_ready_when_the_port_cannot_be_bound_or_the_config_is_bad) {
  temp_dir dir;
  notify_socket listener((dir.path() / "notify.sock").string());
  // A port this test holds.
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_TEST_REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  BOOST_TEST_REQUIRE(::listen(holder, 1) == 0);
  socklen_t length = sizeof address;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length);
  const auto port = std::to_string(ntohs(address.sin_port));

  const auto file = dir.path() / "redundancy.json";
  auto text = checking_config(dir.path());
  text.replace(text.find("127.0.0.1:0"), 11, "127.0.0.1:" + port);
  write_text(file, text);
  auto r = run_binary({"run", "--config", file.string()}, {{"NOTIFY_SOCKET", listener.name()}});
  ::close(holder);
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(r.err.find(port) != std::string::npos, r.err);

  write_text(file, R"({ "netlify": { "interval": "never" } })");
  r = run_binary({"run", "--config", file.string()}, {{"NOTIFY_SOCKET", listener.name()}});
  BOOST_TEST(r.exit_code == 2, r.err);

  std::this_thread::sleep_for(200ms);
  for (const auto& m : listener.messages()) BOOST_TEST(!m.has("READY=1"), m.text);
}

BOOST_AUTO_TEST_CASE(an_unusable_notify_socket_is_reported_and_the_daemon_runs_on) {
  temp_dir dir;
  const auto file = dir.path() / "redundancy.json";
  write_text(file, checking_config(dir.path()));
  daemon_process d(file, dir.path(), {{"NOTIFY_SOCKET", "notify.sock"}, {"WATCHDOG_USEC", "1000000"}});
  const auto address = d.wait_for_address(dir.path() / "state");
  BOOST_TEST(http_get(address, "/api/health").status != 0);
  BOOST_TEST(d.err().find("NOTIFY_SOCKET=notify.sock") != std::string::npos, d.err());
  BOOST_TEST(!d.exited());
}
