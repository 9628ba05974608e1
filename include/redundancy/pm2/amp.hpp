// PM2's wire format on rpc.sock and pub.sock: amp v1 frames, parsed as a stream
// (a frame may arrive split anywhere across reads), and the amp-message argument encodings s: and j:.
#pragma once
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::pm2 {

// One frame: its arguments as raw bytes (still "s:..." / "j:..." encoded).
struct amp_frame {
  std::vector<std::string> args{};
};

// The largest argument accepted: getMonitorData for 1,000 apps is about 5.5 MB, and a bigger length
// means a stream we misread or a peer that is not PM2; either way the connection is dropped.
inline constexpr std::uint32_t amp_max_arg_bytes = 64u * 1024u * 1024u;

// A streaming amp parser with no I/O. Feed it bytes as they arrive; it returns every frame they
// complete. Bytes of an incomplete frame are kept for the next feed. Once it reports an error the
// stream is unusable (there is no resynchronisation in amp) and every later feed repeats the error.
class amp_parser {
 public:
  explicit amp_parser(std::uint32_t max_arg_bytes = amp_max_arg_bytes) : max_arg_bytes_(max_arg_bytes) {}

  boost::system::result<std::vector<amp_frame>, std::string> feed(std::string_view bytes);

  // True when no partial frame is buffered.
  bool idle() const { return stage_ == stage::header; }

 private:
  enum class stage { header, length, body, failed };
  std::uint32_t max_arg_bytes_;
  stage stage_{stage::header};
  unsigned argc_{0};
  unsigned length_bytes_{0};  // bytes of the current big-endian length read so far (0-4)
  std::uint32_t length_{0};
  amp_frame current_{};
  std::string error_{};
};

// Encodes a frame: byte0 = (1 << 4) | argc, then per argument a uint32 big-endian length and the bytes.
// At most 15 arguments (amp's limit).
std::string amp_encode(const std::vector<std::string>& args);

// amp-message argument encodings.
std::string amp_string(std::string_view text);          // "s:" + text
std::string amp_json(const boost::json::value& value);  // "j:" + JSON
// A decoded "s:" argument, or an error naming what the argument was instead.
boost::system::result<std::string, std::string> amp_as_string(std::string_view arg);
// A decoded "j:" argument, or an error (not j:, or not JSON). Never quotes the argument: it may hold secrets.
boost::system::result<boost::json::value, std::string> amp_as_json(std::string_view arg);

}  // namespace redundancy::pm2
