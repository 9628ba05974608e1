// `redundancy notify test`: one test message per webhook, sent concurrently, results printed.
#include "redundancy/cli/notify_test.hpp"

#include "redundancy/cli/table.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/orchestrator/notify.hpp"
#include "redundancy/orchestrator/webhook.hpp"

#include <boost/json/serialize.hpp>

#include <iostream>

namespace redundancy::cli {

int notify_test(const config& c, bool json) {
  init_logging({.dir = {},
                .level = severity::warning,
                .max_file_bytes = 0,
                .max_files = 1,
                .to_stderr = true,
                .journal = false});
  if (c.notify.webhooks.empty()) {
    std::cerr << "redundancy: no webhooks configured (notify.webhooks in " << c.source << ")\n";
    return 2;
  }
  const notification test{.kind = "test",
                          .ts = std::chrono::system_clock::now(),
                          .subsystem = "orchestrator",
                          .target = "",
                          .severity = "info",
                          .message = "test message from `redundancy notify test`",
                          .event_id = 0,
                          .except_hook = {}};
  asio::io_context io{1};
  std::vector<delivery_result> results(c.notify.webhooks.size());
  for (std::size_t i = 0; i < c.notify.webhooks.size(); ++i) {
    std::vector<notification> items{test};
    asio::co_spawn(io, send_webhook(c.notify.webhooks[i], items, c.notify.timeout, "test"),
                   [&results, i](std::exception_ptr e, delivery_result r) {
                     if (e) r.error = "unexpected failure";
                     results[i] = std::move(r);
                   });
  }
  io.run();

  bool all_ok = true;
  boost::json::array out;
  table rows{.header = {"WEBHOOK", "FORMAT", "RESULT", "DETAIL"}, .rows = {}};
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& hook = c.notify.webhooks[i];
    const auto& r = results[i];
    all_ok = all_ok && r.ok;
    const auto detail =
        r.ok ? "HTTP " + std::to_string(r.status) + " in " + std::to_string(r.took.count()) + " ms" : r.error;
    out.push_back({{"webhook", webhook_id(hook)},
                   {"format", hook.format},
                   {"ok", r.ok},
                   {"status", r.status},
                   {"error", r.ok ? boost::json::value(nullptr) : boost::json::value(r.error)},
                   {"duration_ms", r.took.count()}});
    rows.rows.push_back({webhook_id(hook), hook.format, r.ok ? "delivered" : "failed", detail});
  }
  if (json)
    std::cout << boost::json::serialize(boost::json::object{{"ok", all_ok}, {"webhooks", std::move(out)}}) << "\n";
  else
    print_table(std::cout, rows, stdout_wants_colour());
  return all_ok ? 0 : 1;
}

}  // namespace redundancy::cli
