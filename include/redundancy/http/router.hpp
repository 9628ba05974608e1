// The API's routing table: path pattern -> method -> handler, with 404 and 405 kept apart.
#pragma once
#include "redundancy/http/message.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::http {

// The values of a pattern's `{name}` segments, by name (already percent-decoded, as request::path is).
using route_params = std::map<std::string, std::string, std::less<>>;

// A handler is synchronous: it reads in-memory state or enqueues work and answers at once (202 for
// long work). An exception it throws becomes a 500 without internals; the message is logged.
using handler = std::function<response(const request&, const route_params&)>;

class router {
 public:
  // Registers `fn` for `method` on `pattern`, an absolute path whose segments are literals or `{name}`
  // (a `{name}` segment matches one non-empty segment). Registering the same method and pattern twice
  // replaces the first; a malformed pattern (not starting with '/', empty `{}`) is a bug and throws.
  void add(std::string method, std::string_view pattern, handler fn);

  // Whether any route's pattern matches `path` (with any method).
  bool matches(std::string_view path) const;

  // Runs the handler for req.method and req.path. Unknown path: 404 not_found. Known path, other
  // method: 405 method_not_allowed with `Allow`. HEAD falls back to the GET handler (the server drops
  // the body). A literal segment wins over a `{name}` segment at the same place.
  response dispatch(const request& req) const;

 private:
  struct route {
    std::vector<std::string> segments{};  // "{name}" marks a parameter
    std::map<std::string, handler, std::less<>> by_method{};
  };
  // The best route for `path` (most literal segments first), or nullptr; fills `params`.
  const route* find(std::string_view path, route_params& params) const;

  std::vector<route> routes_{};
};

}  // namespace redundancy::http
