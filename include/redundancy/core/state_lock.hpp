// One daemon per state_dir: an exclusive lock on <state_dir>/daemon.lock, held for the daemon's life.
#pragma once
#include <boost/system/result.hpp>

#include <filesystem>
#include <string>

namespace redundancy {

// The held lock; released (by the kernel, whatever way the process ends) when it is destroyed.
class state_lock {
 public:
  state_lock(state_lock&& other) noexcept;
  state_lock& operator=(state_lock&&) = delete;
  state_lock(const state_lock&) = delete;
  state_lock& operator=(const state_lock&) = delete;
  ~state_lock();

  const std::filesystem::path& file() const { return file_; }

  // Creates `state_dir` when missing, then takes a write lock (fcntl, non-blocking) on
  // <state_dir>/daemon.lock and writes our pid into it. Fails at once when another process holds it,
  // naming that process's pid and the file; it then changes nothing but creating the folder and file.
  static boost::system::result<state_lock, std::string> take(const std::filesystem::path& state_dir);

  // Whether another process holds the lock on <state_dir>/daemon.lock now: a daemon runs there. Creates
  // nothing; false when the file is missing or cannot be read.
  static bool held_by_another(const std::filesystem::path& state_dir);

 private:
  state_lock(std::filesystem::path file, int fd) : file_(std::move(file)), fd_(fd) {}
  std::filesystem::path file_;
  int fd_{-1};
};

}  // namespace redundancy
