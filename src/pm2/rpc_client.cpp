// The rpc.sock client. One thread, no perpetual reader: a waiting call reads for everyone (the first
// one to need bytes), so an idle client leaves no work on the io_context and tests' run() returns.
#include "redundancy/pm2/rpc_client.hpp"

#include "redundancy/core/log.hpp"
#include "redundancy/pm2/rpc_protocol.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include <unistd.h>
#include <array>
#include <map>
#include <optional>
#include <set>

namespace redundancy::pm2 {

using stream = asio::local::stream_protocol;

std::string_view to_string(rpc_failure f) {
  switch (f) {
    case rpc_failure::unreachable:
      return "unreachable";
    case rpc_failure::timed_out:
      return "timed_out";
    case rpc_failure::closed:
      return "closed";
    case rpc_failure::protocol:
      return "protocol";
    case rpc_failure::remote:
      return "remote";
  }
  return "unreachable";
}

void throw_exception_from_error(const rpc_error& e, const boost::source_location&) {
  throw std::runtime_error("PM2 rpc " + std::string(to_string(e.kind)) + ": " + e.message);
}

namespace {

// One call in flight. Its timer expires at the call's deadline; other calls cancel it ("poke") when
// something it may be waiting for happened (its reply, the reader's turn ended, the connection fell).
struct slot {
  asio::steady_timer timer;
  std::optional<rpc_result> outcome{};
};

}  // namespace

struct rpc_client::state {
  state(asio::any_io_executor ex, std::filesystem::path p) : executor(std::move(ex)), path(std::move(p)) {}

  asio::any_io_executor executor;
  std::filesystem::path path;
  std::optional<stream::socket> socket{};
  amp_parser parser{};
  std::map<std::string, slot*> pending{};  // by request id
  std::set<slot*> all{};                   // every call in flight, for pokes
  bool connecting{false}, writing{false}, reading{false};
  std::uint64_t counter{0}, connections{0};
  std::string id_prefix{std::to_string(::getpid()) + ":"};

  void poke_all() {
    for (auto* s : all) s->timer.cancel();
  }

  // Ends every pending call with `why` and drops the connection; the next call reconnects.
  void fail_all(rpc_failure kind, const std::string& why) {
    if (socket) {
      boost::system::error_code ignored;
      socket->close(ignored);
      socket.reset();
    }
    parser = amp_parser{};
    for (auto& [id, s] : pending)
      if (!s->outcome) s->outcome = rpc_result(rpc_error{kind, why});
    pending.clear();
    poke_all();
  }

