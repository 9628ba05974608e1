// Hostile requests against the real daemon: malformed request lines, bad chunked bodies, 1 MiB
// headers, invalid UTF-8 and NUL in targets, every method on every route, tokens of every length and
// one byte off, foreign Host and Origin, paths that try to leave the web root. Each answer is a 4xx
// (never a 5xx but /api/health's 503), none holds a secret or a file from outside the web root, and
// afterwards the daemon's state (API, every row of its database, its descriptors and children) is
// exactly what it was.
#define BOOST_TEST_MODULE http_abuse_requests
#include "abuse_support.hpp"

#include <set>

using namespace redundancy::test;
using namespace redundancy::test::abuse;

namespace {

// Sends `bytes` on a new connection and reads one answer; nullopt when the daemon closed without one.
// A send cut short (the daemon answered early and closed) still gets its answer read.
std::optional<http_answer> send_request(const quiet_daemon& d, std::string_view bytes, bool head = false) {
  raw_connection c(d.port());
  c.send(bytes);
  return c.read_answer(std::chrono::seconds(15), head);
}

std::string host_line(const quiet_daemon& d) { return "Host: " + d.address + "\r\n"; }

// `bytes` must get exactly `status`, with the error shape and no secret.
void expect_status(const quiet_daemon& d, const std::string& label, std::string_view bytes, int status) {
  const auto answer = send_request(d, bytes);
  BOOST_TEST_REQUIRE(answer.has_value(), label << ": an answer");
  BOOST_TEST(answer->status == status, label << ": " << answer->status << " " << answer->body);
  BOOST_TEST(answer->body.find(R"("error")") != std::string::npos, label << ": the error shape");
  BOOST_TEST(!leaks(*answer, d), label << ": no secret");
}

// `bytes` must be refused with one of `statuses` (the parser's 400 or the check's 401, say).
void expect_refused(const quiet_daemon& d, const std::string& label, std::string_view bytes, std::set<int> statuses) {
  const auto answer = send_request(d, bytes);
  BOOST_TEST_REQUIRE(answer.has_value(), label << ": an answer");
  BOOST_TEST(statuses.contains(answer->status), label << ": " << answer->status << " " << answer->body);
  BOOST_TEST(!leaks(*answer, d), label << ": no secret");
}

const std::vector<std::string> methods{"GET",     "HEAD",  "POST",    "PUT",      "DELETE", "PATCH",
                                       "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "FOO"};

// Every route of src/http/api.cpp with its methods, plus static paths and paths that match nothing.
const std::vector<std::pair<std::string, std::set<std::string>>> routes{{"/api/health", {"GET"}},
                                                                        {"/api/status", {"GET"}},
                                                                        {"/api/subsystems/pm2", {"GET"}},
                                                                        {"/api/subsystems/nothing", {"GET"}},
                                                                        {"/api/check", {"POST"}},
                                                                        {"/api/emergency", {"POST"}},
                                                                        {"/api/pm2/restart", {"POST"}},
                                                                        {"/api/github/trigger", {"POST"}},
                                                                        {"/api/netlify/regenerate", {"POST"}},
                                                                        {"/api/netlify/deploy", {"POST"}},
                                                                        {"/api/pause", {"POST"}},
                                                                        {"/api/resume", {"POST"}},
                                                                        {"/api/actions", {"GET"}},
                                                                        {"/api/actions/1", {"GET"}},
                                                                        {"/api/events", {"GET"}},
                                                                        {"/api/report", {"GET"}},
                                                                        {"/metrics", {"GET"}},
                                                                        {"/", {"GET"}},
                                                                        {"/index.html", {"GET"}},
                                                                        {"/api/nothing", {}},
                                                                        {"/nothing.html", {"GET"}}};

}  // namespace

BOOST_FIXTURE_TEST_CASE(malformed_requests_get_400_and_change_nothing, quiet_daemon) {
  const auto before = take();
  const auto host = host_line(*this);
  const std::vector<std::pair<std::string, std::string>> cases{
      {"no target", "GET\r\n\r\n"},
      {"HTTP/0.9", "GET /api/health\r\n\r\n"},
      {"two spaces", "GET  /api/health HTTP/1.1\r\n" + host + "\r\n"},
      {"no method", "/api/health HTTP/1.1\r\n" + host + "\r\n"},
      {"binary garbage", std::string("\x00\x01\x02\xff garbage\r\n\r\n", 16)},
      {"a TLS hello",
       std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(64, 'x') + "\r\n\r\n"},
      {"header without colon", "GET /api/health HTTP/1.1\r\n" + host + "Broken header\r\n\r\n"},
      {"space in a header name", "GET /api/health HTTP/1.1\r\n" + host + "Bad Name: x\r\n\r\n"},
      {"control byte in a header", "GET /api/health HTTP/1.1\r\n" + host + "X-A: a\x01z\r\n\r\n"},
      {"absolute target", "GET http://127.0.0.1/api/health HTTP/1.1\r\n" + host + "\r\n"},
      {"asterisk target", "OPTIONS * HTTP/1.1\r\n" + host + "\r\n"},
      {"truncated escape", "GET /api/health%2 HTTP/1.1\r\n" + host + "\r\n"},
      {"bad escape", "GET /api/%zzhealth HTTP/1.1\r\n" + host + "\r\n"},
      {"content-length not a number", "POST /api/check HTTP/1.1\r\n" + host + "Content-Length: abc\r\n\r\n"},
      {"negative content-length", "POST /api/check HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n"},
      {"two content-lengths",
       "POST /api/check HTTP/1.1\r\n" + host + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"},
  };
  for (const auto& [label, bytes] : cases) expect_status(*this, label, bytes, 400);
  expect_refused(*this, "content-length overflow",
                 "POST /api/check HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999999\r\n\r\n", {400, 413});
  // Only HTTP/1.0 and 1.1 are spoken (Beast's parser refuses the others).
  for (const std::string version : {"HTTP/9.9", "HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/1.10"})
    expect_status(*this, version, "GET /api/health " + version + "\r\n" + host + "\r\n", 400);
  // An obsolete folded header may be refused or unfolded (RFC 9112 allows both), never more.
  expect_refused(*this, "folded header", "GET /api/health HTTP/1.1\r\n" + host + "X-A: a\r\n folded\r\n\r\n",
                 {400, 503});
  // Missing Host in HTTP/1.1 is refused too.
  expect_status(*this, "no Host", "GET /api/health HTTP/1.1\r\n\r\n", 400);
  require_unchanged(before);
}

BOOST_FIXTURE_TEST_CASE(bad_chunked_bodies_get_400_and_change_nothing, quiet_daemon) {
  const auto before = take();
  const auto start = "POST /api/check HTTP/1.1\r\n" + host_line(*this) + "Authorization: Bearer " + token + "\r\n";
  const auto chunked = start + "Transfer-Encoding: chunked\r\n\r\n";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"chunk size not hex", chunked + "zz\r\n{}\r\n0\r\n\r\n"},
      {"no CRLF after the data", chunked + "2\r\n{}XX0\r\n\r\n"},
      {"data longer than its size", chunked + "1\r\n{}\r\n0\r\n\r\n"},
      {"bad chunk extension", chunked + "2;\x01\r\n{}\r\n0\r\n\r\n"},
      {"negative chunk size", chunked + "-2\r\n{}\r\n0\r\n\r\n"},
      {"gzip then chunked", start + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"gzip alone", start + "Transfer-Encoding: gzip\r\n\r\n{}"},
      {"an unknown coding", start + "Transfer-Encoding: xchunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"chunked twice", start + "Transfer-Encoding: chunked, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"two Transfer-Encoding fields",
       start + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"chunked and content-length",
       start + "Transfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"content-length and chunked",
       start + "Content-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
  };
  for (const auto& [label, bytes] : cases) expect_status(*this, label, bytes, 400);
  expect_refused(*this, "chunk size overflow", chunked + "fffffffffffffffffffff\r\n{}\r\n0\r\n\r\n", {400, 413});
  // Chunks adding up past the body limit (64 KiB): 413.
  std::string big = chunked;
  for (int i = 0; i < 80; ++i) big += "400\r\n" + std::string(1024, ' ') + "\r\n";
  expect_status(*this, "chunks over the body limit", big + "0\r\n\r\n", 413);
  require_unchanged(before);

  // A well-formed chunked body still works (the parser was not just broken): POST it where it changes
  // nothing, a GET route (405 once the token passed), and with a wrong token (401).
  const auto fine = "POST /api/health HTTP/1.1\r\n" + host_line(*this) + "Transfer-Encoding: chunked\r\n";
  expect_status(*this, "good chunked body", fine + "Authorization: Bearer " + token + "\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                405);
  expect_status(*this, "good chunked body, no token", fine + "\r\n2\r\n{}\r\n0\r\n\r\n", 401);
}

// Beast merges a chunked body's trailer into the header: a token, Authorization or Host sent after the
// body would pass (or fail) the checks as if the client had sent it before. Each request with trailer
// fields is refused whole, before any check, and the connection closed.
BOOST_FIXTURE_TEST_CASE(chunked_trailers_are_refused_before_any_check, quiet_daemon) {
  const auto before = take();
  const auto chunked = "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n";
  const auto bearer = "Authorization: Bearer " + token + "\r\n";
  const std::vector<std::pair<std::string, std::string>> cases{
      // The token only in the trailer: was 202, the check queued.
      {"a token only in the trailer", "POST /api/check HTTP/1.1\r\n" + host_line(*this) + chunked + bearer + "\r\n"},
      // A wrong Authorization in the trailer beside the right one in the header: was 401.
      {"a trailer Authorization overriding the header's",
       "POST /api/health HTTP/1.1\r\n" + host_line(*this) + bearer + chunked + "Authorization: Bearer wrong\r\n\r\n"},
      // No Host in the header, a loopback one in the trailer: was 202 (without it, 400 "missing Host").
      {"a Host only in the trailer", "POST /api/check HTTP/1.1\r\n" + bearer + chunked + "Host: 127.0.0.1\r\n\r\n"},
      {"a foreign Host in the header, a loopback one in the trailer",
       "GET /api/status HTTP/1.1\r\nHost: evil.example\r\n" + std::string(chunked) + "Host: 127.0.0.1\r\n\r\n"},
      {"an unrelated trailer field",
       "POST /api/check HTTP/1.1\r\n" + host_line(*this) + bearer + chunked + "X-Checksum: 1234\r\n\r\n"},
  };
  for (const auto& [label, bytes] : cases) {
    expect_status(*this, label, bytes, 400);
    BOOST_TEST(send_request(*this, bytes)->body.find("trailers are not accepted") != std::string::npos, label);
  }
  // The connection is closed after the refusal: a request pipelined behind it is never answered.
  raw_connection c(port());
  c.send("POST /api/check HTTP/1.1\r\n" + host_line(*this) + chunked + bearer + "\r\nGET /api/health HTTP/1.1\r\n" +
         host_line(*this) + "\r\n");
  const auto first = c.read_answer(15s);
  BOOST_TEST_REQUIRE(first.has_value());
  BOOST_TEST(first->status == 400);
  BOOST_TEST(!c.read_answer(5s).has_value(), "no answer to the request behind it");
  require_unchanged(before);

  // The same chunked body without trailer fields still goes on to the checks (405 past the token).
  expect_status(*this, "no trailer", "POST /api/health HTTP/1.1\r\n" + host_line(*this) + bearer + chunked + "\r\n",
                405);
}

BOOST_FIXTURE_TEST_CASE(one_mebibyte_headers_get_431_and_change_nothing, quiet_daemon) {
  const auto before = take();
  const auto start = "POST /api/check HTTP/1.1\r\n" + host_line(*this);
  const std::string mib(1024 * 1024, 'a');
  expect_status(*this, "one 1 MiB header", start + "X-Big: " + mib + "\r\n\r\n", 431);
  std::string many = start;
  for (int i = 0; many.size() < 1024 * 1024; ++i)
    many += "X-H" + std::to_string(i) + ": " + std::string(100, 'b') + "\r\n";
  expect_status(*this, "1 MiB of small headers", many + "\r\n", 431);
  expect_status(*this, "a 1 MiB token", start + "Authorization: Bearer " + mib + "\r\n\r\n", 431);
  expect_status(*this, "a 1 MiB target", "GET /api/" + mib + " HTTP/1.1\r\n" + host_line(*this) + "\r\n", 431);
  // A header with no end at all: the daemon stops reading at its limit, answers and closes.
  expect_status(*this, "a header that never ends", start + "X-Endless: " + mib, 431);
  require_unchanged(before);
}

BOOST_FIXTURE_TEST_CASE(invalid_utf8_and_nul_in_targets_get_400, quiet_daemon) {
  const auto before = take();
  const auto host = host_line(*this);
  for (const std::string target :
       {"/api/subsystems/%FF", "/api/subsystems/%C0%AF", "/api/subsystems/pm%00", "/api/%00health", "/%00",
        "/index.html%00.txt", "/api/subsystems/%ED%A0%80", "/api/subsystems/%F4%90%80%80", "/api/events?subsystem=%FF",
        "/api/events?subsystem=pm2%00", "/api/actions?%FE=1", "/api/health?x=%C3", "/%E2%82"}) {
    expect_status(*this, "GET " + target, "GET " + target + " HTTP/1.1\r\n" + host + "\r\n", 400);
    expect_status(*this, "POST " + target,
                  "POST " + target + " HTTP/1.1\r\n" + host + "Authorization: Bearer " + token +
                      "\r\nContent-Length: 2\r\n\r\n{}",
                  400);
  }
  // Raw bytes the request line may not hold at all.
  for (const std::string& raw :
       {std::string("/api/\xff", 6), std::string("/api/a\0b", 8), std::string("/api/\xc0\xaf", 7)})
    expect_status(*this, "raw target byte", "GET " + raw + " HTTP/1.1\r\n" + host + "\r\n", 400);
  // DEL and raw UTF-8: the parser may refuse them; if it lets them through they are a path like any other.
  for (const std::string& raw : {std::string("/api/a\x7f", 7), std::string("/api/\xc3\xa9", 7)})
    expect_refused(*this, "raw target byte", "GET " + raw + " HTTP/1.1\r\n" + host + "\r\n", {400, 404});
  // Valid UTF-8 escapes are fine: a subsystem that does not exist is 404.
  const auto fine = send_request(*this, "GET /api/subsystems/caf%C3%A9 HTTP/1.1\r\n" + host + "\r\n");
  BOOST_TEST_REQUIRE(fine.has_value());
  BOOST_TEST(fine->status == 404);
  BOOST_TEST(boost::json::parse(fine->body).is_object(), "the answer is valid JSON");
  require_unchanged(before);
}

BOOST_FIXTURE_TEST_CASE(every_method_on_every_route, quiet_daemon) {
  const auto before = take();
  const auto host = host_line(*this);
  const std::string wrong(64, '0');
  for (const auto& [path, allowed] : routes) {
    for (const auto& method : methods) {
      const bool reads = method == "GET" || method == "HEAD";
      const auto base = method + " " + path + " HTTP/1.1\r\n" + host + "Content-Length: 2\r\n";
      const auto label = method + " " + path;
      for (const auto& auth :
           {std::string(), "Authorization: Bearer " + wrong + "\r\n", "Authorization: Bearer " + token + "\r\n"}) {
        const bool right = auth.find(token) != std::string::npos;
        // POST with the right token on a POST route is the one request that acts: not here.
        if (right && allowed.contains(method)) continue;
        const auto answer = send_request(*this, base + auth + "\r\n{}", method == "HEAD");
        BOOST_TEST_REQUIRE(answer.has_value(), label << ": an answer");
        const int status = answer->status;
        BOOST_TEST(!leaks(*answer, *this), label << ": no secret");
        BOOST_TEST((status < 500 || (status == 503 && path == "/api/health")), label << ": " << status);
        if (method == "CONNECT") {
          BOOST_TEST((status == 400 || status == 401 || status == 404 || status == 405), label << ": " << status);
        } else if (!reads && !right) {
          BOOST_TEST(status == 401, label << " without the token: " << status);
        } else if (!allowed.contains(method == "HEAD" ? "GET" : method)) {
          BOOST_TEST((status == 404 || status == 405), label << ": " << status);
          if (status == 405) BOOST_TEST(!answer->header("allow").empty(), label << ": Allow");
        } else {
          BOOST_TEST((status == 200 || status == 404 || status == 503), label << ": " << status);
        }
      }
    }
  }
  require_unchanged(before);
}

BOOST_FIXTURE_TEST_CASE(tokens_of_every_length_and_one_byte_off_are_refused, quiet_daemon) {
  const auto before = take();
  const auto request = [&](const std::string& authorization) {
    return "POST /api/check HTTP/1.1\r\n" + host_line(*this) + authorization + "Content-Length: 2\r\n\r\n{}";
  };
  // Every length from 0 to past the real one: prefixes of the token (padded past its end) and strings
  // of one repeated character.
  for (std::size_t length = 0; length <= token.size() + 2; ++length) {
    if (length == token.size()) continue;  // that prefix is the token itself
    const auto prefix = token.substr(0, std::min(length, token.size())) +
                        std::string(length > token.size() ? length - token.size() : 0, 'a');
    expect_status(*this, "a prefix of length " + std::to_string(length),
                  request("Authorization: Bearer " + prefix + "\r\n"), 401);
    expect_status(*this, "a token of length " + std::to_string(length),
                  request("Authorization: Bearer " + std::string(length, 'f') + "\r\n"), 401);
  }
  // One byte off at every position: changed, dropped, and one byte more at each end.
  for (std::size_t i = 0; i < token.size(); ++i) {
    auto changed = token;
    changed[i] = changed[i] == '0' ? '1' : '0';
    expect_status(*this, "byte " + std::to_string(i) + " changed", request("Authorization: Bearer " + changed + "\r\n"),
                  401);
    auto dropped = token;
    dropped.erase(i, 1);
    expect_status(*this, "byte " + std::to_string(i) + " dropped", request("Authorization: Bearer " + dropped + "\r\n"),
                  401);
  }
  for (const auto& off : {token + "0", "0" + token, token.substr(0, 63) + "\xff", token + " x"})
    expect_status(*this, "one byte more or odd", request("Authorization: Bearer " + off + "\r\n"), 401);
  // Control bytes in the value: the parser may refuse the request (400) before the check does (401).
  for (const auto& off :
       {token + "\x01", std::string(token).insert(32, 1, '\0'), std::string(token).insert(10, 1, '\t')})
    expect_refused(*this, "a control byte in the token", request("Authorization: Bearer " + off + "\r\n"), {400, 401});
  // The scheme and the header itself.
  for (const auto& header :
       std::vector<std::string>{"Authorization: Basic " + token + "\r\n", "Authorization: " + token + "\r\n",
                                "Authorization: Bearer\r\n", "Authorization: Bearer \r\n",
                                "Authorization: Bearer " + token + "\r\nAuthorization: Bearer " + token + "\r\n",
                                "X-Authorization: Bearer " + token + "\r\n", "Cookie: token=" + token + "\r\n"})
    expect_status(*this, "header " + header.substr(0, 20), request(header), 401);
  require_unchanged(before);
  // The control: the right token passes the check (405 on a GET route: nothing acts).
  expect_status(*this, "the right token",
                "POST /api/health HTTP/1.1\r\n" + host_line(*this) + "Authorization: bearer " + token +
                    "\r\nContent-Length: 0\r\n\r\n",
                405);
}

BOOST_FIXTURE_TEST_CASE(foreign_host_and_origin_are_refused, quiet_daemon) {
  const auto before = take();
  const auto auth = "Authorization: Bearer " + token + "\r\n";
  // Even with the right token, a request naming another host (DNS rebinding) acts on nothing.
  for (const std::string& host : std::vector<std::string>{
           "evil.example", "evil.example:" + std::to_string(port()), "127.0.0.1.evil.example", "localhost.evil.example",
           "a@127.0.0.1", "localhost:65536", "127.0.0.1:99999", "[::1]:70000", "10.0.0.1", "0.0.0.0", "", ":8686",
           "127.0.0.1, evil.example", "127.0.0.1/x", "caf\xc3\xa9.example"}) {
    expect_status(*this, "Host " + host,
                  "POST /api/check HTTP/1.1\r\nHost: " + host + "\r\n" + auth + "Content-Length: 2\r\n\r\n{}", 403);
    expect_status(*this, "GET with Host " + host, "GET /api/status HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 403);
  }
  expect_status(
      *this, "two Hosts",
      "POST /api/check HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n" + auth + "Content-Length: 2\r\n\r\n{}",
      403);
  for (const std::string& origin : std::vector<std::string>{
           "http://evil.example", "https://evil.example:" + std::to_string(port()), "null", "file://",
           "http://localhost:65536", "http://127.0.0.1:99999", "http://127.0.0.1.evil.example", "javascript:alert(1)",
           "http://a@evil.example", "", "http://"})
    expect_status(*this, "Origin " + origin,
                  "POST /api/check HTTP/1.1\r\n" + host_line(*this) + "Origin: " + origin + "\r\n" + auth +
                      "Content-Length: 2\r\n\r\n{}",
                  403);
  require_unchanged(before);
  // The controls: this server's own Origin passes (405 on a GET route), loopback Hosts read.
  expect_status(*this, "own Origin",
                "POST /api/health HTTP/1.1\r\n" + host_line(*this) + "Origin: http://" + address + "\r\n" + auth +
                    "Content-Length: 0\r\n\r\n",
                405);
  for (const std::string& host :
       std::vector<std::string>{"localhost", "127.0.0.1:" + std::to_string(port()), "[::1]:65535"}) {
    const auto answer = send_request(*this, "GET /api/status HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    BOOST_TEST_REQUIRE(answer.has_value());
    BOOST_TEST(answer->status == 200, "Host " << host);
  }
}

BOOST_FIXTURE_TEST_CASE(no_file_outside_the_web_root_and_no_secret_is_served, quiet_daemon) {
  const auto before = take();
  const auto host = host_line(*this);
  for (const std::string target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%2fsecret.txt", "/..%5csecret.txt",
        "/.%2e/secret.txt", "//secret.txt", "/link-out.txt", "/web/../secret.txt", "/./../secret.txt",
        "/index.html/../../secret.txt", "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/../state/token",
        "/%2e%2e/state/token", "/../redundancy.json", "/%2e%2e/redundancy.json", "/%2e%2e/state/redundancy.db"}) {
    const auto answer = send_request(*this, "GET " + target + " HTTP/1.1\r\n" + host + "\r\n");
    BOOST_TEST_REQUIRE(answer.has_value(), target);
    BOOST_TEST((answer->status == 400 || answer->status == 404), target << ": " << answer->status);
    BOOST_TEST(!leaks(*answer, *this), target << ": no secret");
    BOOST_TEST(answer->body.find("root:") == std::string::npos, target);
    BOOST_TEST(answer->body.find("SQLite format") == std::string::npos, target);
  }
  // Every GET the API has: none shows a secret (the config's build hook, the environment, the token).
  for (const std::string path : {"/api/health", "/api/status", "/api/subsystems/pm2", "/api/actions", "/api/events",
                                 "/api/report", "/metrics", "/", "/index.html"}) {
    const auto answer = send_request(*this, "GET " + path + " HTTP/1.1\r\n" + host + "\r\n");
    BOOST_TEST_REQUIRE(answer.has_value(), path);
    BOOST_TEST(!leaks(*answer, *this), path << ": no secret");
  }
  require_unchanged(before);
  require_no_secret_in_logs();
}
