// The amp frame parser and the rpc/bus messages against byte streams captured from a real PM2 6.0.14
// daemon (test/fixtures/pm2/sockets, made by capture_sockets.mjs, whose own decoding is expected.json),
// fed whole, split at every byte boundary, and one byte at a time; plus the encoder and bad streams.
#define BOOST_TEST_MODULE amp
#include <boost/test/unit_test.hpp>

#include "redundancy/pm2/amp.hpp"
#include "redundancy/pm2/jlist.hpp"
#include "redundancy/pm2/rpc_protocol.hpp"
#include "support/files.hpp"
#include "test_paths.hpp"

#include <boost/json/parse.hpp>

#include <filesystem>

using namespace redundancy::pm2;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace redundancy::pm2 {
std::ostream& operator<<(std::ostream& os, app_status s) { return os << to_string(s); }
}  // namespace redundancy::pm2

namespace {

using redundancy::test::read_existing_text;

const fs::path fixtures = fs::path(REDUNDANCY_SOURCE_DIR) / "test/fixtures/pm2/sockets";

const json::object& expected() {
  static const json::value doc = json::parse(read_existing_text(fixtures / "expected.json"));
  return doc.get_object();
}

// Feeds the stream in the given pieces and collects every frame.
std::vector<amp_frame> parse_in_pieces(std::string_view bytes, const std::vector<std::size_t>& cuts) {
  amp_parser p;
  std::vector<amp_frame> all;
  std::size_t from = 0;
  auto feed = [&](std::size_t to) {
    auto got = p.feed(bytes.substr(from, to - from));
    BOOST_REQUIRE_MESSAGE(got.has_value(), "parser error: " << (got ? "" : got.error()));
    for (auto& f : *got) all.push_back(std::move(f));
    from = to;
  };
  for (auto c : cuts) feed(c);
  feed(bytes.size());
  BOOST_TEST(p.idle());
  return all;
}

bool same(const std::vector<amp_frame>& a, const std::vector<amp_frame>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].args != b[i].args) return false;
  return true;
}

// The stream parsed whole equals the stream split once at every boundary, and fed byte by byte.
std::vector<amp_frame> parse_every_way(const std::string& bytes) {
  auto whole = parse_in_pieces(bytes, {});
  for (std::size_t cut = 1; cut < bytes.size(); ++cut)
    if (!same(parse_in_pieces(bytes, {cut}), whole)) BOOST_FAIL("different frames when split at byte " << cut);
  std::vector<std::size_t> every;
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) every.push_back(cut);
  BOOST_TEST(same(parse_in_pieces(bytes, every), whole));
  return whole;
}

}  // namespace

BOOST_AUTO_TEST_CASE(rpc_replies_of_a_real_daemon_parse_the_same_however_split) {
  const auto frames = parse_every_way(read_existing_text(fixtures / "rpc_replies.bin"));
  const auto& want = expected().at("rpc").as_array();
  BOOST_TEST_REQUIRE(frames.size() == want.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto& w = want[i].as_object();
    auto reply = parse_rpc_reply(frames[i]);
    BOOST_TEST_REQUIRE(reply.has_value());
    BOOST_TEST(reply->id == w.at("id").as_string());
    if (w.contains("error")) {
      BOOST_TEST(reply->error == w.at("error").as_string());
    } else if (w.contains("apps")) {
      // getMonitorData: the same typed entries as jlist gives.
      auto apps = parse_app_list(*reply->result, "getMonitorData");
      BOOST_TEST_REQUIRE(apps.has_value());
      std::vector<std::string> names;
      for (const auto& a : *apps) names.push_back(a.name);
      std::vector<std::string> want_names;
      for (const auto& n : w.at("apps").as_array()) want_names.emplace_back(n.as_string());
      BOOST_TEST(names == want_names, boost::test_tools::per_element());
      BOOST_TEST(apps->at(0).status == app_status::online);
      BOOST_TEST(apps->at(0).pid > 0);
    } else {
      BOOST_TEST(json::serialize(*reply->result) == json::serialize(w.at("result")));
      BOOST_TEST(reply->error.empty());
    }
  }
  // Pipelined requests came back out of order: the ids, not the order, match them.
  BOOST_TEST(want[0].at("id").as_string() == "capture:0");
  BOOST_TEST(want[1].at("id").as_string() != "capture:1");
}

