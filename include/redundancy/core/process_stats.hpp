// The daemon's own resource use as /proc tells it: for the process_* metrics, the report and the API.
#pragma once
#include <optional>

namespace redundancy {

// The process's own resource use, read from /proc/self. A value that could not be read is empty and
// its metric is left out of the output (a scrape never fails because /proc is odd).
struct process_stats {
  std::optional<double> cpu_seconds{};  // user + system time
  std::optional<double> resident_bytes{};
  std::optional<double> virtual_bytes{};
  std::optional<double> open_fds{};
  std::optional<double> max_fds{};             // soft RLIMIT_NOFILE; empty when unlimited
  std::optional<double> start_time_seconds{};  // since the Unix epoch
};

// Reads /proc/self/{stat,statm,fd,limits} and /proc/stat (boot time). Small in-memory files: cheap
// enough to call on the loop thread once per scrape.
process_stats read_process_stats();

}  // namespace redundancy
