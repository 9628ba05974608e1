// Discovery as Netlify does it (every layout and extension, precedence, node_modules), v1/v2 detection.
#define BOOST_TEST_MODULE netlify_discovery
#include <boost/test/unit_test.hpp>

#include "redundancy/netlify/discovery.hpp"
#include "unit/netlify/tree.hpp"

#include <algorithm>
#include <map>

using namespace redundancy::netlify;
using netlify_test::temp_project;

namespace {

std::map<std::string, function_entry> by_name(const std::vector<function_entry>& list) {
  std::map<std::string, function_entry> out;
  for (const auto& f : list) out[f.name] = f;
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_extension_is_a_function) {
  temp_project p;
  for (const std::string ext : {".js", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".zip"})
    p.function("f" + ext.substr(1) + ext, netlify_test::v1_ok);
  p.function("readme.md", "# not a function");
  p.function("data.json", "{}");
  p.function("functions-manifest.json", "{}");
  auto found = discover_functions(p.root(), p.functions());
  BOOST_REQUIRE(found.has_value());
  const auto m = by_name(*found);
  BOOST_TEST(m.size() == 8u);
  BOOST_TEST(m.at("fjs").relative_path == "netlify/functions/fjs.js");
  BOOST_TEST(m.at("fjs").file == p.functions() / "fjs.js");
  BOOST_TEST((m.at("fts").language == function_language::typescript));
  BOOST_TEST((m.at("ftsx").language == function_language::typescript));
  BOOST_TEST((m.at("fcjs").language == function_language::javascript));
  BOOST_TEST((m.at("fzip").language == function_language::archive));
  BOOST_TEST((m.at("fzip").format == function_format::unknown));
  BOOST_TEST((m.at("fmts").format == function_format::v1));
  // Sorted by name.
  BOOST_TEST(
      std::is_sorted(found->begin(), found->end(), [](const auto& a, const auto& b) { return a.name < b.name; }));
}

BOOST_AUTO_TEST_CASE(folder_entry_order_named_file_before_index_per_extension) {
  temp_project p;
  p.function("a/a.js", netlify_test::v1_ok);
  p.function("a/index.js", netlify_test::v2_ok);
  p.function("b/index.js", netlify_test::v1_ok);
  p.function("b/b.ts", netlify_test::v2_ok);  // .js comes before .ts, index.js wins
  p.function("c/c.mts", netlify_test::v2_ok);
  p.function("c/helper.js", "module.exports = 1;");
  p.function("d/index.cjs", netlify_test::v1_ok);
  p.function("d/d.mjs", netlify_test::v2_ok);  // .mjs before .cjs
  p.function("empty/helper.txt", "");          // no entry file: not a function
  auto found = discover_functions(p.root(), p.functions());
  BOOST_REQUIRE(found.has_value());
  const auto m = by_name(*found);
  BOOST_TEST(m.size() == 4u);
  BOOST_TEST(m.at("a").relative_path == "netlify/functions/a/a.js");
  BOOST_TEST(m.at("b").relative_path == "netlify/functions/b/index.js");
  BOOST_TEST(m.at("c").relative_path == "netlify/functions/c/c.mts");
  BOOST_TEST(m.at("d").relative_path == "netlify/functions/d/d.mjs");
  BOOST_TEST(m.at("a").in_folder);
  BOOST_TEST(!m.contains("empty"));
}

BOOST_AUTO_TEST_CASE(folder_beats_file_and_js_beats_others) {
  temp_project p;
  p.function("same.js", netlify_test::v1_ok);
  p.function("same/index.mjs", netlify_test::v2_ok);
  p.function("pick.ts", netlify_test::v2_ok);
  p.function("pick.mjs", netlify_test::v2_ok);
  p.function("pick.js", netlify_test::v1_ok);
  p.function("two.mjs", netlify_test::v2_ok);
  p.function("two.ts", netlify_test::v2_ok);
  auto found = discover_functions(p.root(), p.functions());
  BOOST_REQUIRE(found.has_value());
  const auto m = by_name(*found);
  BOOST_TEST(m.size() == 3u);
  BOOST_TEST(m.at("same").relative_path == "netlify/functions/same/index.mjs");
  BOOST_TEST(m.at("pick").relative_path == "netlify/functions/pick.js");
  BOOST_TEST(m.at("two").relative_path == "netlify/functions/two.ts");
}

BOOST_AUTO_TEST_CASE(node_modules_and_dot_entries_are_skipped) {
  temp_project p;
  p.function("node_modules/node_modules.js", netlify_test::v1_ok);
  p.function("node_modules/index.js", netlify_test::v1_ok);
  p.function(".hidden.js", netlify_test::v1_ok);
  p.function("real.js", netlify_test::v1_ok);
  auto found = discover_functions(p.root(), p.functions());
  BOOST_REQUIRE(found.has_value());
  BOOST_REQUIRE(found->size() == 1u);
  BOOST_TEST(found->front().name == "real");
}

BOOST_AUTO_TEST_CASE(missing_folder_is_an_error_naming_it) {
  temp_project p;
  auto found = discover_functions(p.root(), p.functions());
  BOOST_REQUIRE(!found.has_value());
  BOOST_TEST(found.error().find("does not exist") != std::string::npos);
  BOOST_TEST(found.error().find("netlify/functions") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(hash_follows_content) {
  temp_project p;
  p.function("h.js", netlify_test::v1_ok);
  const auto first = netlify_test::must(discover_functions(p.root(), p.functions())).at(0).hash;
  BOOST_TEST(first == content_hash(netlify_test::v1_ok));
  BOOST_TEST(first.starts_with("fnv1a64:"));
  BOOST_TEST(first.size() == 8u + 16u);
  p.function("h.js", std::string{netlify_test::v1_ok} + "// more\n");
  BOOST_TEST(netlify_test::must(discover_functions(p.root(), p.functions())).at(0).hash != first);
  // Known FNV-1a 64 values.
  BOOST_TEST(content_hash("") == "fnv1a64:cbf29ce484222325");
  BOOST_TEST(content_hash("a") == "fnv1a64:af63dc4c8601ec8c");
}

BOOST_AUTO_TEST_CASE(v1_shapes) {
  for (const std::string src : {
           "exports.handler = async () => ({statusCode: 200})",
           "module.exports.handler = function (e, c) {}",
           "module.exports = { handler: async () => ({}) }",
           "module.exports = { handler }",
           "export const handler = async () => ({statusCode: 200})",
           "export async function handler(event) {}",
           "export function handler(event) {}",
           "const h = () => {}; export { h as handler };",
           "const handler = () => {}; export { handler };",
           "export const handler: Handler = async () => ({ statusCode: 200 })",
           // A handler export wins even with a default export present.
           "export default () => {}; export const handler = () => {};",
       })
    BOOST_TEST(to_string(detect_format(src)) == "v1", src);
}

BOOST_AUTO_TEST_CASE(v2_shapes) {
  for (const std::string src : {
           "export default async (req, context) => new Response('ok')",
           "export default function (req) { return new Response('x') }",
           "const f = async () => new Response(''); export { f as default };",
           "export default async () => new Response(''); export const config = { path: '/x' };",
           "// exports.handler = old\nexport default () => new Response('')",
       })
    BOOST_TEST(to_string(detect_format(src)) == "v2", src);
}

BOOST_AUTO_TEST_CASE(unknown_shapes_and_lookalikes_in_comments_and_strings) {
  for (const std::string src : {
           "module.exports = () => {}",
           "const handler = 1;",
           "/* exports.handler = x */ const y = 1;",
           "const s = 'exports.handler = 1'; const t = \"export default\";",
           "const t = `export default ${1}`;",
           "",
       })
    BOOST_TEST(to_string(detect_format(src)) == "unknown", src);
  BOOST_TEST((format_from_string("v2") == function_format::v2));
  BOOST_TEST(!format_from_string("v3").has_value());
}
