// PM2's list in a sandbox read over rpc.sock (getMonitorData), which never spawns a daemon (any `pm2`
// command would, and hide what the test watches). Every app pid seen is killed at the sandbox's end.
#pragma once
#include "redundancy/pm2/jlist.hpp"
#include "redundancy/pm2/rpc_client.hpp"
#include "support/pm2_sandbox.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace redundancy::test {

inline std::vector<pm2::app_entry> apps_over_rpc(pm2_sandbox& box) {
  using namespace std::chrono_literals;
  asio::io_context io;
  pm2::rpc_client client(io.get_executor(), box.home / "rpc.sock");
  auto f = asio::co_spawn(io, client.call("getMonitorData", boost::json::array{boost::json::object{}}, 2s),
                          asio::use_future);
  io.run();
  auto reply = f.get();
  if (!reply) return {};
  auto parsed = pm2::parse_app_list(*reply, "getMonitorData");
  if (!parsed) return {};
  for (const auto& a : *parsed) box.app_pids.push_back(a.pid);
  return *parsed;
}

inline std::optional<pm2::app_entry> app_over_rpc(pm2_sandbox& box, std::string_view name) {
  for (auto& a : apps_over_rpc(box))
    if (a.name == name) return a;
  return std::nullopt;
}

}  // namespace redundancy::test
