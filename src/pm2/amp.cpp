// amp v1 framing as a byte-at-a-time state machine (header, 4-byte length, body) and amp-message's s:/j:.
#include "redundancy/pm2/amp.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace redundancy::pm2 {

boost::system::result<std::vector<amp_frame>, std::string> amp_parser::feed(std::string_view bytes) {
  std::vector<amp_frame> done;
  if (stage_ == stage::failed) return error_;
  std::size_t i = 0;
  auto finish_arg_or_frame = [&] {
    if (current_.args.size() == argc_) {
      done.push_back(std::move(current_));
      current_ = {};
      stage_ = stage::header;
    } else {
      stage_ = stage::length;
      length_bytes_ = 0;
      length_ = 0;
    }
  };
  while (i < bytes.size()) {
    switch (stage_) {
      case stage::header: {
        // The version nibble is never checked by PM2 either; only the argument count matters.
        argc_ = static_cast<unsigned char>(bytes[i++]) & 0x0fu;
        current_ = {};
        current_.args.reserve(argc_);
        if (argc_ == 0) {
          done.push_back(std::move(current_));
          current_ = {};
        } else {
          stage_ = stage::length;
          length_bytes_ = 0;
          length_ = 0;
        }
        break;
      }
      case stage::length:
        length_ = (length_ << 8) | static_cast<unsigned char>(bytes[i++]);
        if (++length_bytes_ == 4) {
          if (length_ > max_arg_bytes_) {
            stage_ = stage::failed;
            error_ = "amp argument of " + std::to_string(length_) + " bytes is over the limit of " +
                     std::to_string(max_arg_bytes_);
            return error_;
          }
          current_.args.emplace_back();
          current_.args.back().reserve(length_);
          if (length_ == 0)
            finish_arg_or_frame();
          else
            stage_ = stage::body;
        }
        break;
      case stage::body: {
        auto& arg = current_.args.back();
        const std::size_t want = length_ - arg.size();
        const std::size_t take = std::min(want, bytes.size() - i);
        arg.append(bytes.substr(i, take));
        i += take;
        if (arg.size() == length_) finish_arg_or_frame();
        break;
      }
      case stage::failed:
        return error_;
    }
  }
  return done;
}

std::string amp_encode(const std::vector<std::string>& args) {
  if (args.size() > 15) throw std::invalid_argument("amp frames carry at most 15 arguments");
  std::size_t total = 1;
  for (const auto& a : args) total += 4 + a.size();
  std::string out;
  out.reserve(total);
  out.push_back(static_cast<char>((1u << 4) | static_cast<unsigned>(args.size())));
  for (const auto& a : args) {
    const auto n = static_cast<std::uint32_t>(a.size());
    out.push_back(static_cast<char>((n >> 24) & 0xff));
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    out.push_back(static_cast<char>(n & 0xff));
    out.append(a);
  }
  return out;
}

std::string amp_string(std::string_view text) { return "s:" + std::string(text); }

std::string amp_json(const boost::json::value& value) { return "j:" + boost::json::serialize(value); }

boost::system::result<std::string, std::string> amp_as_string(std::string_view arg) {
  using out = boost::system::result<std::string, std::string>;
  if (arg.substr(0, 2) != "s:")
    return out(boost::system::in_place_error,
               arg.substr(0, 2) == "j:" ? "expected a string, got JSON" : "expected a string, got a blob");
  return out(boost::system::in_place_value, arg.substr(2));
}

boost::system::result<boost::json::value, std::string> amp_as_json(std::string_view arg) {
  using out = boost::system::result<boost::json::value, std::string>;
  if (arg.substr(0, 2) != "j:")
    return out(boost::system::in_place_error,
               arg.substr(0, 2) == "s:" ? "expected JSON, got a string" : "expected JSON, got a blob");
  boost::system::error_code ec;
  // In an arena: a getMonitorData reply is a tree of megabytes that is read once and dropped whole, and
  // its nodes cost a third less to make (and nothing to free) this way. The value keeps the arena alive.
  auto arena = boost::json::make_shared_resource<boost::json::monotonic_resource>();
  auto v = boost::json::parse(arg.substr(2), ec, std::move(arena));
  if (ec) return out(boost::system::in_place_error, "unreadable JSON (" + ec.message() + ")");
  return v;
}

}  // namespace redundancy::pm2
