// The command line parser: builds the CLI11 app and dispatches to the command handlers.
#include "redundancy/cli/cli.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace redundancy::cli {

int main(int argc, char** argv) {
  CLI::App app{"redundancy: keeps a web project's PM2 apps, GitHub workflows and Netlify functions alive"};
  app.set_version_flag("--version", std::string("redundancy ") + REDUNDANCY_VERSION);
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_code::ok : exit_code::usage;
  }
  return exit_code::ok;
}

}  // namespace redundancy::cli
