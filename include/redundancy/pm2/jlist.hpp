// `pm2 jlist` output parsed into typed structs: what redundancy needs of each app, never its environment.
#pragma once
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::pm2 {

// PM2's `pm2_env.status` values (the same set in pm2 5.x-7.x); `other` for anything newer.
enum class app_status { online, stopping, stopped, launching, errored, one_launch_status, waiting_restart, other };

app_status app_status_from_string(std::string_view text);
// PM2's spelling ("waiting restart"), "other" for other.
std::string_view to_string(app_status s);

// One entry of the list: one instance of an app (a cluster app has one entry per instance).
// Only the fields below are kept; the environment (secrets) is skipped while parsing.
struct app_entry {
  std::string name{};
  int pm_id{-1};              // -1 when missing
  int pid{0};                 // 0 when stopped, errored, or missing
  std::string status_text{};  // as PM2 printed it ("waiting restart"), empty when missing
  app_status status{app_status::other};
  double cpu_percent{0};          // may exceed 100 on several cores
  std::uint64_t memory_bytes{0};  // RSS
  std::uint64_t restart_time{0};  // restarts, automatic and manual
  std::uint64_t unstable_restarts{0};
  std::optional<std::int64_t> pm_uptime_ms{};  // epoch ms of the last (re)start, not a duration
  std::string out_log_path{};
  std::string err_log_path{};
  std::optional<std::uint64_t> max_memory_restart{};  // bytes
  std::string exec_mode{};                            // fork_mode or cluster_mode
  unsigned instances{1};
  bool is_module{false};  // a PM2 module such as pm2-logrotate

  // Seconds since the last (re)start when online, else 0. `now` is injectable for tests.
  std::chrono::seconds uptime(std::chrono::system_clock::time_point now) const;

  bool operator==(const app_entry&) const = default;
};

// Parses the output of `pm2 jlist`. PM2 can print a banner or daemon messages before the JSON, which
// is always one line, so only the last non-empty line is read. It streams: the result is that of
// parse_app_list on the parsed line, but no tree of the (large) environments is built. Missing fields
// take the defaults above; a field of the wrong type is an error naming its path:
// `[3].pm2_env.status: expected a string`.
// Error messages never quote the input (it holds secrets).
boost::system::result<std::vector<app_entry>, std::string> parse_jlist(std::string_view output);

// The same list already parsed as JSON (getMonitorData's result over rpc.sock, or jlist's line): the
// same typed entries and errors; `what` names the source in messages ("pm2 jlist output", "getMonitorData").
boost::system::result<std::vector<app_entry>, std::string> parse_app_list(const boost::json::value& list,
                                                                          std::string_view what);

}  // namespace redundancy::pm2
