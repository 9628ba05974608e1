// How PM2 is reached: the daemon probe, the transport ladder that reads the list (getMonitorData over
// rpc.sock, else `pm2 jlist`), the `pm2` command, and waiting out a daemon going down or coming up.
#include "redundancy/pm2/pm2_subsystem.hpp"

#include "pm2_subsystem_internal.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <algorithm>

namespace redundancy::pm2 {

using detail::mib;
using detail::pid_alive;
using detail::read_pid;

awaitable<pm2_subsystem::daemon_probe> pm2_subsystem::probe_daemon() {
  daemon_probe probe;
  probe.pid = read_pid(pm2_home_ / "pm2.pid");
  probe.running = pid_alive(probe.pid);
  // Connecting to rpc.sock never spawns a daemon, unlike any `pm2` command.
  auto ex = co_await asio::this_coro::executor;
  asio::local::stream_protocol::socket socket(ex);
  asio::steady_timer timer(ex, std::chrono::seconds(2));
  try {
    asio::local::stream_protocol::endpoint endpoint((pm2_home_ / "rpc.sock").string());
    auto outcome = co_await (socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable)) ||
                             timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (outcome.index() == 0 && !std::get<0>(std::get<0>(outcome))) probe.answering = true;
  } catch (const boost::system::system_error& e) {
    // A PM2_HOME too long for sun_path: only the pid tells.
    RLOG("pm2", warning) << "cannot probe " << (pm2_home_ / "rpc.sock").string() << ": " << e.what();
  }
  if (probe.answering) probe.running = true;
  co_return probe;
}

awaitable<boost::system::result<std::vector<app_entry>, rpc_error>> pm2_subsystem::read_over_rpc() {
  using read_result = boost::system::result<std::vector<app_entry>, rpc_error>;
  // In auto mode a slow socket must leave time for the jlist fallback inside the check's bound.
  const auto timeout = transport_ == transport_mode::socket
                           ? pm2_.timeout
                           : std::min<std::chrono::milliseconds>(pm2_.timeout / 2, std::chrono::seconds(5));
  auto ex = co_await asio::this_coro::executor;
  std::optional<rpc_client> local;
  rpc_client* client = rpc_.get();
  if (!client) client = &local.emplace(ex, pm2_home_ / "rpc.sock");
  boost::json::array args{boost::json::object{}};
  auto reply = co_await client->call("getMonitorData", args, timeout);
  // A kept connection may be from a daemon that has died since: one fresh try tells the truth.
  if (!reply && reply.error().kind == rpc_failure::closed && client == rpc_.get())
    reply = co_await client->call("getMonitorData", args, timeout);
  if (!reply) co_return read_result(reply.error());
  auto parsed = parse_app_list(*reply, "getMonitorData");
  if (!parsed) co_return read_result(rpc_error{rpc_failure::protocol, parsed.error()});
  co_return read_result(std::move(*parsed));
}

awaitable<process_result> pm2_subsystem::run_pm2(std::vector<std::string> args, std::size_t expected_out) {
  process_spec spec;
  spec.argv = pm2_.command;
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.cwd = project_dir_;
  spec.inherit = child_env::pm2;
  spec.env["PM2_SILENT"] = "true";
  spec.env["PM2_HOME"] = pm2_home_.string();
  spec.timeout = pm2_.timeout;
  spec.output_cap = detail::jlist_cap;
  spec.expected_out = expected_out;
  co_return co_await run_process(std::move(spec));
}

