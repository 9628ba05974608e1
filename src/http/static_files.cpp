// Static files from the web root: content types, ETag/304, and the checks that keep every read inside the root.
#include "redundancy/http/static_files.hpp"

#include "redundancy/core/log.hpp"
#include "redundancy/core/small_file.hpp"

#include <array>
#include <sstream>
#include <utility>

namespace redundancy::http {
namespace {
namespace fs = std::filesystem;

constexpr std::array<std::pair<std::string_view, std::string_view>, 10> types{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
}};

// Whether `inner` is `root` or lies below it, comparing whole path elements (so /web2 is not under /web).
bool inside(const fs::path& root, const fs::path& inner) {
  auto r = root.begin();
  auto i = inner.begin();
  for (; r != root.end(); ++r, ++i) {
    if (r->empty()) continue;  // a trailing separator gives an empty last element
    if (i == inner.end() || *r != *i) return false;
  }
  return true;
}

// The root-relative path for a request path, or nullopt when it has `..`, a backslash or NUL.
std::optional<fs::path> relative_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) return std::nullopt;
  fs::path out;
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    const auto slash = path.find('/');
    const auto segment = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
    if (segment == "..") return std::nullopt;
    if (segment.empty() || segment == ".") continue;
    out /= fs::path(std::string(segment));
  }
  return out;
}

std::string make_etag(std::uintmax_t size, fs::file_time_type mtime) {
  std::ostringstream out;
  out << '"' << std::hex << size << '-' << mtime.time_since_epoch().count() << '"';
  return out.str();
}

// Whether an If-None-Match value (a list of tags, weak or strong, or `*`) names `etag`.
bool etag_matches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

response not_found() { return json_error(404, "not_found", "no such file"); }
}  // namespace

std::string_view content_type_for(const fs::path& file) {
  const auto extension = file.extension().string();
  for (const auto& [ext, type] : types)
    if (extension == ext) return type;
  return "application/octet-stream";
}

response serve_static(const fs::path& root, const request& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    auto res = json_error(405, "method_not_allowed", "static files answer GET and HEAD only");
    res.headers.emplace_back("Allow", "GET, HEAD");
    return res;
  }
  const auto relative = relative_path(req.path);
  if (!relative) {
    RLOG("http", debug) << "static: refused path " << req.path.size() << " bytes long that would leave the root";
    return json_error(400, "bad_path", "path not allowed");
  }

  std::error_code ec;
  const auto base = fs::weakly_canonical(root, ec);
  if (ec || !fs::is_directory(base, ec)) return not_found();
  // weakly_canonical follows symlinks, so a link pointing out of the root resolves outside and is refused.
  auto target = fs::weakly_canonical(base / *relative, ec);
  if (ec || !inside(base, target)) {
    RLOG("http", debug) << "static: refused a path resolving outside the root";
    return not_found();
  }
  if (fs::is_directory(target, ec)) {
    target = fs::weakly_canonical(target / "index.html", ec);
    if (ec || !inside(base, target)) return not_found();
  }
  if (!fs::is_regular_file(target, ec)) return not_found();

  const auto size = fs::file_size(target, ec);
  if (ec) return not_found();
  const auto mtime = fs::last_write_time(target, ec);
  if (ec) return not_found();
  const auto etag = make_etag(size, mtime);
  const auto type = std::string(content_type_for(target));

  if (const auto it = req.headers.find("if-none-match"); it != req.headers.end() && etag_matches(it->second, etag)) {
    response res{.status = 304, .content_type = type};
    res.headers.emplace_back("ETag", etag);
    res.headers.emplace_back("Cache-Control", "no-cache");
    return res;
  }

  auto content = read_small_file(target);
  if (!content) return not_found();
  response res{.status = 200, .content_type = type, .body = std::move(*content)};
  res.headers.emplace_back("ETag", etag);
  res.headers.emplace_back("Cache-Control", "no-cache");
  return res;
}

}  // namespace redundancy::http
