// The command line parser: builds the CLI11 app and dispatches to the command handlers.
#include "redundancy/cli/cli.hpp"

#include "redundancy/app/daemon.hpp"
#include "redundancy/cli/check_once.hpp"
#include "redundancy/cli/client_commands.hpp"
#include "redundancy/cli/github_local.hpp"
#include "redundancy/cli/notify_test.hpp"
#include "redundancy/core/config.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include <iostream>

namespace redundancy::cli {
namespace {

struct global_options {
  std::optional<std::filesystem::path> config_file{};
};

// Loads the config or explains on stderr why not; the caller exits with `usage` (2).
std::optional<config> load_or_report(const global_options& g) {
  auto loaded = load_config(g.config_file, current_environment());
  if (!loaded) {
    std::cerr << "redundancy: " << loaded.error() << "\n";
    return std::nullopt;
  }
  return std::move(*loaded);
}

// Indented JSON for people; Boost.JSON only prints compact text.
void pretty_print(std::ostream& os, const boost::json::value& v, int indent = 0) {
  const std::string pad(indent + 2, ' ');
  const std::string close(indent, ' ');
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) {
      os << "{}";
      return;
    }
    os << "{\n";
    bool first = true;
    for (const auto& [key, value] : o) {
      if (!first) os << ",\n";
      first = false;
      os << pad << boost::json::serialize(boost::json::value(key)) << ": ";
      pretty_print(os, value, indent + 2);
    }
    os << "\n" << close << "}";
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    if (a.empty()) {
      os << "[]";
      return;
    }
    os << "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i) os << ",\n";
      os << pad;
      pretty_print(os, a[i], indent + 2);
    }
    os << "\n" << close << "]";
  } else {
    os << boost::json::serialize(v);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"redundancy: keeps a web project's PM2 apps, GitHub workflows and Netlify functions alive"};
  app.set_version_flag("--version", std::string("redundancy ") + REDUNDANCY_VERSION);
  app.require_subcommand(1);
  global_options g;
  app.add_option("--config", g.config_file,
                 "config file (else $REDUNDANCY_CONFIG, ./redundancy.json, "
                 "/etc/redundancy/redundancy.json)");

  auto* run = app.add_subcommand("run", "run the daemon in the foreground");
  auto* config_cmd = app.add_subcommand("config", "work with the config file");
  config_cmd->require_subcommand(1);
  auto* config_check = config_cmd->add_subcommand("check", "validate and print the effective config, secrets redacted");
  // `redundancy run --config F` reads as naturally as `redundancy --config F run`.
  for (auto* sub : {run, config_check}) sub->add_option("--config", g.config_file, "config file");
  // Sent from here with the config's webhooks, not through the daemon: it works before the daemon runs
  // and says per hook what the receiver answered.
  auto* notify = app.add_subcommand("notify", "webhook notifications");
  notify->require_subcommand(1);
  auto* notify_test_cmd = notify->add_subcommand("test", "send a test message to every configured webhook");
  notify_test_cmd->add_option("--config", g.config_file, "config file");
  bool notify_json = false;
  notify_test_cmd->add_flag("--json", notify_json, "print the results as JSON");
  client_commands client(app, g.config_file);
  github_local_commands github_local(app, g.config_file);
  bool once = false, once_json = false;
  std::string once_subsystem;
  client.check_command()->add_flag("--once", once, "run the checks here, without a daemon, and print them");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_code::ok : exit_code::usage;
  }

  if (run->parsed()) {
    auto c = load_or_report(g);
    if (!c) return exit_code::usage;
    return run_daemon(std::move(*c), {.config_file = g.config_file});
  }
  if (config_check->parsed()) {
    auto c = load_or_report(g);
    if (!c) return exit_code::usage;
    pretty_print(std::cout, to_redacted_json(*c));
    std::cout << "\n";
    std::cerr << "config ok: " << c->source << "\n";
    return exit_code::ok;
  }
  if (notify_test_cmd->parsed()) {
    auto c = load_or_report(g);
    if (!c) return exit_code::usage;
    return notify_test(*c, notify_json);
  }
  if (once && client.check_command()->parsed()) {
    auto c = load_or_report(g);
    if (!c) return exit_code::usage;
    const auto* positional = client.check_command()->get_option("subsystem");
    if (positional->count() > 0) once_subsystem = positional->as<std::string>();
    once_json = client.check_command()->get_option("--json")->count() > 0;
    return check_once(*c, once_subsystem, once_json);
  }
  if (auto code = github_local.run_parsed()) return *code;
  if (auto code = client.run_parsed()) return *code;
  return exit_code::usage;
}

}  // namespace redundancy::cli
