// Checks of a script a layer embeds (redundancy_embed_js in CMakeLists.txt): the text compiled into the
// binary is the file under src/ to the byte, and node accepts the file's syntax.
#pragma once
#include "support/files.hpp"
#include "test_paths.hpp"

#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace redundancy::test {

// `file` relative to the source tree, e.g. "src/pm2/ecosystem_apps.cjs".
inline void check_embedded_script(std::string_view embedded, const std::string& file) {
  const auto path = std::filesystem::path(REDUNDANCY_SOURCE_DIR) / file;
  BOOST_TEST_REQUIRE(std::filesystem::exists(path), file);
  const auto on_disk = read_text(path);
  BOOST_TEST(!on_disk.empty(), file);
  // Unequal: the build did not regenerate the header after the script changed.
  BOOST_TEST(embedded == on_disk, file << " differs from the text embedded from it");
  if (std::system("command -v node >/dev/null 2>&1") != 0) {
    BOOST_TEST_MESSAGE("no node on PATH: " << file << " not checked with node --check");
    return;
  }
  const std::string check = "node --check '" + path.string() + "'";
  BOOST_TEST(std::system(check.c_str()) == 0, check);
}

}  // namespace redundancy::test