BOOST_AUTO_TEST_CASE(pub_events_of_a_real_daemon_parse_the_same_however_split) {
  const auto frames = parse_every_way(read_existing_text(fixtures / "pub_events.bin"));
  const auto& want = expected().at("pub").as_array();
  BOOST_TEST_REQUIRE(frames.size() == want.size());
  unsigned logs = 0, overlimits = 0, exits = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto& w = want[i].as_object();
    auto parsed = parse_bus_frame(frames[i]);
    BOOST_TEST_REQUIRE(parsed.has_value(), "frame " << i << ": " << (parsed ? "" : parsed.error()));
    const std::string topic(w.at("topic").as_string());
    if (topic == "process:event") {
      BOOST_TEST_REQUIRE(parsed->has_value());
      BOOST_TEST((*parsed)->event == w.at("event").as_string());
      BOOST_TEST((*parsed)->app == w.at("app").as_string());
      BOOST_TEST((*parsed)->manually == w.at("manually").as_bool());
      overlimits += (*parsed)->event == "restart overlimit";
      exits += (*parsed)->event == "exit";
    } else {
      BOOST_TEST(!parsed->has_value(), "topic " << topic << " is not read");
      logs += topic.rfind("log:", 0) == 0;
    }
  }
  BOOST_TEST(overlimits == 1u);
  BOOST_TEST(exits >= 3u);
  BOOST_TEST(logs >= 10u);
}

BOOST_AUTO_TEST_CASE(log_frames_are_skipped_without_parsing_their_data) {
  // Data that is not JSON at all: a log frame is dropped on its topic alone.
  amp_frame log{{"s:log:out", "j:{this is not json"}};
  auto parsed = parse_bus_frame(log);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(!parsed->has_value());
  amp_frame event{{"s:process:event", "j:{this is not json"}};
  BOOST_TEST(!parse_bus_frame(event).has_value());
}

BOOST_AUTO_TEST_CASE(our_requests_are_byte_for_byte_what_pm2s_client_sends) {
  // rpc_requests.bin holds what the capture script sent (axon-rpc's format); the daemon answered it.
  const auto sent = read_existing_text(fixtures / "rpc_requests.bin");
  std::string ours;
  const char* methods[] = {"ping", "getMonitorData", "getVersion", "noSuchMethod"};
  for (int k = 0; k < 4; ++k)
    ours += rpc_request_frame(methods[k], json::array{json::object{}}, "capture:" + std::to_string(k));
  BOOST_TEST(ours == sent);
  // A ping as PM2 5.x sends it, byte for byte.
  auto ping = rpc_request_frame("ping", json::array{json::object{}}, "4242:0");
  BOOST_TEST(ping.substr(0, 5) == std::string("\x12\x00\x00\x00\x2d", 5));
  BOOST_TEST(ping.size() == 1u + 4 + 0x2d + 4 + 8);
}

BOOST_AUTO_TEST_CASE(encode_then_parse_round_trips_including_empty_and_binary_arguments) {
  std::vector<std::string> args{"", std::string("\x00\xff\n", 3), std::string(70000, 'x'), "s:é"};
  auto bytes = amp_encode(args);
  auto frames = parse_in_pieces(bytes, {1, 2, 5, 9, 100, 70003});
  BOOST_TEST_REQUIRE(frames.size() == 1u);
  BOOST_TEST(frames[0].args == args, boost::test_tools::per_element());
  // No arguments at all is a complete one-byte frame.
  auto empty = amp_encode({});
  BOOST_TEST(empty == std::string("\x10", 1));
  BOOST_TEST(parse_in_pieces(empty + empty, {}).size() == 2u);
  BOOST_CHECK_THROW(amp_encode(std::vector<std::string>(16, "a")), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(an_oversized_length_is_an_error_that_sticks) {
  amp_parser p(1024);
  std::string bytes("\x11\x00\x00\x04\x01", 5);  // one argument of 1025 bytes
  auto r = p.feed(bytes.substr(0, 3));
  BOOST_TEST(r.has_value());
  r = p.feed(bytes.substr(3));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().find("1025 bytes") != std::string::npos);
  BOOST_TEST(!p.feed(std::string("\x10", 1)).has_value());
}

BOOST_AUTO_TEST_CASE(replies_that_are_not_axon_rpc_are_errors_without_the_payload) {
  BOOST_TEST(!parse_rpc_reply({{"j:{}"}}).has_value());
  BOOST_TEST(!parse_rpc_reply({{"j:{\"args\":[]}", "j:1"}}).has_value());
  BOOST_TEST(!parse_rpc_reply({{"s:SECRET", "s:1"}}).has_value());
  auto bad = parse_rpc_reply({{"j:[SECRET", "s:7"}});
  BOOST_TEST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().find("SECRET") == std::string::npos);
  BOOST_TEST(!parse_rpc_reply({{"j:{\"nothing\":1}", "s:1"}}).has_value());
  auto empty_args = parse_rpc_reply({{"j:{\"args\":[]}", "s:1"}});
  BOOST_TEST_REQUIRE(empty_args.has_value());
  BOOST_TEST(empty_args->result->is_null());
}

BOOST_AUTO_TEST_CASE(backoff_grows_by_half_up_to_five_seconds_and_resets) {
  reconnect_backoff b;
  BOOST_TEST(b.next().count() == 100);
  BOOST_TEST(b.next().count() == 150);
  BOOST_TEST(b.next().count() == 225);
  for (int i = 0; i < 20; ++i) b.next();
  BOOST_TEST(b.next().count() == 5000);
  b.reset();
  BOOST_TEST(b.next().count() == 100);
}
