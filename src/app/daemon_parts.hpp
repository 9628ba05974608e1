// What the config means for the daemon's parts (logging, the server, the token, the history, the
// secrets to mask) and the small judgements a reload makes: the daemon's wiring without its life.
#pragma once
#include "redundancy/core/config.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/http/server.hpp"
#include "redundancy/orchestrator/store.hpp"

#include <boost/json/array.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy {

log_settings log_settings_for(const config& c);

// The dashboard: the config's http.web_root; else share/redundancy/web beside the running binary
// (<prefix>/bin/redundancy -> <prefix>/share/redundancy/web, so any install prefix works); else, only for
// the binary of a build tree (its folder holds CMakeCache.txt), the source tree's web/; else none.
std::optional<std::filesystem::path> web_root_for(const config& c);

// The API token from http.token_file (created when absent); empty, loudly, when there is none.
std::string token_for(const config& c);

http::server_settings server_settings_for(const config& c, std::string token);

// What no action output, event or log line may show: the API token, every secret of the config and
// the tokens the daemon reads from its environment.
std::vector<std::string> secrets_of(const config& c, const std::string& token);

// Keys a running daemon cannot take: state_dir holds the history it has open, the token, the child
// ledger and http.addr; project_dir is what every relative path (state_dir's among them) and every
// tool's working folder derive from.
bool needs_restart(std::string_view key);

// Whether the reload changed what subsystem `name` is built from: its section, or the log_dir the
// GitHub local runs write to.
bool changes_subsystem(const std::vector<std::string>& changed, const std::string& name);

std::string joined(const std::vector<std::string>& items);
boost::json::array json_strings(const std::vector<std::string>& items);

// The history lives in state_dir; when that file cannot be opened (corrupt, unreadable) the daemon
// still watches and serves, keeping this life's history in memory and saying so in `problem`.
store open_history(const config& c, std::optional<std::string>& problem);

}  // namespace redundancy
