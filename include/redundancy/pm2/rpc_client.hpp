// A client for PM2's rpc.sock on the caller's io_context: calls multiplexed on one connection, replies
// matched by id (they can come back out of order), a deadline per call, reconnection on the next call.
#pragma once
#include "redundancy/core/asio.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace redundancy::pm2 {

// Why a call has no result. unreachable: the socket is absent or refuses connections (no daemon; a
// call never starts one). timed_out: no reply before the deadline. closed: the daemon closed the
// connection. protocol: the daemon sent something that is not amp/axon-rpc (the connection is dropped).
// remote: the daemon answered with an error (unknown method, ...).
enum class rpc_failure { unreachable, timed_out, closed, protocol, remote };
std::string_view to_string(rpc_failure f);

struct rpc_error {
  rpc_failure kind{rpc_failure::unreachable};
  std::string message{};
};
[[noreturn]] void throw_exception_from_error(const rpc_error& e, const boost::source_location& loc);

using rpc_result = boost::system::result<boost::json::value, rpc_error>;

class rpc_client {
 public:
  // Connects lazily to socket_path (rpc.sock) on the first call.
  rpc_client(asio::any_io_executor executor, std::filesystem::path socket_path);
  rpc_client(const rpc_client&) = delete;
  rpc_client& operator=(const rpc_client&) = delete;
  // Closes the connection; calls still waiting end with `closed`.
  ~rpc_client();

  // Calls method with args; the result is the reply's first argument. Several calls may run at once
  // on the one connection. A connection that failed is replaced by a new one on the next call.
  awaitable<rpc_result> call(std::string method, boost::json::array args, std::chrono::milliseconds timeout);

  // Drops the connection (calls in flight end with `closed`).
  void close();
  bool connected() const;
  // How many connections were made so far: more than one means the client reconnected.
  std::uint64_t connections() const;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace redundancy::pm2
