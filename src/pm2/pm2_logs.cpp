// Log rotation: which expected apps' logs are over pm2.log_max_bytes (measured once a minute), and their
// rotation by copy and truncate, keeping pm2.log_keep files.
#include "redundancy/pm2/pm2_subsystem.hpp"

#include "pm2_subsystem_internal.hpp"

#include <algorithm>

namespace redundancy::pm2 {
namespace {

// Logs grow over minutes, and measuring them is two stat calls per app (2,000 at 1,000 apps, a tenth
// of such a check): once a minute is soon enough, and at once after a rotation.
constexpr auto log_measure_every = std::chrono::minutes(1);

void rotate_one(const std::filesystem::path& log, unsigned keep, std::error_code& ec) {
  namespace fs = std::filesystem;
  auto numbered = [&](unsigned k) { return fs::path(log.string() + "." + std::to_string(k)); };
  fs::remove(numbered(keep), ec);
  for (unsigned k = keep; k > 1; --k)
    if (fs::exists(numbered(k - 1))) fs::rename(numbered(k - 1), numbered(k), ec);
  if (keep > 0) fs::copy_file(log, numbered(1), fs::copy_options::overwrite_existing, ec);
  if (ec) return;
  // PM2 appends (O_APPEND), so truncating in place is safe while it writes.
  fs::resize_file(log, 0, ec);
}

}  // namespace

bool pm2_subsystem::logs_due(fsm_clock::time_point now) {
  // Not measured while PM2 is unusable, and at once when it is usable again.
  if (state_ != pm2_state::ok) logs_measured_at_.reset();
  const bool measure_logs =
      state_ == pm2_state::ok && (!logs_measured_at_ || now - *logs_measured_at_ >= log_measure_every);
  if (measure_logs) logs_measured_at_ = now;
  if (measure_logs || state_ != pm2_state::ok) {
    oversized_logs_.clear();
    log_warnings_.clear();
  }
  return measure_logs;
}

void pm2_subsystem::measure_logs_of(const std::string& name, const std::vector<const app_entry*>& instances) {
  for (auto* i : instances)
    for (const auto* path : {&i->out_log_path, &i->err_log_path}) {
      std::error_code ec;
      auto size = path->empty() ? 0 : std::filesystem::file_size(*path, ec);
      if (!ec && size > pm2_.log_max_bytes) {
        oversized_logs_.emplace_back(*path);
        log_warnings_.push_back(name + ": log " + *path + " is " + detail::mib(size) + " (over " +
                                detail::mib(pm2_.log_max_bytes) + ")");
      }
    }
}

awaitable<action_result> pm2_subsystem::rotate_logs() {
  action_result result;
  for (const auto& log : oversized_logs_) {
    std::error_code ec;
    rotate_one(log, pm2_.log_keep, ec);
    result.steps.push_back({.name = "rotate " + log.filename().string(),
                            .ok = !ec,
                            .detail = ec ? ec.message() : "kept " + std::to_string(pm2_.log_keep) + " files"});
  }
  oversized_logs_.clear();
  log_warnings_.clear();
  logs_measured_at_.reset();  // measured again at the next check
  result.ok = std::all_of(result.steps.begin(), result.steps.end(), [](const auto& s) { return s.ok; });
  result.summary = std::to_string(result.steps.size()) + " logs rotated";
  co_return result;
}

}  // namespace redundancy::pm2
