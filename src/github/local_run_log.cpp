// The local runner's log: the run's log file, the output shown and kept (masked), the steps
// recorded, the masks a step adds and its step summary.
#include <cstdio>

#include "local_run_session.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/time.hpp"

namespace redundancy::github {

namespace {

// "20240501T123456Z": the time now, for a log file's name.
std::string utc_stamp() {
  auto stamp = to_rfc3339_seconds(std::chrono::system_clock::now());
  std::erase(stamp, '-');
  std::erase(stamp, ':');
  return stamp;
}

}  // namespace

bool run_session::open_log() {
  const auto dir = c_.log_dir / "workflow-runs";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  log_path_ = dir / (w_.file.stem().string() + "-" + utc_stamp() + ".log");
  for (int n = 2; std::filesystem::exists(log_path_, ec); ++n)
    log_path_ = dir / (w_.file.stem().string() + "-" + utc_stamp() + "-" + std::to_string(n) + ".log");
  log_.open(log_path_, std::ios::out | std::ios::trunc);
  return static_cast<bool>(log_);
}

// Everything shown or written goes through here, masked.
void run_session::emit(const std::string& raw) {
  const std::string text = mask_secrets(raw, secrets_);
  if (log_) log_ << text << std::flush;
  if (sink_) sink_(text);
  tail_ += text;
  constexpr std::size_t keep = 8 * 1024;
  if (tail_.size() > keep) tail_.erase(0, tail_.size() - keep);
}

void run_session::record(const std::string& name, bool ok, const std::string& detail) {
  steps_.push_back(action_step{.name = name, .ok = ok, .detail = mask_secrets(detail, secrets_)});
  RLOG("github", info) << w_.file.filename().string() << ": " << name << ": " << mask_secrets(detail, secrets_);
}

void run_session::skip(const std::string& name, const std::string& reason, bool counts_as_partial) {
  if (counts_as_partial) skipped_.push_back(name + " (" + reason + ")");
  emit("-- " + name + ": skipped: " + reason + "\n");
  record(name, true, "skipped: " + reason);
}

void run_session::note_masks(const std::string& chunk) {
  constexpr std::string_view command = "::add-mask::";
  for (std::size_t at = 0; at < chunk.size();) {
    auto end = chunk.find('\n', at);
    if (end == std::string::npos) end = chunk.size();
    std::string_view line(chunk.data() + at, end - at);
    at = end + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.starts_with(command)) continue;
    line.remove_prefix(command.size());
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (!line.empty()) secrets_.insert(std::string(line));
  }
}

void run_session::keep_summary(const std::string& step_name, const std::string& text) {
  if (text.empty()) return;
  const std::string masked = mask_secrets(text, secrets_);
  emit("-- " + step_name + ": step summary:\n" + masked + (masked.back() == '\n' ? "" : "\n"));
  if (log_path_.empty()) return;
  summary_path_ = log_path_;
  summary_path_.replace_extension(".summary.md");
  std::ofstream out(summary_path_, std::ios::binary | std::ios::app);
  out << masked << (masked.back() == '\n' ? "" : "\n");
}

std::string run_session::seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

}  // namespace redundancy::github
