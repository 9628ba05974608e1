// The daemon's own resource use, read from /proc (prometheus-cpp has no process collector).
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "redundancy/core/proc_statm.hpp"
#include "redundancy/core/process_stats.hpp"
#include "redundancy/core/small_file.hpp"

namespace redundancy {
namespace {

std::optional<double> to_number(std::string_view word) {
  unsigned long long value{};
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc{} || end != word.data() + word.size()) return std::nullopt;
  return static_cast<double>(value);
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto start = text.find_first_not_of(" \t\n", pos);
    if (start == std::string_view::npos) break;
    const auto end = std::min(text.find_first_of(" \t\n", start), text.size());
    words.push_back(text.substr(start, end - start));
    pos = end;
  }
  return words;
}

// The fields of /proc/self/stat after "pid (comm)"; comm may hold spaces and ')', so split after
// the last ')'. fields[0] is field 3 of proc(5) (state).
std::vector<std::string_view> stat_fields(std::string_view stat) {
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) return {};
  return split_words(stat.substr(close + 1));
}

std::optional<double> field(const std::vector<std::string_view>& fields, std::size_t proc5_number) {
  const std::size_t index = proc5_number - 3;
  if (index >= fields.size()) return std::nullopt;
  return to_number(fields[index]);
}

// The "btime" line of /proc/stat: boot time in seconds since the epoch.
std::optional<double> boot_time() {
  const auto text = read_small_file("/proc/stat");
  if (!text) return std::nullopt;
  std::istringstream lines{*text};
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("btime ")) {
      const auto words = split_words(std::string_view{line}.substr(6));
      return words.empty() ? std::nullopt : to_number(words[0]);
    }
  return std::nullopt;
}

std::optional<double> max_open_files() {
  const auto text = read_small_file("/proc/self/limits");
  if (!text) return std::nullopt;
  std::istringstream lines{*text};
  for (std::string line; std::getline(lines, line);) {
    constexpr std::string_view prefix = "Max open files";
    if (!line.starts_with(prefix)) continue;
    const auto words = split_words(std::string_view{line}.substr(prefix.size()));
    if (words.empty()) return std::nullopt;
    return to_number(words[0]);  // "unlimited" is no number: left out
  }
  return std::nullopt;
}

std::optional<double> open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it{"/proc/self/fd", ec};
  if (ec) return std::nullopt;
  // The iterator's own descriptor is counted too, as the Go and Python clients do.
  double count = 0;
  for (; it != std::filesystem::directory_iterator{}; it.increment(ec)) {
    if (ec) return std::nullopt;
    ++count;
  }
  return count;
}

}  // namespace

process_stats read_process_stats() {
  process_stats stats;
  const long ticks = ::sysconf(_SC_CLK_TCK);

  if (const auto stat = read_small_file("/proc/self/stat")) {
    const auto fields = stat_fields(*stat);
    const auto utime = field(fields, 14);
    const auto stime = field(fields, 15);
    if (utime && stime && ticks > 0) stats.cpu_seconds = (*utime + *stime) / static_cast<double>(ticks);
    const auto start = field(fields, 22);  // clock ticks after boot
    const auto boot = boot_time();
    if (start && boot && ticks > 0) stats.start_time_seconds = *boot + *start / static_cast<double>(ticks);
  }
  if (const auto memory = read_statm()) {
    stats.virtual_bytes = static_cast<double>(memory->virtual_bytes);
    stats.resident_bytes = static_cast<double>(memory->resident_bytes);
  }
  stats.open_fds = open_fds();
  stats.max_fds = max_open_files();
  return stats;
}

}  // namespace redundancy
