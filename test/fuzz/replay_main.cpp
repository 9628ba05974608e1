// The fuzz targets without libFuzzer: runs one target's entry point over every file of the folders given
// (the committed seed corpus and the regressions found by tools/fuzz), so that the normal g++ build and
// the sanitizer build replay them as ordinary tests. A property that fails aborts, failing the test.
#include "fuzz/fuzz_check.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " CORPUS_DIR [MORE_DIRS...]   (missing folders are skipped)\n";
    return 2;
  }
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (!fs::is_directory(argv[i], ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(argv[i]))
      if (entry.is_regular_file() && !entry.path().filename().string().starts_with('.')) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      std::cout << "replaying " << file.string() << " (" << bytes.size() << " bytes)\n" << std::flush;
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  // An empty corpus would make this test pass without testing anything.
  if (replayed == 0) {
    std::cerr << "no inputs found in the folders given\n";
    return 1;
  }
  std::cout << replayed << " inputs replayed, every property held\n";
  return 0;
}
