// The Asio names the project uses, and the one place that pulls in the experimental awaitable operators
// (`a || b` races two awaitables, cancelling the loser) so that a later Boost can swap them.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace redundancy {
namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
template <typename T = void>
using awaitable = asio::awaitable<T>;
}  // namespace redundancy
