// The local runner's temporary folders, named after the process that made them.
#include "redundancy/github/runner_temp.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <string_view>

namespace redundancy::github {
namespace {

constexpr std::string_view prefix = "redundancy-runner-";

// The pid in `redundancy-runner-<pid>-XXXXXX`, or 0 when the name is not of that form.
pid_t pid_in(std::string_view name) {
  if (!name.starts_with(prefix)) return 0;
  name.remove_prefix(prefix.size());
  const auto dash = name.find('-');
  if (dash == std::string_view::npos || dash == 0 || name.size() - dash - 1 != 6) return 0;
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + dash, pid);
  return ec == std::errc{} && end == name.data() + dash && pid > 0 ? pid : 0;
}

// A pid reused by another process since keeps the folder: it is left, never removed by mistake.
bool ended(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

std::optional<std::filesystem::path> make_runner_temp(const std::filesystem::path& parent) {
  std::string name = (parent / (std::string(prefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (!::mkdtemp(name.data())) return std::nullopt;  // mkdtemp makes it 0700
  return std::filesystem::path(name);
}

std::vector<std::filesystem::path> remove_runner_temps_of_ended_runs(const std::filesystem::path& parent) {
  std::vector<std::filesystem::path> removed;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    const pid_t pid = pid_in(path.filename().string());
    if (pid == 0 || pid == ::getpid()) continue;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) continue;
    if (!ended(pid)) continue;
    std::error_code removing;
    std::filesystem::remove_all(path, removing);
    if (!removing) removed.push_back(path);
  }
  return removed;
}

}  // namespace redundancy::github
