// The manifest: rendering and parsing, stale detection, regeneration written only on change and atomically.
#define BOOST_TEST_MODULE netlify_manifest
#include <boost/test/unit_test.hpp>

#include "redundancy/netlify/manifest.hpp"
#include "unit/netlify/tree.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

using namespace redundancy::netlify;
using netlify_test::temp_project;
namespace fs = std::filesystem;

namespace {

const fs::path manifest_rel{"netlify/functions/functions-manifest.json"};

redundancy::sys_time at(long seconds) { return redundancy::sys_time{std::chrono::seconds{seconds}}; }

std::vector<std::string> problems_of(const temp_project& p) {
  const auto m = netlify_test::must(parse_manifest(p.read(manifest_rel)));
  return manifest_problems(m, netlify_test::must(discover_functions(p.root(), p.functions())), p.root());
}

bool mentions(const std::vector<std::string>& list, std::string_view text) {
  for (const auto& s : list)
    if (s.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(render_then_parse_round_trips) {
  std::vector<manifest_function> fs{{"a", "netlify/functions/a.js", "v1", "fnv1a64:0000000000000001"},
                                    {"b", "netlify/functions/b/index.mjs", "v2", "fnv1a64:0000000000000002"}};
  const auto text = render_manifest(fs, at(1700000000));
  BOOST_TEST(text.find("\"generated_at\": \"2023-11-14T22:13:20Z\"") != std::string::npos);
  const auto m = parse_manifest(text);
  BOOST_REQUIRE(m.has_value());
  BOOST_TEST(m->version == 1);
  BOOST_TEST(m->generated_at == "2023-11-14T22:13:20Z");
  BOOST_TEST((m->functions == fs));
  BOOST_TEST(netlify_test::must(parse_manifest(render_manifest({}, at(0)))).functions.empty());
}

BOOST_AUTO_TEST_CASE(parse_errors_carry_the_path) {
  BOOST_TEST(parse_manifest("{").error().starts_with("not JSON"));
  BOOST_TEST(parse_manifest("[]").error() == "expected an object");
  BOOST_TEST(parse_manifest("{}").error() == "functions: missing");
  BOOST_TEST(parse_manifest(R"({"functions": [{"name": "a"}, {"name": 3}]})").error() ==
             "functions[1].name: expected a non-empty string");
  BOOST_TEST(parse_manifest(R"({"functions": [{"name": "a", "path": 1}]})").error() ==
             "functions[0].path: expected a string");
  // zisi's own manifest names the file mainFile.
  const auto zisi = parse_manifest(R"({"functions": [{"name": "a", "mainFile": "/abs/a.js", "runtime": "js"}]})");
  BOOST_REQUIRE(zisi.has_value());
  BOOST_TEST(zisi->functions.at(0).path == "/abs/a.js");
}

BOOST_AUTO_TEST_CASE(regenerate_writes_then_leaves_an_unchanged_manifest_untouched) {
  temp_project p;
  p.function("hello.js", netlify_test::v1_ok);
  p.function("modern/index.mjs", netlify_test::v2_ok);
  const auto first = regenerate_manifest(p.root(), p.functions(), p.root() / manifest_rel, at(1000));
  BOOST_TEST(first.error == "");
  BOOST_TEST(first.written);
  BOOST_TEST(first.functions == 2u);
  const auto text = p.read(manifest_rel);
  const auto m = netlify_test::must(parse_manifest(text));
  BOOST_REQUIRE(m.functions.size() == 2u);
  BOOST_TEST(m.functions[0].name == "hello");
  BOOST_TEST(m.functions[0].format == "v1");
  BOOST_TEST(m.functions[1].path == "netlify/functions/modern/index.mjs");
  BOOST_TEST(m.functions[1].format == "v2");
  BOOST_TEST(problems_of(p).empty());

  const auto mtime = fs::last_write_time(p.root() / manifest_rel);
  const auto second = regenerate_manifest(p.root(), p.functions(), p.root() / manifest_rel, at(2000));
  BOOST_TEST(second.error == "");
  BOOST_TEST(!second.written);
  BOOST_TEST(p.read(manifest_rel) == text);  // generated_at kept: nothing was written
  BOOST_TEST((fs::last_write_time(p.root() / manifest_rel) == mtime));
}

BOOST_AUTO_TEST_CASE(stale_manifest_detected_and_regenerated) {
  temp_project p;
  p.function("hello.js", netlify_test::v1_ok);
  p.function("gone.js", netlify_test::v1_ok);
  BOOST_REQUIRE(regenerate_manifest(p.root(), p.functions(), p.root() / manifest_rel, at(1)).written);
  fs::remove(p.functions() / "gone.js");
  p.function("added.mjs", netlify_test::v2_ok);
  p.function("hello.js", netlify_test::v2_ok);  // rewritten as v2
  const auto problems = problems_of(p);
  BOOST_TEST(problems.size() == 3u);
  BOOST_TEST(mentions(problems, "gone: listed file netlify/functions/gone.js is missing"));
  BOOST_TEST(mentions(problems, "added: present but not listed"));
  BOOST_TEST(mentions(problems, "hello: listed as v1, now v2"));

  const auto again = regenerate_manifest(p.root(), p.functions(), p.root() / manifest_rel, at(2));
  BOOST_TEST(again.written);
  BOOST_TEST(problems_of(p).empty());
  const auto m = netlify_test::must(parse_manifest(p.read(manifest_rel)));
  BOOST_TEST(m.generated_at == "1970-01-01T00:00:02Z");
  BOOST_TEST(m.functions.size() == 2u);
}

BOOST_AUTO_TEST_CASE(content_change_is_stale) {
  temp_project p;
  p.function("hello.js", netlify_test::v1_ok);
  BOOST_REQUIRE(regenerate_manifest(p.root(), p.functions(), p.root() / manifest_rel, at(1)).written);
  std::string edited{netlify_test::v1_ok};
  edited.append("\n// edited\n");
  p.function("hello.js", edited);
  BOOST_TEST(mentions(problems_of(p), "hello: changed since the manifest was written"));
}

BOOST_AUTO_TEST_CASE(unparseable_manifest_is_replaced) {
  temp_project p;
  p.function("hello.js", netlify_test::v1_ok);
  p.write(manifest_rel, "{ half");
  const auto out = regenerate_manifest(p.root(), p.functions(), p.root() / manifest_rel, at(5));
  BOOST_TEST(out.written);
  BOOST_TEST(parse_manifest(p.read(manifest_rel)).has_value());
}

BOOST_AUTO_TEST_CASE(failed_write_leaves_the_old_manifest_intact) {
  temp_project p;
  p.function("hello.js", netlify_test::v1_ok);
  const std::string old = "{\"version\": 1, \"functions\": []}\n";
  p.write(manifest_rel, old);
  // A full disk, simulated for root and non-root alike: a file size limit below the new manifest's
  // size makes write() fail with EFBIG half-way through the temporary file.
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 64;
  BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  const auto out = regenerate_manifest(p.root(), p.functions(), p.root() / manifest_rel, at(5));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  BOOST_TEST(!out.written);
  BOOST_TEST(out.error.find("cannot write") != std::string::npos, out.error);
  BOOST_TEST(p.read(manifest_rel) == old);
  // No temporary file is left behind.
  for (const auto& e : fs::directory_iterator{p.functions()})
    BOOST_TEST(e.path().filename().string().find("tmp") == std::string::npos, e.path());
  // With room again it is written.
  BOOST_TEST(regenerate_manifest(p.root(), p.functions(), p.root() / manifest_rel, at(6)).written);
}
