// What /proc and PM2's pid file tell about a process (alive, its age, its memory), and waiting on one.
#include "pm2_subsystem_internal.hpp"

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <sstream>

namespace redundancy::pm2::detail {
namespace {

// The state letter and start time (clock ticks after boot) in /proc/PID/stat; nullopt when it is gone.
struct proc_stat {
  char state{'?'};
  unsigned long long start_ticks{0};
};
std::optional<proc_stat> stat_of(int pid) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  // The command name in parentheses may hold spaces and parentheses: the fields follow the last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  proc_stat st;
  std::string skip;
  fields >> st.state;
  for (int field = 4; field < 22 && fields >> skip; ++field) {
  }
  fields >> st.start_ticks;
  return st;
}

}  // namespace

std::string mib(std::uint64_t bytes) {
  std::ostringstream s;
  s.precision(1);
  s << std::fixed << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}

std::string read_small_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string s;
  std::getline(in, s, '\0');
  return s;
}

bool pid_alive(int pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  auto st = stat_of(pid);
  return !st || st->state != 'Z';
}

std::optional<std::chrono::milliseconds> age_of(int pid) {
  auto st = stat_of(pid);
  double uptime = 0;
  std::istringstream(read_small_file("/proc/uptime")) >> uptime;
  const auto ticks = ::sysconf(_SC_CLK_TCK);
  if (!st || ticks <= 0 || uptime <= 0) return std::nullopt;
  const double started = static_cast<double>(st->start_ticks) / static_cast<double>(ticks);
  return std::chrono::milliseconds(static_cast<long long>(std::max(0.0, uptime - started) * 1000));
}

awaitable<void> pause_for(std::chrono::milliseconds how_long) {
  asio::steady_timer timer(co_await asio::this_coro::executor, how_long);
  co_await timer.async_wait(asio::use_awaitable);
}

awaitable<void> until_dead(int pid) {
  while (pid_alive(pid)) co_await pause_for(daemon_poll);
}

int read_pid(const std::filesystem::path& file) {
  auto text = read_small_file(file);
  try {
    return text.empty() ? 0 : std::stoi(text);
  } catch (const std::exception&) {
    return 0;
  }
}

std::uint64_t total_ram() {
  auto pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size) : 0;
}

std::optional<std::uint64_t> rss_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return std::nullopt;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGE_SIZE));
}

}  // namespace redundancy::pm2::detail
