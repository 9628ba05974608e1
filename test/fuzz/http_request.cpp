// Fuzz target: the HTTP request path as the server runs it, through Beast's in-memory test stream: the
// parser with the server's limits, read errors, target decoding, headers, bodies, the Host/Origin/token
// checks, the routing table, static files, and the responses written back. The input is the bytes a
// client sends on one kept-alive connection; its first byte sets how many bytes each read gets, so the
// parser also sees requests cut at every point, and whether the server listens beyond loopback.
// Properties: never throws; no POST reaches a handler without the token, nor beyond loopback a GET but
// /api/health and /metrics; a request with chunked trailer fields reaches no check and no handler (400,
// as the server answers it); every answer written is valid HTTP with a known status; the token never
// appears in an answer.
#include "fuzz/fuzz_check.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/http/wire.hpp"

#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using namespace redundancy;
using namespace redundancy::http;

namespace {
const std::string token = "fuzz-token-5f3a9c0e7b21d4";

// Routes shaped like the daemon's API, whose handlers check what the server promised them.
struct fixture {
  router routes;
  server_settings settings;

  fixture() {
    set_log_level(severity::error);
    settings.listen = "127.0.0.1:8686";
    settings.token = token;
    settings.allowed_hosts = {"example.org", "watch.example.org:8443"};
    settings.header_limit = 1024;  // small, so fuzz inputs reach the limits
    settings.body_limit = 512;
    settings.web_root = make_web_root();

    // Echoes what the router and the target decoding made of the request (as the real handlers use it),
    // except a token that the input itself put there, so that an answer holding it is the server's leak.
    const auto get = [this](const request& req, const route_params& params) {
      // Beyond loopback only the public routes are read without the token.
      FUZZ_REQUIRE(!settings.beyond_loopback || req.authorized || req.path == "/api/health" || req.path == "/metrics");
      const auto shown = [](const std::string& s) { return s.find(token) == std::string::npos ? s : "<token>"; };
      boost::json::object o{{"path", shown(req.path)}};
      for (const auto& [name, value] : params) o[shown(name)] = shown(value);
      for (const auto& [name, value] : req.query) o["q_" + shown(name)] = shown(value);
      return json_response(200, o);
    };
    for (const auto* pattern : {"/api/health", "/api/status", "/api/subsystems/{name}", "/api/actions",
                                "/api/actions/{id}", "/api/events", "/api/report", "/metrics"})
      routes.add("GET", pattern, get);
    const auto post = [](const request& req, const route_params&) {
      FUZZ_REQUIRE(req.authorized);
      boost::system::error_code ec;
      const auto body = boost::json::parse(req.body, ec);
      if (ec && !req.body.empty()) return json_error(400, "bad_json", "body is not JSON");
      if (!ec && !body.is_object() && !req.body.empty()) return json_error(400, "bad_body", "expected an object");
      return json_response(202, boost::json::object{{"action_id", "a1"}});
    };
    for (const auto* pattern : {"/api/check", "/api/emergency", "/api/pm2/restart", "/api/github/trigger",
                                "/api/netlify/regenerate", "/api/netlify/deploy", "/api/pause", "/api/resume"})
      routes.add("POST", pattern, post);
  }

  // A dashboard folder in a fresh temporary directory, removed when the process ends.
  static fs::path make_web_root() {
    std::string dir = (fs::temp_directory_path() / "redundancy-fuzz-XXXXXX").string();
    FUZZ_REQUIRE(::mkdtemp(dir.data()) != nullptr);
    static const fs::path root = dir;
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(root, ignored);
    });
    fs::create_directories(root / "web" / "js");
    std::ofstream(root / "web" / "index.html") << "<!doctype html><title>redundancy</title>\n";
    std::ofstream(root / "web" / "js" / "app.js") << "export const x = 1;\n";
    std::ofstream(root / "web" / "style.css") << "body{}\n";
    std::ofstream(root / "outside.txt") << "not served\n";
    return root / "web";
  }
};

// No 500: an exception escaping anywhere on the request path is a finding.
const std::set<unsigned> known_statuses{200, 202, 304, 400, 401, 403, 404, 405, 413, 431};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size == 0) return 0;
  const std::size_t read_size = data[0] % 64 == 0 ? 4096 : data[0] % 64;
  // Its next bit: whether the server listens beyond loopback (every read but the public ones needs the token).
  f.settings.beyond_loopback = (data[0] & 64) != 0;
  const auto bytes = fuzz::as_text(data + 1, size - 1);

  boost::asio::io_context ioc;
  beast::test::stream server(ioc);
  beast::test::stream client(ioc);
  server.connect(client);
  server.read_size(read_size);
  server.append(bytes);
  server.close_remote();  // the client has sent everything: reads end with eof after the bytes

  // The server's loop (server.cpp run_connection) without the timers: read, answer, until one side ends.
  beast::flat_buffer buffer;
  std::vector<bool> answers;  // one per response written: whether it answered a HEAD (no body follows)
  for (;;) {
    request_parser parser;
    apply_limits(parser, f.settings);
    trailer_watch trailers(parser);
    boost::system::error_code ec;
    bhttp::read(server, buffer, parser, ec);
    if (ec) {
      if (auto refusal = answer_read_error(ec, f.settings)) {
        auto message = to_message(std::move(*refusal), 11, false);
        message.keep_alive(false);
        bhttp::write(server, message, ec);
        FUZZ_REQUIRE(!ec);
        answers.push_back(false);
      }
      break;
    }
    if (trailers.seen()) {
      // As the server does: answered 400 and closed, never handed to the checks or a handler.
      auto message = to_message(trailers_refused(), 11, false);
      message.keep_alive(false);
      bhttp::write(server, message, ec);
      FUZZ_REQUIRE(!ec);
      answers.push_back(false);
      break;
    }
    auto [reply, malformed] = answer_request(parser.get(), f.settings, f.routes, false);
    if (malformed) reply.keep_alive(false);
    bhttp::write(server, reply, ec);
    FUZZ_REQUIRE(!ec);
    answers.push_back(!malformed && parser.get().method() == bhttp::verb::head);
    if (malformed || !reply.keep_alive()) break;
  }

  // What the client received: exactly the answers written, each valid HTTP, none holding the token.
  const auto received = client.str();
  FUZZ_REQUIRE(received.find(token) == std::string::npos);
  beast::flat_buffer in;
  in.commit(boost::asio::buffer_copy(in.prepare(received.size()), boost::asio::buffer(received)));
  for (const bool head : answers) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    boost::system::error_code ec;
    while (!ec && !parser.is_done() && in.size() > 0) in.consume(parser.put(in.data(), ec));
    FUZZ_REQUIRE(!ec);
    FUZZ_REQUIRE(parser.is_done());
    FUZZ_REQUIRE(known_statuses.contains(parser.get().result_int()));
  }
  FUZZ_REQUIRE(in.size() == 0);
  return 0;
}
