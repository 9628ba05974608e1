// What GitHub's answers mean for one workflow: runs parsed at the edge, then a pure assessment
// (consecutive failures, missed schedule ticks, disabled state, inactivity) that decides whether a
// backup is due. No I/O; the clock is a parameter.
#pragma once
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "redundancy/core/health.hpp"
#include "redundancy/github/workflow.hpp"

namespace redundancy::github {

struct workflow_run {
  std::uint64_t id{0};
  std::string event{};        // schedule, push, workflow_dispatch, ...
  std::string status{};       // queued, in_progress, completed, ...
  std::string conclusion{};   // empty until completed
  std::string head_branch{};  // the branch it ran for; empty when GitHub did not say
  sys_time created_at{};
  std::string started_at{};  // run_started_at as GitHub wrote it
  std::string url{};         // html_url
};

// {"workflow_runs": [...]} into runs, newest first. Errors name the path: "workflow_runs[2].id:
// expected a number".
boost::system::result<std::vector<workflow_run>, std::string> parse_runs(const boost::json::value& body);

// What the last round of API calls saw for one workflow.
struct workflow_observation {
  std::vector<workflow_run> runs{};             // newest first
  bool page_full{false};                        // older runs exist beyond the page
  std::string state{};                          // active, disabled_inactivity, ...; empty when unknown
  std::optional<sys_time> workflow_created{};   // when GitHub first saw the file
  std::string workflow_updated{};               // updated_at, to tell one disabling from the next
  std::optional<sys_time> repository_pushed{};  // the repository's last push
};

struct assessment_settings {
  unsigned max_failures{3};
  std::chrono::milliseconds schedule_grace{std::chrono::hours(1)};
  std::chrono::hours lookback{24};  // how far back missed schedule ticks are looked for
  sys_time now{};
  // The branch whose runs count (github.dispatch.ref, else the default branch); empty: any branch.
  std::string deploy_branch{};
};

// Whether a run says anything about the deploy branch: one of its own events (push, schedule,
// workflow_dispatch, repository_dispatch) on that branch (when both are known). A contributor's
// failing pull_request run is about their change, not about the site.
bool counts_for_deploy_branch(const workflow_run& r, const std::string& deploy_branch);

struct workflow_assessment {
  status state{status::healthy};
  std::string reason{};
  unsigned consecutive_failures{0};  // failed runs plus missed ticks since the last success
  unsigned missed_ticks{0};
  std::vector<sys_time> missed{};  // the missed ticks, oldest first
  // The newest failure (a run id "run:123", a missed tick "tick:<epoch>", or a disabling
  // "disabled:<state>:<updated_at>"): a backup happens at most once per key.
  std::string failure_key{};
  bool backup_wanted{false};  // failures reached max_failures, or GitHub disabled a scheduled workflow
  std::vector<std::string> warnings{};
};

// Judges one valid workflow from what GitHub said; only runs that counts_for_deploy_branch count.
workflow_assessment assess(const workflow& w, const workflow_observation& o, const assessment_settings& s);

}  // namespace redundancy::github
