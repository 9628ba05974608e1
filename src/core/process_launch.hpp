// Internal to the process runner: starting one child (PATH lookup, merged environment, pipes, its
// own process group, no inherited descriptors) without blocking the loop for more than the spawn itself.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/process.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/process/v2/process_handle.hpp>

#include <optional>
#include <string>

namespace redundancy::process_detail {

using child_handle = boost::process::v2::basic_process_handle<asio::any_io_executor>;

// A running child: its handle (for async_wait) and the read ends of its stdout and stderr.
struct launched_child {
  child_handle handle;
  asio::readable_pipe out;
  asio::readable_pipe err;
};

struct launch_outcome {
  std::optional<launched_child> child{};
  std::string error{};  // why it could not start, when child is empty
};

// Starts spec.argv with stdin on /dev/null, stdout and stderr on pipes, in spec.cwd, with the merged
// environment, as the leader of a new process group, seeing only descriptors 0-2. Returns once the
// child has exec'ed (a fraction of a millisecond). When it cannot start (not found, not executable,
// bad cwd) the error says why and nothing is left running, no zombie either.
launch_outcome launch_child(const asio::any_io_executor& executor, const process_spec& spec);

}  // namespace redundancy::process_detail
