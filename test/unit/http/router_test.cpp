// The routing table and handle_request(): 404 against 405 with Allow, parameters, HEAD, 500 on a throw,
// and the order of the security checks before routing.
#define BOOST_TEST_MODULE http_router
#include <boost/test/unit_test.hpp>

#include "redundancy/http/router.hpp"
#include "redundancy/http/server.hpp"

#include <boost/json/parse.hpp>

#include <stdexcept>

using namespace redundancy::http;

namespace {
request make(std::string method, std::string path) {
  return request{.method = std::move(method), .path = std::move(path), .headers = {{"host", "127.0.0.1:8686"}}};
}

std::string error_code_of(const response& res) {
  return std::string(boost::json::parse(res.body).at("error").at("code").as_string());
}

std::string header(const response& res, std::string_view name) {
  for (const auto& [n, v] : res.headers)
    if (n == name) return v;
  return {};
}

router sample_router(int& calls) {
  router r;
  r.add("GET", "/api/status", [&](const request&, const route_params&) {
    ++calls;
    return json_response(200, boost::json::object{{"ok", true}});
  });
  r.add("POST", "/api/check", [&](const request&, const route_params&) {
    ++calls;
    return json_response(202, boost::json::object{{"action_id", "1"}});
  });
  r.add("GET", "/api/subsystems/{name}", [](const request&, const route_params& p) {
    return json_response(200, boost::json::object{{"name", p.at("name")}});
  });
  r.add("GET", "/api/subsystems/special", [](const request&, const route_params&) {
    return json_response(200, boost::json::object{{"name", "literal"}});
  });
  r.add("GET", "/api/actions/{id}/steps/{step}", [](const request&, const route_params& p) {
    return json_response(200, boost::json::object{{"id", p.at("id")}, {"step", p.at("step")}});
  });
  r.add("GET", "/api/boom", [](const request&, const route_params&) -> response {
    throw std::runtime_error("secret internals /etc/shadow");
  });
  return r;
}
}  // namespace

BOOST_AUTO_TEST_CASE(unknown_path_is_404_json) {
  int calls = 0;
  const auto r = sample_router(calls);
  const auto res = r.dispatch(make("GET", "/api/nothing"));
  BOOST_TEST(res.status == 404u);
  BOOST_TEST(res.content_type == "application/json");
  BOOST_TEST(error_code_of(res) == "not_found");
  BOOST_TEST(r.dispatch(make("GET", "/api/status/extra")).status == 404u);
  BOOST_TEST(r.dispatch(make("GET", "/api/subsystems/")).status == 404u);  // a parameter is never empty
}

BOOST_AUTO_TEST_CASE(known_path_wrong_method_is_405_with_allow) {
  int calls = 0;
  const auto r = sample_router(calls);
  const auto res = r.dispatch(make("DELETE", "/api/status"));
  BOOST_TEST(res.status == 405u);
  BOOST_TEST(error_code_of(res) == "method_not_allowed");
  BOOST_TEST(header(res, "Allow") == "GET, HEAD");
  const auto post_only = r.dispatch(make("GET", "/api/check"));
  BOOST_TEST(post_only.status == 405u);
  BOOST_TEST(header(post_only, "Allow") == "POST");
  BOOST_TEST(calls == 0);
}

BOOST_AUTO_TEST_CASE(head_uses_the_get_handler) {
  int calls = 0;
  const auto r = sample_router(calls);
  BOOST_TEST(r.dispatch(make("HEAD", "/api/status")).status == 200u);
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(parameters_and_literal_precedence) {
  int calls = 0;
  const auto r = sample_router(calls);
  BOOST_TEST(boost::json::parse(r.dispatch(make("GET", "/api/subsystems/pm2")).body).at("name") == "pm2");
  BOOST_TEST(boost::json::parse(r.dispatch(make("GET", "/api/subsystems/special")).body).at("name") == "literal");
  const auto two = boost::json::parse(r.dispatch(make("GET", "/api/actions/42/steps/3")).body);
  BOOST_TEST(two.at("id") == "42");
  BOOST_TEST(two.at("step") == "3");
  BOOST_TEST(r.matches("/api/subsystems/x"));
  BOOST_TEST(!r.matches("/api/subsystems"));
}

BOOST_AUTO_TEST_CASE(a_throwing_handler_is_a_500_without_internals) {
  int calls = 0;
  const auto r = sample_router(calls);
  const auto res = r.dispatch(make("GET", "/api/boom"));
  BOOST_TEST(res.status == 500u);
  BOOST_TEST(error_code_of(res) == "internal_error");
  BOOST_TEST(res.body.find("secret") == std::string::npos);
  BOOST_TEST(res.body.find("shadow") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_patterns_are_bugs) {
  router r;
  const handler fn = [](const request&, const route_params&) { return response{}; };
  BOOST_CHECK_THROW(r.add("GET", "api/x", fn), std::invalid_argument);
  BOOST_CHECK_THROW(r.add("GET", "/api/{}", fn), std::invalid_argument);
  BOOST_CHECK_THROW(r.add("GET", "/api/x{y}", fn), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(error_shape) {
  const auto res = json_error(409, "conflict", "already running");
  const auto body = boost::json::parse(res.body);
  BOOST_TEST(body.at("error").at("code") == "conflict");
  BOOST_TEST(body.at("error").at("message") == "already running");
  BOOST_TEST(body.as_object().size() == 1u);
}

BOOST_AUTO_TEST_CASE(percent_decoding) {
  BOOST_TEST(*percent_decode("/a%20b") == "/a b");
  BOOST_TEST(*percent_decode("a+b") == "a+b");
  BOOST_TEST(*percent_decode("a+b", true) == "a b");
  BOOST_TEST(*percent_decode("%252e") == "%2e");  // once, never twice
  BOOST_TEST(!percent_decode("%2"));
  BOOST_TEST(!percent_decode("%zz"));
  BOOST_TEST(!percent_decode("abc%"));
}

BOOST_AUTO_TEST_CASE(handle_request_checks_before_routing) {
  int calls = 0;
  const auto r = sample_router(calls);
  const server_settings settings{.listen = "127.0.0.1:8686", .token = "t0ken"};

  auto foreign = make("GET", "/api/status");
  foreign.headers["host"] = "evil.example";
  BOOST_TEST(handle_request(foreign, true, settings, r).status == 403u);

  auto no_token = make("POST", "/api/check");
  const auto refused = handle_request(no_token, true, settings, r);
  BOOST_TEST(refused.status == 401u);
  BOOST_TEST(header(refused, "WWW-Authenticate") == "Bearer");
  BOOST_TEST(calls == 0);

  auto with_token = make("POST", "/api/check");
  with_token.headers["authorization"] = "Bearer t0ken";
  BOOST_TEST(handle_request(with_token, true, settings, r).status == 202u);
  BOOST_TEST(with_token.authorized);
  BOOST_TEST(calls == 1);

  auto get = make("GET", "/api/status");
  get.headers["authorization"] = "Bearer t0ken";
  BOOST_TEST(handle_request(get, true, settings, r).status == 200u);
  BOOST_TEST(get.authorized);

  auto missing_host = make("GET", "/api/status");
  missing_host.headers.clear();
  BOOST_TEST(handle_request(missing_host, true, settings, r).status == 400u);
  BOOST_TEST(handle_request(missing_host, false, settings, r).status == 200u);  // HTTP/1.0 may omit it
}
