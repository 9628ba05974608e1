// Finding the daemon from the client commands: its base URL (--url, $REDUNDANCY_URL, http.listen,
// <state_dir>/http.addr) and the API token ($REDUNDANCY_TOKEN, the token file).
#include <fstream>

#include "redundancy/cli/client_commands.hpp"
#include "redundancy/core/host_port.hpp"
#include "redundancy/core/small_file.hpp"
#include "redundancy/core/state_lock.hpp"
#include "redundancy/core/text.hpp"

namespace redundancy::cli {
namespace {

// result<string, string> cannot tell a value from an error by type: say which.
boost::system::result<std::string, std::string> url_error(std::string why) {
  return {boost::system::in_place_error, std::move(why)};
}

boost::system::result<std::string, std::string> url_found(std::string url) {
  return {boost::system::in_place_value, std::move(url)};
}

// "host:port" or "[v6]:port" to a base URL; nullopt when it does not parse or the port is 0.
std::optional<std::string> url_from_address(std::string_view address) {
  const auto split = split_host_port(address);
  if (!split || split->port == 0) return std::nullopt;
  std::string host(split->host);
  const unsigned number = split->port;
  // A daemon listening on every address is reached on loopback (which its Host check also accepts).
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(number);
}

}  // namespace

boost::system::result<std::string, std::string> daemon_url(const std::optional<std::string>& flag,
                                                           const env_lookup& env, const config& c) {
  auto strip = [](std::string u) {
    while (u.ends_with('/')) u.pop_back();
    return u;
  };
  if (flag && !flag->empty()) return url_found(strip(*flag));
  if (auto it = env.find("REDUNDANCY_URL"); it != env.end() && !it->second.empty()) return url_found(strip(it->second));
  if (auto from_listen = url_from_address(c.http.listen)) return url_found(*from_listen);
  // Port 0: the daemon picked one and wrote where it listens.
  const auto addr_file = c.state_dir / "http.addr";
  std::ifstream in(addr_file);
  std::string written;
  if (in && std::getline(in, written))
    if (auto from_file = url_from_address(trim(written))) {
      // The daemon removes it when it ends; one killed leaves it behind, and its port may be anyone's now.
      if (!state_lock::held_by_another(c.state_dir))
        return url_error(addr_file.string() + " names " + std::string(trim(written)) +
                         ", but no daemon runs on state_dir " + c.state_dir.string() +
                         " (nobody holds daemon.lock): it was left by one that ended; start it, or pass --url");
      return url_found(*from_file);
    }
  return url_error("cannot tell where the daemon listens: http.listen is '" + c.http.listen + "' and " +
                   addr_file.string() + " holds no address; pass --url or set $REDUNDANCY_URL");
}

std::optional<std::string> api_token(const env_lookup& env, const config& c) {
  if (auto it = env.find("REDUNDANCY_TOKEN"); it != env.end() && !trim(it->second).empty())
    return std::string(trim(it->second));
  const auto text = read_small_file(c.http.token_file.value_or(c.state_dir / "token"));
  if (!text) return std::nullopt;
  auto token = std::string(trim(*text));
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace redundancy::cli
