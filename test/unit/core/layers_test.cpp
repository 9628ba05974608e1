// The layers the build is made of: every #include of a project header in src/ and include/ names a
// layer at or below the including file's own (docs/ARCHITECTURE.md has the table and the why).
#define BOOST_TEST_MODULE layers
#include <boost/test/unit_test.hpp>

#include "test_paths.hpp"

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace fs = std::filesystem;

namespace {

// Each layer and the layers it may include, itself included.
const std::map<std::string, std::set<std::string>>& allowed() {
  static const std::map<std::string, std::set<std::string>> table{
      {"core", {"core"}},
      {"net", {"core", "net"}},
      {"metrics", {"core", "metrics"}},
      {"systemd", {"core", "systemd"}},
      {"pm2", {"core", "pm2"}},
      {"github", {"core", "net", "github"}},
      {"netlify", {"core", "net", "netlify"}},
      {"orchestrator", {"core", "net", "metrics", "orchestrator"}},
      {"http", {"core", "net", "metrics", "orchestrator", "http"}},
      {"app", {"core", "net", "metrics", "systemd", "pm2", "github", "netlify", "orchestrator", "http", "app"}},
      {"cli", {"core", "net", "metrics", "systemd", "pm2", "github", "netlify", "orchestrator", "http", "app", "cli"}},
  };
  return table;
}

// The layer of a file: the folder right under src/ or include/redundancy/.
std::string layer_of(const fs::path& file, const fs::path& root) { return fs::relative(file, root).begin()->string(); }

std::vector<std::string> upward_includes(const fs::path& root) {
  static const std::regex include_line{R"(^\s*#\s*include\s+"redundancy/([a-z0-9_]+)/)"};
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    if (entry.path().parent_path() == root) continue;  // main.cpp: above every layer
    const auto layer = layer_of(entry.path(), root);
    const auto it = allowed().find(layer);
    if (it == allowed().end()) {
      found.push_back(entry.path().string() + ": folder '" + layer + "' is no layer (add it to the table)");
      continue;
    }
    std::ifstream in{entry.path()};
    std::string line;
    for (unsigned number = 1; std::getline(in, line); ++number) {
      std::smatch m;
      if (std::regex_search(line, m, include_line) && !it->second.contains(m[1].str()))
        found.push_back(entry.path().string() + ":" + std::to_string(number) + ": " + layer + " includes " +
                        m[1].str());
    }
  }
  return found;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sources_include_only_their_own_layer_and_those_below) {
  const auto found = upward_includes(fs::path{REDUNDANCY_SOURCE_DIR} / "src");
  BOOST_TEST(found.empty(), joined(found));
}

BOOST_AUTO_TEST_CASE(headers_include_only_their_own_layer_and_those_below) {
  const auto found = upward_includes(fs::path{REDUNDANCY_SOURCE_DIR} / "include" / "redundancy");
  BOOST_TEST(found.empty(), joined(found));
}

BOOST_AUTO_TEST_CASE(an_upward_include_is_found) {
  // The scanner itself: a core file that includes the orchestrator must be reported.
  const auto root = fs::temp_directory_path() / ("redundancy-layers-" + std::to_string(::getpid()));
  fs::create_directories(root / "core");
  std::ofstream{root / "core" / "bad.cpp"} << "// x\n#include \"redundancy/orchestrator/store.hpp\"\n";
  const auto found = upward_includes(root);
  fs::remove_all(root);
  BOOST_REQUIRE(found.size() == 1u);
  BOOST_TEST(found[0].ends_with("bad.cpp:2: core includes orchestrator"), found[0]);
}
