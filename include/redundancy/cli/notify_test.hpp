// `redundancy notify test`: a test message to every configured webhook, sent from this process with
// the config's settings (no daemon needed, so a hook can be tried before the daemon runs).
#pragma once
#include "redundancy/core/config.hpp"

namespace redundancy::cli {

// Sends one "test" notification to each webhook of c.notify (all at once, each bounded by
// notify.timeout), prints each one's result (a table, or JSON with `json`), and returns 0 when every
// hook answered 2xx, 1 when any failed, 2 when none is configured. Never prints a URL or a secret.
int notify_test(const config& c, bool json);

}  // namespace redundancy::cli
