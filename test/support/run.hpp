// Runs a coroutine to completion from plain test code: its result, or its exception rethrown in the test.
#pragma once
#include "redundancy/core/asio.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <utility>

namespace redundancy::test {

// On a fresh io_context, run until it is out of work.
template <typename T>
T run(awaitable<T> task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return future.get();
}

// On `io`, which keeps other work (a watcher, a server) and so never runs out: runs it in short slices
// until the task is done, leaving that work pending for the next call.
template <typename T>
T run_on(boost::asio::io_context& io, awaitable<T> task) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return future.get();
}

}  // namespace redundancy::test
