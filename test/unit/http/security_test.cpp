// Host, Origin and Bearer checks: what counts as this server, and what is refused.
#define BOOST_TEST_MODULE http_security
#include <boost/test/unit_test.hpp>

#include "redundancy/http/security.hpp"

#include <algorithm>

using namespace redundancy::http;

BOOST_AUTO_TEST_CASE(loopback_hosts_are_allowed) {
  const host_policy policy{.listen = "127.0.0.1:8686"};
  for (const auto* host : {"localhost", "localhost:8686", "LOCALHOST:1", "127.0.0.1", "127.0.0.1:8686", "127.1.2.3:80",
                           "[::1]", "[::1]:8686"})
    BOOST_TEST(host_allowed(host, policy), host);
}

BOOST_AUTO_TEST_CASE(foreign_and_malformed_hosts_are_refused) {
  const host_policy policy{.listen = "127.0.0.1:8686"};
  for (const auto* host :
       {"", "evil.example", "evil.example:8686", "localhost.evil.example", "127.0.0.1.evil.example", "10.0.0.1", "::1",
        "[::1", "localhost:", "localhost:abc", "localhost:8686:1", "a@localhost", "0.0.0.0:8686"})
    BOOST_TEST(!host_allowed(host, policy), host);
}

BOOST_AUTO_TEST_CASE(listen_address_and_allowed_hosts) {
  const host_policy policy{.listen = "192.0.2.10:8686", .allowed_hosts = {"watch.example", "other.example:8443"}};
  BOOST_TEST(host_allowed("192.0.2.10:8686", policy));
  BOOST_TEST(host_allowed("192.0.2.10", policy));
  BOOST_TEST(host_allowed("watch.example", policy));
  BOOST_TEST(host_allowed("Watch.Example:9999", policy));
  BOOST_TEST(host_allowed("other.example:8443", policy));
  BOOST_TEST(!host_allowed("other.example", policy));
  BOOST_TEST(!host_allowed("other.example:8444", policy));
  BOOST_TEST(!host_allowed("192.0.2.11:8686", policy));
  // A wildcard listen address is not a name anybody may use.
  BOOST_TEST(!host_allowed("0.0.0.0:8686", host_policy{.listen = "0.0.0.0:8686"}));
}

BOOST_AUTO_TEST_CASE(origins) {
  const host_policy policy{.listen = "127.0.0.1:8686", .allowed_hosts = {"watch.example"}};
  BOOST_TEST(origin_allowed("http://127.0.0.1:8686", policy));
  BOOST_TEST(origin_allowed("http://localhost:3000", policy));
  BOOST_TEST(origin_allowed("https://watch.example", policy));
  BOOST_TEST(!origin_allowed("https://evil.example", policy));
  BOOST_TEST(!origin_allowed("null", policy));
  BOOST_TEST(!origin_allowed("file://localhost", policy));
  BOOST_TEST(!origin_allowed("127.0.0.1:8686", policy));
}

BOOST_AUTO_TEST_CASE(bearer) {
  BOOST_TEST(bearer_matches("Bearer abc123", "abc123"));
  BOOST_TEST(bearer_matches("bearer   abc123 ", "abc123"));
  BOOST_TEST(!bearer_matches("Bearer abc124", "abc123"));
  BOOST_TEST(!bearer_matches("Bearer abc1234", "abc123"));
  BOOST_TEST(!bearer_matches("Basic abc123", "abc123"));
  BOOST_TEST(!bearer_matches("abc123", "abc123"));
  BOOST_TEST(!bearer_matches("Bearer ", ""));
  BOOST_TEST(!bearer_matches("", ""));
}

BOOST_AUTO_TEST_CASE(post_origin_checked_before_token) {
  const host_policy policy{.listen = "127.0.0.1:8686"};
  request req{
      .method = "POST",
      .path = "/api/check",
      .headers = {{"host", "127.0.0.1:8686"}, {"origin", "https://evil.example"}, {"authorization", "Bearer t"}}};
  const auto refused = check_request(req, true, policy, "t");
  BOOST_REQUIRE(refused);
  BOOST_TEST(refused->status == 403u);
  BOOST_TEST(refused->body.find("forbidden_origin") != std::string::npos);
  // A GET with a foreign Origin only reads: allowed.
  req.method = "GET";
  BOOST_TEST(!check_request(req, true, policy, "t"));
  // Other state-changing methods need the token as POST does.
  request del{.method = "DELETE", .path = "/api/x", .headers = {{"host", "localhost"}}};
  BOOST_TEST(check_request(del, true, policy, "t")->status == 401u);
}

BOOST_AUTO_TEST_CASE(a_port_above_65535_is_not_a_port) {
  const host_policy policy{.listen = "127.0.0.1:8686", .allowed_hosts = {"watch.example"}};
  BOOST_TEST(host_allowed("localhost:65535", policy));
  for (const auto* host : {"localhost:65536", "127.0.0.1:99999", "[::1]:70000", "watch.example:65536"})
    BOOST_TEST(!host_allowed(host, policy), host);
  BOOST_TEST(origin_allowed("http://localhost:65535", policy));
  BOOST_TEST(!origin_allowed("http://localhost:65536", policy));
  BOOST_TEST(!origin_allowed("http://127.0.0.1:99999/", policy));
}

BOOST_AUTO_TEST_CASE(beyond_loopback_every_api_read_but_the_public_routes_needs_the_token) {
  const std::vector<std::string> open{"/api/health", "/metrics"};
  request status{.method = "GET", .path = "/api/status", .headers = {{"host", "127.0.0.1"}}};
  // On loopback nothing changes.
  BOOST_TEST(!check_exposed_read(status, false, open));
  const auto refused = check_exposed_read(status, true, open);
  BOOST_REQUIRE(refused);
  BOOST_TEST(refused->status == 401u);
  BOOST_TEST(refused->body.find("unauthorized") != std::string::npos);
  BOOST_TEST(std::count(refused->headers.begin(), refused->headers.end(),
                        std::pair<std::string, std::string>{"WWW-Authenticate", "Bearer"}) == 1);
  status.authorized = true;
  BOOST_TEST(!check_exposed_read(status, true, open));
  for (const auto* path : {"/api/health", "/metrics"}) {
    const request req{.method = "GET", .path = path};
    BOOST_TEST(!check_exposed_read(req, true, open), path);
  }
  // Exact paths: neither a prefix nor a longer path is public.
  for (const auto* path : {"/api/health/x", "/metrics/", "/api/healthz", "/api"}) {
    const request req{.method = "GET", .path = path};
    BOOST_TEST(check_exposed_read(req, true, open).has_value(), path);
  }
  // Through a reverse proxy on loopback: the proxy's client is remote.
  for (const auto* header : {"x-forwarded-for", "forwarded", "x-real-ip"}) {
    const request proxied{.method = "GET", .path = "/api/status", .headers = {{"host", "127.0.0.1"}, {header, "x"}}};
    BOOST_TEST(check_exposed_read(proxied, false, open).has_value(), header);
    const request health{.method = "GET", .path = "/api/health", .headers = {{header, "x"}}};
    BOOST_TEST(!check_exposed_read(health, false, open), header);
  }
  // No public route at all: health needs it too.
  const request health{.method = "GET", .path = "/api/health"};
  BOOST_TEST(check_exposed_read(health, true, {}).has_value());
}
