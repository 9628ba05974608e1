// Local smoke invocation of one function through the Node harness shipped inside the daemon.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/health.hpp"
#include "redundancy/netlify/discovery.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace redundancy::netlify {

// The text of src/netlify/invoke_harness.mjs, compiled in so that no install path has to be found.
std::string_view invoke_harness_source();

// Writes the harness to `file` (atomically, and only when its content differs). Returns why it failed.
std::optional<std::string> install_invoke_harness(const std::filesystem::path& file);

struct invocation {
  bool ok{false};
  std::optional<int> status{};  // the status the function answered, when it answered
  std::string error{};          // why it is not ok: "Error: boom", "answered 500", "timed out after 30s"
  sys_time at{};
  // node itself could not be started (missing from PATH): nothing is known about the function.
  bool not_run{false};
};

// Runs `node <harness> <file> <name> <format> <timeout>` in the function's folder. The harness times
// the call out itself at `timeout`; the process is ended a few seconds later as a backstop.
awaitable<invocation> invoke_function(const function_entry& function, const std::filesystem::path& harness,
                                      std::chrono::milliseconds timeout);

}  // namespace redundancy::netlify
