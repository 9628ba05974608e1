// Listen and daemon addresses as the config and http.addr write them: "host:port" or "[v6]:port".
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace redundancy {

struct host_port {
  std::string_view host{};  // without the brackets of "[v6]"; may be empty (":8686")
  std::uint16_t port{};     // 0 to 65535
  bool bracketed{false};    // written "[host]:port"
};

// Splits at "]:" after a leading '[', else at the last ':'. nullopt without a port, or when the port
// is not 1 to 5 digits naming 0 to 65535. The host is not checked: each caller knows what it accepts.
std::optional<host_port> split_host_port(std::string_view text);

}  // namespace redundancy
