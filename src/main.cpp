// Entry point: hands the command line to the CLI.
#include "redundancy/cli/cli.hpp"

#include <malloc.h>

#include <csignal>

int main(int argc, char** argv) {
  // A closed pipe (a child gone, journald restarting under our stderr) must be an error on that write,
  // not the end of the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  // glibc raises its mmap threshold to the size of any large block freed (up to 32 MiB), and from then
  // on keeps such blocks in the heap after they are freed. A 6 MB `pm2 jlist` or a health report would
  // stay resident for the daemon's life; with the threshold fixed they are mapped and unmapped.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  return redundancy::cli::main(argc, argv);
}
