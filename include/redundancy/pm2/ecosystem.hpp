// PM2 ecosystem files: reading their apps with a short `node` child, and turning them into a config
// PM2 accepts (PM2 runs a file whose name lacks `.config.js`/`.json`/... as an app).
#pragma once
#include "redundancy/core/asio.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::pm2 {

// What redundancy knows of one app of an ecosystem file. Only the names of its env variables, never
// their values.
struct ecosystem_app {
  std::string name{};  // the app's name, or PM2's default: the script's base name without extension
  std::string script{};
  std::string cwd{};
  std::vector<std::string> args{};
  std::string exec_mode{};
  std::string instances{};
  std::string max_memory_restart{};  // as written: "300M" or a number of bytes
  std::vector<std::string> env_keys{};
};

struct ecosystem_file {
  std::filesystem::path path{};
  std::optional<std::filesystem::file_time_type> mtime{};  // nullopt when the file is missing
  std::vector<ecosystem_app> apps{};
  std::string error{};  // why it could not be read ("" when it was)
};

// Parses what the reader program prints (JSON after the last newline). Errors carry a path.
boost::system::result<std::vector<ecosystem_app>, std::string> parse_ecosystem_apps(std::string_view output);

// True when `pm2 start FILE` treats FILE as a config rather than running it as a script.
bool pm2_treats_as_config(const std::filesystem::path& file);

// Reads the apps of `file` by running `node -e <reader> file` in the file's folder. Never throws for a
// broken file: the result carries the error.
awaitable<ecosystem_file> read_ecosystem(std::filesystem::path file, std::chrono::milliseconds timeout);

// Writes a JSON ecosystem (mode 0600; it holds the apps' env values) with absolute cwd and script for
// every app of `file` into `out` (written by the node child, so the values never pass through us).
// Returns "" when written, else why it failed.
awaitable<std::string> write_json_ecosystem(std::filesystem::path file, std::filesystem::path out,
                                            std::chrono::milliseconds timeout);

// Caches read_ecosystem results by path and mtime: a file is read again only when it changed (a file
// that failed to read is tried again on every call).
class ecosystem_cache {
 public:
  explicit ecosystem_cache(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  // The files in the order given, each fresh as of now.
  awaitable<std::vector<ecosystem_file>> refresh(std::vector<std::filesystem::path> files);

  // How many node children the cache has run (for tests of the mtime rule).
  unsigned reads() const { return reads_; }

 private:
  std::chrono::milliseconds timeout_;
  std::vector<ecosystem_file> cached_{};
  unsigned reads_{0};
};

}  // namespace redundancy::pm2
