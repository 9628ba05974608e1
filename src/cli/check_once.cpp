// The in-process check: the same subsystems and scheduler as the daemon, run once and printed.
#include "redundancy/cli/check_once.hpp"

#include "redundancy/app/subsystems.hpp"
#include "redundancy/cli/table.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/scheduler.hpp"
#include "redundancy/core/target_row.hpp"
#include "redundancy/core/time.hpp"

#include <boost/json/serialize.hpp>

#include <iostream>

namespace redundancy::cli {
namespace {

bool passes(status s) { return s == status::healthy || s == status::degraded || s == status::disabled; }

boost::json::object to_json(const subsystem_state& s) {
  boost::json::array targets;
  for (const auto& t : s.last.targets) {
    targets.push_back(target_row(t, s.target->name()));
  }
  return {{"status", to_string(s.last.state)},           {"summary", s.last.summary},
          {"checked_at", to_rfc3339(s.last.checked_at)}, {"result", to_string(s.last_outcome)},
          {"duration_ms", s.last_duration.count()},      {"targets", std::move(targets)}};
}

}  // namespace

int check_once(const config& c, const std::string& subsystem, bool json) {
  // The table is the output; the daemon's scheduling chatter would only bury it.
  init_logging({.dir = {},
                .level = severity::warning,
                .max_file_bytes = 0,
                .max_files = 1,
                .to_stderr = true,
                .journal = false});
  asio::io_context io{1};
  scheduler checks(io.get_executor());
  for (auto& made : make_subsystems(c))
    if (subsystem.empty() || made.target->name() == subsystem) checks.add(std::move(made.target), made.schedule);
  if (!subsystem.empty() && checks.states().empty()) {
    std::cerr << "redundancy: no enabled subsystem named '" << subsystem << "'\n";
    return 2;
  }
  // The scheduler checks each subsystem at once when started; stop when every one has been seen.
  std::size_t seen = 0;
  checks.on_checked([&](const subsystem_state&) {
    if (++seen == checks.states().size()) {
      checks.stop();
      io.stop();
    }
  });
  checks.start();
  if (!checks.states().empty()) io.run();

  bool all_pass = true;
  boost::json::object subsystems;
  table overview{.header = {"SUBSYSTEM", "STATUS", "CHECK", "SUMMARY"}, .rows = {}};
  table targets{.header = {"TARGET", "STATUS", "REASON"}, .rows = {}};
  for (const auto& [name, s] : checks.states()) {
    all_pass = all_pass && passes(s.last.state);
    subsystems[name] = to_json(s);
    overview.rows.push_back(
        {name, std::string(to_string(s.last.state)),
         std::string(to_string(s.last_outcome)) + " " + std::to_string(s.last_duration.count()) + "ms",
         s.last.summary});
    for (const auto& t : s.last.targets)
      targets.rows.push_back({name + "/" + t.name, std::string(to_string(t.state)), t.reason});
  }
  if (json) {
    std::cout << boost::json::serialize(boost::json::object{{"status", all_pass ? "healthy" : "unhealthy"},
                                                            {"subsystems", std::move(subsystems)}})
              << "\n";
  } else {
    const bool colour = stdout_wants_colour();
    print_table(std::cout, overview, colour);
    if (!targets.rows.empty()) {
      std::cout << "\n";
      print_table(std::cout, targets, colour);
    }
  }
  return all_pass ? 0 : 1;
}

}  // namespace redundancy::cli
