// Internal to the PM2 subsystem: what its files share (the daemon's process as /proc tells it, waits,
// the bounds of a `pm2` command's output, small text helpers).
#pragma once
#include "redundancy/core/asio.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace redundancy::pm2::detail {

// How much of a step's output an action keeps.
constexpr std::size_t tail_bytes = 4096;
// The most a `pm2 jlist` may print (about 16 KiB an app at 1,000 apps).
constexpr std::size_t jlist_cap = 16 * 1024 * 1024;
// How often a daemon going down or coming up is looked at: PM2 needs about a second for either.
constexpr auto daemon_poll = std::chrono::milliseconds(100);
// A daemon this young that refuses rpc.sock is still starting; an older one is stuck, not coming up.
constexpr auto daemon_startup = std::chrono::seconds(10);

// "12.3 MiB".
std::string mib(std::uint64_t bytes);

// The whole of a small file ("" when unreadable).
std::string read_small_file(const std::filesystem::path& p);

// The pid a pid file holds, 0 when there is none.
int read_pid(const std::filesystem::path& file);

// A zombie counts as dead: a PM2 daemon our `pm2` child spawned is re-parented to us (the daemon is a
// child subreaper) and stays a zombie until reaped, though it answers kill(pid, 0).
bool pid_alive(int pid);

// How long ago pid started, when /proc tells.
std::optional<std::chrono::milliseconds> age_of(int pid);

// The machine's RAM in bytes (0 when unknown), and a process's resident memory.
std::uint64_t total_ram();
std::optional<std::uint64_t> rss_of(int pid);

awaitable<void> pause_for(std::chrono::milliseconds how_long);

// Returns once pid has ended (polled: a daemon that dies says nothing to us but its closed sockets).
awaitable<void> until_dead(int pid);

}  // namespace redundancy::pm2::detail
