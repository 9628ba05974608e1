// axon-rpc request/reply frames, pub.sock event frames, and the reconnection backoff.
#include "redundancy/pm2/rpc_protocol.hpp"

#include <algorithm>

namespace redundancy::pm2 {

std::string rpc_request_frame(std::string_view method, const boost::json::array& args, std::string_view id) {
  boost::json::object call{{"type", "call"}, {"method", method}, {"args", args}};
  return amp_encode({amp_json(call), amp_string(id)});
}

boost::system::result<rpc_reply, std::string> parse_rpc_reply(const amp_frame& frame) {
  // Explicitly an error: rpc_reply (an aggregate) could be made from a string too.
  auto fail = [](std::string why) {
    return boost::system::result<rpc_reply, std::string>(boost::system::in_place_error, std::move(why));
  };
  if (frame.args.size() != 2) return fail("rpc reply: expected 2 arguments, got " + std::to_string(frame.args.size()));
  auto id = amp_as_string(frame.args[1]);
  if (!id) return fail("rpc reply: [1]: " + id.error());
  auto body = amp_as_json(frame.args[0]);
  if (!body) return fail("rpc reply " + *id + ": [0]: " + body.error());
  if (!body->is_object()) return fail("rpc reply " + *id + ": [0]: expected an object");
  auto& o = body->get_object();
  rpc_reply reply{.id = std::move(*id), .result = std::nullopt, .error = {}};
  if (const auto* error = o.if_contains("error"); error && !error->is_null()) {
    // axon-rpc sends the message as a string; anything else still means the call failed.
    reply.error = error->is_string() ? std::string(error->get_string()) : std::string("error of unexpected type");
    if (reply.error.empty()) reply.error = "error without a message";
    return reply;
  }
  auto* args = o.if_contains("args");
  if (!args || !args->is_array()) return fail("rpc reply " + reply.id + ": [0].args: expected an array");
  // Moved, not copied: the result may be the whole process list.
  if (args->get_array().empty())
    reply.result = boost::json::value(nullptr);
  else
    reply.result = std::move(args->get_array()[0]);
  return reply;
}

boost::system::result<std::optional<bus_event>, std::string> parse_bus_frame(const amp_frame& frame) {
  auto fail = [](std::string why) {
    return boost::system::result<std::optional<bus_event>, std::string>(boost::system::in_place_error, std::move(why));
  };
  if (frame.args.empty()) return fail(std::string("bus frame: no topic"));
  const std::string_view topic_arg = frame.args[0];
  // Decided on the raw bytes: log lines are never decoded.
  if (topic_arg.substr(0, 6) == "s:log:") return std::optional<bus_event>{};
  auto topic = amp_as_string(topic_arg);
  if (!topic) return fail("bus frame: [0]: " + topic.error());
  if (*topic != "process:event" && *topic != "pm2:kill") return std::optional<bus_event>{};
  if (frame.args.size() < 2) return fail("bus frame " + *topic + ": no data");
  bus_event e{.topic = *topic, .event = {}, .app = {}, .manually = false};
  if (*topic == "pm2:kill") return std::optional<bus_event>{std::move(e)};
  auto data = amp_as_json(frame.args[1]);
  if (!data) return fail("bus frame " + *topic + ": [1]: " + data.error());
  if (!data->is_object()) return fail("bus frame " + *topic + ": [1]: expected an object");
  const auto& o = data->get_object();
  const auto* event = o.if_contains("event");
  if (!event || !event->is_string()) return fail("bus frame " + *topic + ": [1].event: expected a string");
  e.event = std::string(event->get_string());
  if (const auto* m = o.if_contains("manually"); m && m->is_bool()) e.manually = m->get_bool();
  if (const auto* p = o.if_contains("process"); p && p->is_object())
    if (const auto* name = p->get_object().if_contains("name"); name && name->is_string())
      e.app = std::string(name->get_string());
  return std::optional<bus_event>{std::move(e)};
}

std::chrono::milliseconds reconnect_backoff::next() {
  using std::chrono::milliseconds;
  current_ =
      current_.count() == 0 ? milliseconds{100} : std::min(milliseconds{current_.count() * 3 / 2}, milliseconds{5000});
  return current_;
}

}  // namespace redundancy::pm2
