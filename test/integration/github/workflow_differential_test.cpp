// Our validator against GitHub's reference parser: test/differential/github_workflow_parser.mjs runs
// @actions/workflow-parser (the pinned npm package, in build/npm) under node over every workflow of
// test/fixtures/github/workflows and test/fixtures/github/differential; both must agree on which are
// valid. A disagreement prints both verdicts with both messages. REDUNDANCY_WORKFLOW_CORPUS=dir1:dir2
// adds folders of workflows.
#define BOOST_TEST_MODULE github_workflow_differential
#include <algorithm>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "redundancy/github/workflow.hpp"
#include "test_paths.hpp"

using namespace redundancy::github;
namespace fs = std::filesystem;

namespace {

// The fixtures, plus the *.yml and *.yaml of each folder in $REDUNDANCY_WORKFLOW_CORPUS (separated by
// ':'), to compare on real workflows without adding them to the repository.
std::vector<fs::path> corpus() {
  std::vector<fs::path> dirs{fs::path(REDUNDANCY_SOURCE_DIR) / "test/fixtures/github/workflows",
                             fs::path(REDUNDANCY_SOURCE_DIR) / "test/fixtures/github/differential"};
  if (const char* extra = std::getenv("REDUNDANCY_WORKFLOW_CORPUS")) {
    std::string_view rest = extra;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      if (colon != 0) dirs.emplace_back(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
  }
  std::vector<fs::path> files;
  for (const auto& dir : dirs)
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".yml" || entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// What the reference says of each file, keyed by the path it was given.
std::map<std::string, boost::json::object> reference_verdicts(const std::vector<fs::path>& files) {
  const fs::path script = fs::path(REDUNDANCY_SOURCE_DIR) / "test/differential/github_workflow_parser.mjs";
  std::string command = "REDUNDANCY_BUILD_DIR=";
  command += quoted(REDUNDANCY_BUILD_DIR);
  command += " node ";
  command += quoted(script.string());
  for (const auto& f : files) command += " " + quoted(f.string());
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  BOOST_REQUIRE_MESSAGE(p, "cannot run " << command);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  BOOST_REQUIRE_MESSAGE(status == 0,
                        "the reference parser failed (is build/npm installed? tools/bootstrap): " << command);
  std::map<std::string, boost::json::object> verdicts;
  std::size_t start = 0;
  while (start < out.size()) {
    const auto end = out.find('\n', start);
    const std::string line = out.substr(start, end - start);
    start = end == std::string::npos ? out.size() : end + 1;
    if (line.empty()) continue;
    auto v = boost::json::parse(line).as_object();
    verdicts[std::string(v.at("file").as_string())] = std::move(v);
  }
  return verdicts;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ours_and_githubs_parser_agree_on_valid_and_invalid) {
  const auto files = corpus();
  BOOST_REQUIRE(files.size() >= 20u);
  const auto verdicts = reference_verdicts(files);
  std::size_t agreed = 0;
  for (const auto& f : files) {
    const auto it = verdicts.find(f.string());
    BOOST_REQUIRE_MESSAGE(it != verdicts.end(), "no verdict from the reference for " << f);
    const bool theirs = it->second.at("valid").as_bool();
    const auto ours = load_workflow(f);
    std::string our_messages;
    for (const auto& p : ours.problems) our_messages += "\n    " + p;
    std::string their_messages;
    for (const auto& e : it->second.at("errors").as_array()) their_messages += "\n    " + std::string(e.as_string());
    BOOST_TEST(ours.valid() == theirs,
               f.filename().string() << ": GitHub's parser says " << (theirs ? "valid" : "invalid") << their_messages
                                     << "\n  ours says " << (ours.valid() ? "valid" : "invalid") << our_messages);
    if (ours.valid() == theirs) ++agreed;
    // --log_level=message shows every pair, to compare the wording too.
    BOOST_TEST_MESSAGE(f.filename().string()
                       << ":\n  GitHub's parser:" << their_messages << "\n  ours:" << our_messages);
  }
  BOOST_TEST_MESSAGE("agreement with GitHub's parser: " << agreed << " of " << files.size() << " workflows");
}