  void dispatch(std::vector<amp_frame>& frames) {
    for (auto& f : frames) {
      auto reply = parse_rpc_reply(f);
      if (!reply) {
        RLOG("pm2", warning) << "rpc.sock sent something that is not a reply, dropping the connection: "
                             << reply.error();
        fail_all(rpc_failure::protocol, reply.error());
        return;
      }
      auto it = pending.find(reply->id);
      // A late reply to a call that timed out: nobody waits for it any more.
      if (it == pending.end()) continue;
      slot* s = it->second;
      pending.erase(it);
      if (!reply->error.empty())
        s->outcome = rpc_result(rpc_error{rpc_failure::remote, reply->error});
      else
        s->outcome = rpc_result(std::move(*reply->result));
      s->timer.cancel();
    }
  }
};

rpc_client::rpc_client(asio::any_io_executor executor, std::filesystem::path socket_path)
    : state_(std::make_shared<state>(std::move(executor), std::move(socket_path))) {}

rpc_client::~rpc_client() { close(); }

void rpc_client::close() { state_->fail_all(rpc_failure::closed, "connection closed by the client"); }

bool rpc_client::connected() const { return state_->socket.has_value(); }

std::uint64_t rpc_client::connections() const { return state_->connections; }

awaitable<rpc_result> rpc_client::call(std::string method, boost::json::array args, std::chrono::milliseconds timeout) {
  auto st = state_;  // the call keeps the state alive even if the client goes away meanwhile
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  slot me{asio::steady_timer(st->executor, deadline), std::nullopt};
  st->all.insert(&me);
  struct leave {
    state& st;
    slot& me;
    std::string id{};
    ~leave() {
      st.all.erase(&me);
      if (!id.empty()) st.pending.erase(id);
    }
  } guard{*st, me};
  auto expired = [&] { return std::chrono::steady_clock::now() >= deadline; };
  auto timed_out = [&](std::string what) {
    return rpc_result(rpc_error{rpc_failure::timed_out, method + ": " + what + " timed out"});
  };
  // Waits for a poke or the deadline.
  auto wait = [&]() -> awaitable<void> { co_await me.timer.async_wait(asio::as_tuple(asio::use_awaitable)); };

  // Connect (one caller connects, the others wait for it).
  while (!st->socket) {
    if (expired()) co_return timed_out("connecting");
    if (st->connecting) {
      co_await wait();
      continue;
    }
    st->connecting = true;
    stream::socket socket(st->executor);
    boost::system::error_code ec;
    try {
      stream::endpoint endpoint(st->path.string());
      auto raced = co_await (socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable)) ||
                             me.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (raced.index() == 1)
        ec = asio::error::timed_out;
      else
        ec = std::get<0>(std::get<0>(raced));
    } catch (const boost::system::system_error& e) {
      ec = e.code();  // a path too long for sun_path
    }
    st->connecting = false;
    st->poke_all();
    if (ec == asio::error::timed_out && expired()) co_return timed_out("connecting");
    if (ec == asio::error::operation_aborted || (ec == asio::error::timed_out && !expired())) continue;
    if (ec) co_return rpc_result(rpc_error{rpc_failure::unreachable, st->path.string() + ": " + ec.message()});
    st->socket.emplace(std::move(socket));
    st->parser = amp_parser{};
    ++st->connections;
  }

  // Send (frames are written whole, one writer at a time, so they never interleave).
  guard.id = st->id_prefix + std::to_string(++st->counter);
  st->pending[guard.id] = &me;
  const auto frame = rpc_request_frame(method, args, guard.id);
  while (st->writing && !me.outcome) {
    if (expired()) co_return timed_out("sending");
    co_await wait();
  }
  if (me.outcome) co_return std::move(*me.outcome);
  if (!st->socket) co_return rpc_result(rpc_error{rpc_failure::closed, method + ": connection lost before sending"});
  st->writing = true;
  asio::steady_timer write_deadline(st->executor, deadline);
  auto written = co_await (asio::async_write(*st->socket, asio::buffer(frame), asio::as_tuple(asio::use_awaitable)) ||
                           write_deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  st->writing = false;
  if (written.index() == 1) {
    // Half a frame may be on the wire: the stream is unusable for everyone.
    st->fail_all(rpc_failure::timed_out, "sending timed out");
    co_return timed_out("sending");
  }
  if (auto [ec, n] = std::get<0>(written); ec) {
    st->fail_all(rpc_failure::closed, "connection lost: " + ec.message());
    co_return rpc_result(rpc_error{rpc_failure::closed, method + ": connection lost: " + ec.message()});
  }
  st->poke_all();

  // Receive: whoever needs bytes reads, and hands every reply to its caller.
  std::array<char, 64 * 1024> buffer;
  while (!me.outcome) {
    if (expired()) co_return timed_out("waiting for the reply");
    if (!st->socket) co_return rpc_result(rpc_error{rpc_failure::closed, method + ": connection lost"});
    if (st->reading) {
      co_await wait();
      continue;
    }
    st->reading = true;
    auto raced = co_await (st->socket->async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable)) ||
                           me.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    st->reading = false;
    if (raced.index() == 0) {
      auto [ec, n] = std::get<0>(raced);
      if (ec) {
        st->fail_all(rpc_failure::closed, "connection closed by the daemon (" + ec.message() + ")");
      } else if (auto frames = st->parser.feed(std::string_view(buffer.data(), n)); !frames) {
        RLOG("pm2", warning) << "rpc.sock sent an unreadable stream, dropping the connection: " << frames.error();
        st->fail_all(rpc_failure::protocol, frames.error());
      } else {
        st->dispatch(*frames);
      }
    }
    // Someone else may have to read now.
    st->poke_all();
  }
  co_return std::move(*me.outcome);
}

}  // namespace redundancy::pm2
