// The messages of PM2's two sockets on top of amp, with no I/O: axon-rpc requests
// and replies on rpc.sock, the event broadcast on pub.sock, and the reconnection backoff axon uses.
#pragma once
#include "redundancy/pm2/amp.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace redundancy::pm2 {

// [ j:{"type":"call","method":M,"args":A} , s:ID ] as bytes.
std::string rpc_request_frame(std::string_view method, const boost::json::array& args, std::string_view id);

// A reply: [ j:{"args":[result...]} , s:ID ] (the result is args[0], null when absent) or
// [ j:{"error":"msg",...} , s:ID ] (error holds msg).
struct rpc_reply {
  std::string id{};
  std::optional<boost::json::value> result{};
  std::string error{};  // set when the daemon answered with an error
};

// A frame that is not a reply is an error naming what was wrong (never quoting the payload).
boost::system::result<rpc_reply, std::string> parse_rpc_reply(const amp_frame& frame);

// One pub.sock broadcast that matters to us. Topics: "process:event" (event is PM2's name: exit,
// online, restart overlimit, ...; app the process's name) and "pm2:kill".
struct bus_event {
  std::string topic{};
  std::string event{};
  std::string app{};
  bool manually{false};
};

// nullopt for topics we do not read: log:* is recognised from the topic alone and its data is never
// parsed (it is most of the traffic); other topics are skipped too. A frame that is not [s:topic, data]
// or a process:event whose data is unreadable is an error.
boost::system::result<std::optional<bus_event>, std::string> parse_bus_frame(const amp_frame& frame);

// Reconnection delays: 100 ms, then x1.5 each failure, capped at 5 s (what axon itself uses).
class reconnect_backoff {
 public:
  std::chrono::milliseconds next();
  void reset() { current_ = std::chrono::milliseconds{0}; }

 private:
  std::chrono::milliseconds current_{0};
};

}  // namespace redundancy::pm2
