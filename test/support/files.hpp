// Whole files as strings, for tests: what a program wrote, a fixture, a config to hand to the binary.
#pragma once
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace redundancy::test {

// The file's bytes; "" when it is missing or unreadable (a test then fails on the content, not here).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The file's bytes; throws (failing the test) when it cannot be opened: for fixtures, whose absence must
// not pass for an empty input.
inline std::string read_existing_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `text` as the whole file, creating its folder first.
inline void write_text(const std::filesystem::path& p, std::string_view text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace redundancy::test
