// Static files: content types, index.html, ETag/304, no listing, and every way out of the root refused.
#define BOOST_TEST_MODULE http_static_files
#include <boost/test/unit_test.hpp>

#include "redundancy/http/static_files.hpp"

#include <fstream>
#include <random>

using namespace redundancy::http;
namespace fs = std::filesystem;

namespace {
const std::string secret = "TOP-SECRET-OUTSIDE-THE-ROOT";

void write(const fs::path& file, const std::string& content) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
}

struct web_tree {
  fs::path base;
  fs::path root;
  web_tree() {
    base = fs::temp_directory_path() / ("redundancy-static-" + std::to_string(std::random_device{}()));
    root = base / "web";
    write(root / "index.html", "<h1>home</h1>");
    write(root / "app.js", "console.log(1)");
    write(root / "mod.mjs", "export {}");
    write(root / "style.css", "body{}");
    write(root / "logo.svg", "<svg/>");
    write(root / "logo.png", "\x89PNG");
    write(root / "data.json", "{}");
    write(root / "favicon.ico", "ico");
    write(root / "notes.txt", "notes");
    write(root / "blob.bin", "bin");
    write(root / "docs/index.html", "<h1>docs</h1>");
    write(root / "%2e%2e" / "decoy.txt", "decoy");  // a real folder literally named %2e%2e
    fs::create_directories(root / "empty");
    write(base / "secret.txt", secret);
    write(base / "web-other" / "secret.txt", secret);
    fs::create_symlink(base / "secret.txt", root / "link-out.txt");
    fs::create_directory_symlink(base, root / "dir-out");
    fs::create_symlink(root / "notes.txt", root / "link-in.txt");
  }
  ~web_tree() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  response get(std::string path, std::map<std::string, std::string> headers = {}) const {
    return serve_static(root, request{.method = "GET", .path = std::move(path), .headers = std::move(headers)});
  }
};

std::string header(const response& res, std::string_view name) {
  for (const auto& [n, v] : res.headers)
    if (n == name) return v;
  return {};
}
}  // namespace

BOOST_AUTO_TEST_CASE(content_types) {
  web_tree t;
  const std::pair<const char*, const char*> expected[] = {{"/index.html", "text/html; charset=utf-8"},
                                                          {"/app.js", "text/javascript; charset=utf-8"},
                                                          {"/mod.mjs", "text/javascript; charset=utf-8"},
                                                          {"/style.css", "text/css; charset=utf-8"},
                                                          {"/logo.svg", "image/svg+xml"},
                                                          {"/logo.png", "image/png"},
                                                          {"/data.json", "application/json"},
                                                          {"/favicon.ico", "image/x-icon"},
                                                          {"/notes.txt", "text/plain; charset=utf-8"},
                                                          {"/blob.bin", "application/octet-stream"}};
  for (const auto& [path, type] : expected) {
    const auto res = t.get(path);
    BOOST_TEST(res.status == 200u, path);
    BOOST_TEST(res.content_type == type, path);
  }
  BOOST_TEST(t.get("/app.js").body == "console.log(1)");
}

BOOST_AUTO_TEST_CASE(index_and_no_listing) {
  web_tree t;
  BOOST_TEST(t.get("/").body == "<h1>home</h1>");
  BOOST_TEST(t.get("/docs/").body == "<h1>docs</h1>");
  BOOST_TEST(t.get("/docs").body == "<h1>docs</h1>");
  BOOST_TEST(t.get("/empty/").status == 404u);
  BOOST_TEST(t.get("/missing.html").status == 404u);
  BOOST_TEST(t.get("/link-in.txt").body == "notes");  // a symlink inside the root is fine
}

BOOST_AUTO_TEST_CASE(etag_and_304) {
  web_tree t;
  const auto first = t.get("/app.js");
  const auto etag = header(first, "ETag");
  BOOST_TEST(!etag.empty());
  BOOST_TEST(header(t.get("/app.js"), "ETag") == etag);  // stable
  const auto cached = t.get("/app.js", {{"if-none-match", etag}});
  BOOST_TEST(cached.status == 304u);
  BOOST_TEST(cached.body.empty());
  BOOST_TEST(header(cached, "ETag") == etag);
  BOOST_TEST(t.get("/app.js", {{"if-none-match", "\"x\", W/" + etag}}).status == 304u);
  BOOST_TEST(t.get("/app.js", {{"if-none-match", "\"other\""}}).status == 200u);
  write(t.root / "app.js", "console.log(22)");  // new size: new tag
  BOOST_TEST(t.get("/app.js", {{"if-none-match", etag}}).status == 200u);
}

BOOST_AUTO_TEST_CASE(every_way_out_is_refused) {
  web_tree t;
  // Paths as the server hands them over: percent-decoded exactly once.
  const char* attempts[] = {
      "/../secret.txt",            // plain
      "/docs/../../secret.txt",    // plain, deeper
      "/..",                       // the parent itself
      "/%2e%2e/secret.txt",        // what a double-encoded %252e%252e becomes after the one decode
      "/%2e%2e/../secret.txt",     //
      "/..\\secret.txt",           // backslash
      "/\\..\\secret.txt",         //
      "//etc/passwd",              // absolute
      "/etc/passwd",               //
      "/link-out.txt",             // symlink to a file outside
      "/dir-out/secret.txt",       // symlink to a folder outside
      "/../web-other/secret.txt",  // a sibling whose name starts like the root's
  };
  for (const std::string path : attempts) {
    const auto res = t.get(path);
    BOOST_TEST((res.status == 400u || res.status == 404u), path << " -> " << res.status);
    BOOST_TEST(res.body.find(secret) == std::string::npos, path);
  }
  const auto nul = t.get(std::string("/index.html\0.txt", 16));
  BOOST_TEST(nul.status == 400u);
  // The literal folder named %2e%2e is an ordinary folder, not a way up.
  BOOST_TEST(t.get("/%2e%2e/decoy.txt").body == "decoy");
}

BOOST_AUTO_TEST_CASE(only_get_and_head) {
  web_tree t;
  const auto res = serve_static(t.root, request{.method = "POST", .path = "/index.html"});
  BOOST_TEST(res.status == 405u);
  BOOST_TEST(header(res, "Allow") == "GET, HEAD");
  BOOST_TEST(serve_static(t.root, request{.method = "HEAD", .path = "/index.html"}).status == 200u);
  BOOST_TEST(serve_static(t.base / "no-such-root", request{.method = "GET", .path = "/"}).status == 404u);
}
