// The CLI's client commands (status, health, check, emergency, report, events, pause, resume and the
// pm2/github/netlify verbs): each one request to the running daemon's HTTP API, printed for people or as JSON.
#pragma once
#include "redundancy/core/config.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace redundancy::cli {

// Where the daemon listens, as a base URL without a trailing slash ("http://127.0.0.1:8686"):
// `flag` (--url), else $REDUNDANCY_URL, else the config's http.listen, where a wildcard host becomes
// loopback and port 0 (or an unreadable listen) is replaced by <state_dir>/http.addr, the address the
// daemon wrote when it bound. The error says what to set.
boost::system::result<std::string, std::string> daemon_url(const std::optional<std::string>& flag,
                                                           const env_lookup& env, const config& c);

// The API token: $REDUNDANCY_TOKEN, else the token file (http.token_file, default <state_dir>/token),
// whitespace trimmed; nullopt when neither exists (GETs work without one).
std::optional<std::string> api_token(const env_lookup& env, const config& c);

// Registers the client commands on `app` and runs the one the command line chose.
class client_commands {
 public:
  // `config_file` is where the global --config option stores its value; it must outlive this object.
  client_commands(CLI::App& app, std::optional<std::filesystem::path>& config_file);

  // The exit code of the chosen client command (0 ok, 1 unhealthy or failed, 2 config error,
  // 3 unreachable or refused), or nullopt when the command line chose none of them.
  std::optional<int> run_parsed();

  // The `check` subcommand, for options that run in-process (`--once`) to be added beside these.
  CLI::App* check_command() const { return check_; }

  // What the user asked for: filled by CLI11 while parsing.
  struct options {
    std::optional<std::string> url{};
    bool json{false};
    bool wait{false};
    std::string subsystem{};  // check [SUBSYSTEM], events --subsystem
    std::string target{};     // pause/resume TARGET, pm2 restart APP, github trigger WORKFLOW
    std::string duration{};   // pause --for
    std::string reason{};     // pause --reason
    unsigned limit{0};        // events --limit; 0 means the daemon's default
    bool local{false};        // github trigger --local
    bool dispatch{false};     // github trigger --dispatch
  };

  // One registered command: the subcommand and the request it makes once options are parsed.
  struct command {
    CLI::App* sub{nullptr};
    std::function<int(const options&, const config&, const env_lookup&)> run{};
  };

 private:
  std::optional<std::filesystem::path>& config_file_;
  options options_{};
  std::vector<command> commands_{};
  CLI::App* check_{nullptr};
};

}  // namespace redundancy::cli
