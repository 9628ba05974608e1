// The command line: `redundancy [--config F] COMMAND ...`, for the daemon and its client commands.
#pragma once

namespace redundancy::cli {

// Exit codes everywhere: 0 ok/healthy, 1 unhealthy or action failed, 2 usage or config error,
// 3 daemon unreachable or refused.
enum exit_code : int { ok = 0, failed = 1, usage = 2, unreachable = 3 };

int main(int argc, char** argv);

}  // namespace redundancy::cli
