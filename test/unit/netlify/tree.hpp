// Test support for the netlify tests: a temporary project folder that writes function trees.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace netlify_test {

namespace fs = std::filesystem;

// A fresh folder under the system temp folder, removed with everything in it on destruction.
class temp_project {
 public:
  temp_project() {
    std::string pattern = (fs::temp_directory_path() / "redundancy-netlify-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = fs::canonical(pattern);
  }
  temp_project(const temp_project&) = delete;
  temp_project& operator=(const temp_project&) = delete;
  ~temp_project() {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }

  const fs::path& root() const { return root_; }
  fs::path functions() const { return root_ / "netlify" / "functions"; }

  // Writes `text` to root/relative, creating folders; returns the absolute path.
  fs::path write(const fs::path& relative, std::string_view text) const {
    const fs::path file = root_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream out{file, std::ios::binary | std::ios::trunc};
    out << text;
    if (!out) throw std::runtime_error("cannot write " + file.string());
    return file;
  }

  // Writes a function file under netlify/functions.
  fs::path function(const fs::path& relative, std::string_view text) const {
    return write(fs::path{"netlify/functions"} / relative, text);
  }

  std::string read(const fs::path& relative) const {
    std::ifstream in{root_ / relative, std::ios::binary};
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  }

 private:
  fs::path root_;
};

inline constexpr std::string_view v1_ok =
    "exports.handler = async (event) => ({ statusCode: 200, body: 'hello ' + event.httpMethod });\n";
inline constexpr std::string_view v2_ok =
    "export default async (req) => new Response('hi ' + new URL(req.url).pathname, { status: 200 });\n";

}  // namespace netlify_test

namespace netlify_test {

// The value of a result<T, std::string> (whose value() cannot throw a string), or a thrown error
// carrying the message, which fails the test case that asked.
template <typename R>
auto must(R&& r) {
  if (!r.has_value()) throw std::runtime_error("unexpected error: " + r.error());
  return std::move(*r);
}

}  // namespace netlify_test

#include "redundancy/core/asio.hpp"

#include <functional>
#include <future>

namespace netlify_test {

// Runs one coroutine to completion on a fresh io_context and returns its value.
template <typename T>
T run(std::function<redundancy::awaitable<T>()> make) {
  boost::asio::io_context ioc;
  auto f = boost::asio::co_spawn(ioc, make(), boost::asio::use_future);
  ioc.run();
  return f.get();
}

}  // namespace netlify_test
