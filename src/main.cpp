// Entry point: hands the command line to the CLI.
#include "redundancy/cli/cli.hpp"

#include <csignal>

int main(int argc, char** argv) {
  // A closed pipe (a child gone, journald restarting under our stderr) must be an error on that write,
  // not the end of the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  return redundancy::cli::main(argc, argv);
}
