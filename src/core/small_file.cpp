// Reading a small file whole.
#include "redundancy/core/small_file.hpp"

#include <fstream>
#include <iterator>

namespace redundancy {

std::optional<std::string> read_small_file(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  if (!in) return std::nullopt;
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  if (in.bad()) return std::nullopt;
  return text;
}

}  // namespace redundancy
