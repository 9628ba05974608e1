// Serves the dashboard's files from a web root, refusing every path that would leave it.
#pragma once
#include "redundancy/http/message.hpp"

#include <filesystem>
#include <string_view>

namespace redundancy::http {

// The Content-Type for a file name by its extension (html, js/mjs, css, svg, png, json, ico, txt);
// application/octet-stream for anything else.
std::string_view content_type_for(const std::filesystem::path& file);

// Answers a GET or HEAD for req.path (already percent-decoded once, never again) from `root`:
// `/` and a folder give its index.html, a folder without one 404 (no listing); 200 with Content-Type
// and ETag (size and modification time), 304 when If-None-Match carries that ETag. A path with `..`,
// a backslash, NUL, or one that resolves (through symlinks too) outside the root gets 400 or 404 and
// nothing outside the root is ever opened. Reads the file synchronously: dashboard files are small.
response serve_static(const std::filesystem::path& root, const request& req);

}  // namespace redundancy::http