awaitable<pm2_subsystem::daemon_probe> pm2_subsystem::read_list(findings& found) {
  auto& problems = found.problems;
  // PM2 itself, without letting a `pm2` call spawn an empty daemon: rpc.sock first (unless "cli").
  list_.clear();
  source_ = list_source::none;
  daemon_probe probe;
  std::optional<rpc_error> rpc_failed;
  if (transport_ != transport_mode::cli) {
    auto read = co_await read_over_rpc();
    if (read) {
      list_ = std::move(*read);
      source_ = list_source::rpc;
      state_ = pm2_state::ok;
      probe.pid = read_pid(pm2_home_ / "pm2.pid");
      probe.running = probe.answering = true;
    } else {
      rpc_failed = read.error();
    }
  }
  if (source_ == list_source::rpc) {
    // Read over the socket: nothing more to ask.
  } else if (transport_ == transport_mode::socket) {
    probe = co_await probe_daemon();
    const auto& f = *rpc_failed;
    if (!probe.running) {
      state_ = pm2_state::daemon_down;
      problems.insert(problems.begin(), "PM2 daemon is not running (PM2_HOME " + pm2_home_.string() + ")");
    } else {
      state_ = f.kind == rpc_failure::protocol || f.kind == rpc_failure::remote ? pm2_state::bad_output
                                                                                : pm2_state::not_answering;
      problems.insert(problems.begin(),
                      "getMonitorData over rpc.sock failed (" + std::string(to_string(f.kind)) + "): " + f.message);
    }
  } else if (probe = co_await probe_daemon(); !probe.running) {
    state_ = pm2_state::daemon_down;
    problems.insert(problems.begin(), "PM2 daemon is not running (PM2_HOME " + pm2_home_.string() + ")");
  } else {
    std::vector<std::string> jlist_args{"jlist"};
    // About the last list's size, with room for numbers that grew.
    auto r = co_await run_pm2(std::move(jlist_args), last_jlist_bytes_ + last_jlist_bytes_ / 8);
    last_jlist_bytes_ = r.out.size();
    if (!r.started()) {
      state_ = pm2_state::not_installed;
      problems.insert(problems.begin(), "pm2 is not installed: " + r.error);
    } else if (r.timed_out) {
      state_ = pm2_state::not_answering;
      problems.insert(problems.begin(), "PM2 daemon is not answering: pm2 jlist " + r.describe());
    } else if (!r.ok()) {
      state_ = probe.answering ? pm2_state::bad_output : pm2_state::not_answering;
      auto why = failure_line(r.err);
      problems.insert(problems.begin(), "pm2 jlist failed: " + r.describe() + (why.empty() ? "" : ": " + why));
    } else if (r.truncated) {
      state_ = pm2_state::bad_output;
      problems.insert(problems.begin(), "pm2 jlist printed more than " + mib(detail::jlist_cap) + "; output ignored");
    } else if (auto parsed = parse_jlist(r.out); !parsed) {
      state_ = pm2_state::bad_output;
      problems.insert(problems.begin(), "pm2 jlist output unreadable: " + parsed.error());
    } else {
      state_ = probe.answering ? pm2_state::ok : pm2_state::not_answering;
      list_ = std::move(*parsed);
      source_ = list_source::jlist;
      if (!probe.answering) problems.insert(problems.begin(), "PM2 daemon's rpc.sock refuses connections");
      // auto: the socket accepted but did not give the list; jlist did, at the price of a Node start.
      else if (rpc_failed)
        found.warnings.push_back("getMonitorData over rpc.sock failed (" + std::string(to_string(rpc_failed->kind)) +
                                 "), read with pm2 jlist instead");
    }
  }

  if (state_ == pm2_state::daemon_down) daemon_was_gone_ = true;
  if (state_ == pm2_state::ok) daemon_was_gone_ = false;
  if (probe.answering && probe.pid > 0) answered_pid_ = probe.pid;
  co_return probe;
}

awaitable<bool> pm2_subsystem::settle_daemon() {
  const auto until = std::chrono::steady_clock::now() + pm2_.timeout;
  bool waited = false;
  if (going_down_pid_ && pid_alive(going_down_pid_)) {
    RLOG("pm2", info) << "PM2 daemon (pid " << going_down_pid_ << ") is going down: waiting for it to be gone";
    while (pid_alive(going_down_pid_) && std::chrono::steady_clock::now() < until)
      co_await detail::pause_for(detail::daemon_poll);
    waited = true;
  }
  going_down_pid_ = 0;
  // Coming up: only after the one that answered was seen gone, or replaced by another pid (a `pm2` command a
  // step ran while the old one went down spawns the next, unseen), so that a daemon that never answered is
  // not waited for.
  for (bool told = false;; told = true) {
    auto probe = co_await probe_daemon();
    if (probe.answering) {
      daemon_was_gone_ = false;
      answered_pid_ = probe.pid;
    }
    const bool replaced = answered_pid_ > 0 && probe.pid > 0 && probe.pid != answered_pid_;
    const bool new_daemon = (daemon_was_gone_ || replaced) && probe.running && !probe.answering;
    const auto age = new_daemon ? detail::age_of(probe.pid) : std::nullopt;
    if (!age || *age > detail::daemon_startup || std::chrono::steady_clock::now() >= until) break;
    if (!told) RLOG("pm2", info) << "PM2 daemon (pid " << probe.pid << ") is starting: waiting for its rpc.sock";
    waited = true;
    co_await detail::pause_for(detail::daemon_poll);
  }
  co_return waited;
}

}  // namespace redundancy::pm2
