// Test support for the netlify tests: a temporary project folder that writes function trees.
#pragma once
#include "support/files.hpp"
#include "support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace netlify_test {

namespace fs = std::filesystem;

// A fresh folder under the system temp folder (by its canonical path), removed with everything in it on
// destruction, even after a test took the permissions from it.
class temp_project {
 public:
  temp_project() = default;
  temp_project(const temp_project&) = delete;
  temp_project& operator=(const temp_project&) = delete;
  ~temp_project() {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
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

  std::string read(const fs::path& relative) const { return redundancy::test::read_text(root_ / relative); }

 private:
  redundancy::test::temp_dir dir_{"redundancy-netlify"};  // removes the folder after ~temp_project
  fs::path root_ = fs::canonical(dir_.path());
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
#include "support/run.hpp"

#include <functional>

namespace netlify_test {

// Runs one coroutine, made by `make` (whose captures outlive it), to completion on a fresh io_context.
template <typename T>
T run(std::function<redundancy::awaitable<T>()> make) {
  return redundancy::test::run(make());
}

}  // namespace netlify_test
