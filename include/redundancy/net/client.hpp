// An HTTP/1.1 client for one request at a time (GitHub's API, probes, webhooks, the CLI talking to the
// daemon): plain or TLS, a deadline over the whole exchange, a cap on the body, failures as values.
#pragma once
#include "redundancy/core/asio.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redundancy::http {

using namespace std::chrono_literals;

// One request. Headers given here win over the defaults (Host, User-Agent, Content-Length).
struct http_request_spec {
  std::string method{"GET"};
  std::string url{};  // http://host[:port]/path?query or https://...; IPv6 hosts as [::1]
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  std::chrono::milliseconds timeout{10s};          // the whole exchange: resolve, connect, TLS, write, read
  std::size_t max_body{8 * 1024 * 1024};           // a longer body is an error, not a truncated reply
  std::optional<std::filesystem::path> ca_file{};  // PEM bundle to trust instead of the system's store
};

// What came back. `error` is empty exactly when a reply (any status, 4xx and 5xx included) was read;
// otherwise it says why in words ("connection refused", "timed out after 10s", "body over 8 MiB").
struct http_reply {
  unsigned status{0};
  std::map<std::string, std::string> headers{};  // names lower-case; repeated headers joined with ", "
  std::string body{};
  std::string error{};
};

// A URL split into what a connection needs.
struct parsed_url {
  std::string scheme{};  // "http" or "https"
  std::string host{};    // without brackets for IPv6 literals
  std::uint16_t port{0};
  std::string target{"/"};  // path and query, never empty

  bool tls() const { return scheme == "https"; }
  // The Host header value: host, bracketed when IPv6, with the port when it is not the scheme's default.
  std::string host_header() const;
};

// Splits an absolute http:// or https:// URL. Errors name what is wrong ("unsupported scheme 'ftp'",
// "bad port '99999'"); user info and fragments are refused or dropped as HTTP clients do.
boost::system::result<parsed_url, std::string> parse_url(std::string_view url);

// Performs the request on the calling coroutine's executor. Never throws for network, TLS or protocol
// failures: they come back in http_reply::error. Always sends `User-Agent: redundancy/<version>`
// (GitHub refuses requests without one) unless the spec sets its own.
awaitable<http_reply> http_fetch(http_request_spec spec);

// "10s", "1500ms", "2min": a duration as the error messages show it.
std::string describe_duration(std::chrono::milliseconds d);

// "8 MiB", "64 KiB", "100 bytes": a size as the error messages show it.
std::string describe_size(std::size_t bytes);

}  // namespace redundancy::http
