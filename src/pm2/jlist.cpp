// Parses `pm2 jlist` into app entries, skipping every app's environment.
#include "redundancy/pm2/jlist.hpp"

#include "redundancy/pm2/json_mapper.hpp"

#include <boost/json/parse.hpp>

#include <array>
#include <utility>

namespace redundancy::pm2 {
namespace {

constexpr std::array<std::pair<std::string_view, app_status>, 7> status_names{{
    {"online", app_status::online},
    {"stopping", app_status::stopping},
    {"stopped", app_status::stopped},
    {"launching", app_status::launching},
    {"errored", app_status::errored},
    {"one-launch-status", app_status::one_launch_status},
    {"waiting restart", app_status::waiting_restart},
}};

// The last line that holds anything: PM2 writes its JSON as one line, possibly after a banner.
std::string_view last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  auto nl = text.rfind('\n');
  return nl == std::string_view::npos ? text : text.substr(nl + 1);
}

std::optional<std::string> read_entry(const boost::json::value& v, std::size_t index, app_entry& app) {
  std::string path = "[" + std::to_string(index) + "]";
  if (!v.is_object()) return path + ": expected an object";
  json_mapper top(v.get_object(), path);
  top.require("name").read("name", app.name).read("pid", app.pid).read("pm_id", app.pm_id);
  if (auto monit = top.child("monit")) monit->read("cpu", app.cpu_percent).read("memory", app.memory_bytes);
  if (auto env = top.child("pm2_env")) {
    // Only named fields are read: the rest of pm2_env is the environment of whoever started the app.
    env->read("status", app.status_text)
        .read("restart_time", app.restart_time)
        .read("unstable_restarts", app.unstable_restarts)
        .read("pm_uptime", app.pm_uptime_ms)
        .read("pm_out_log_path", app.out_log_path)
        .read("pm_err_log_path", app.err_log_path)
        .read("max_memory_restart", app.max_memory_restart)
        .read("exec_mode", app.exec_mode)
        .read("instances", app.instances)
        .read("pmx_module", app.is_module);
    if (app.pm_id < 0) env->read("pm_id", app.pm_id);
  }
  if (!top.ok()) return top.error();
  app.status = app_status_from_string(app.status_text);
  return std::nullopt;
}

}  // namespace

app_status app_status_from_string(std::string_view text) {
  for (const auto& [name, value] : status_names)
    if (name == text) return value;
  return app_status::other;
}

std::string_view to_string(app_status s) {
  for (const auto& [name, value] : status_names)
    if (value == s) return name;
  return "other";
}

std::chrono::seconds app_entry::uptime(std::chrono::system_clock::time_point now) const {
  if (status != app_status::online || !pm_uptime_ms) return std::chrono::seconds{0};
  // Compared in milliseconds: a start time far in the future (PM2's or a corrupt one) would overflow
  // the clock's nanoseconds (found by fuzz_pm2_jlist).
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  if (*pm_uptime_ms < 0 || *pm_uptime_ms >= now_ms) return std::chrono::seconds{0};
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::milliseconds{now_ms - *pm_uptime_ms});
}

boost::system::result<std::vector<app_entry>, std::string> parse_jlist(std::string_view output) {
  auto line = last_line(output);
  if (line.empty()) return std::string("pm2 jlist printed nothing");
  boost::system::error_code ec;
  auto doc = boost::json::parse(line, ec);
  if (ec) return "pm2 jlist output is not JSON (" + ec.message() + ")";
  return parse_app_list(doc, "pm2 jlist output");
}

boost::system::result<std::vector<app_entry>, std::string> parse_app_list(const boost::json::value& doc,
                                                                         std::string_view what) {
  if (!doc.is_array()) return std::string(what) + ": expected an array";
  std::vector<app_entry> apps;
  apps.reserve(doc.get_array().size());
  for (std::size_t i = 0; i < doc.get_array().size(); ++i) {
    app_entry app;
    if (auto error = read_entry(doc.get_array()[i], i, app)) return std::move(*error);
    apps.push_back(std::move(app));
  }
  return apps;
}

}  // namespace redundancy::pm2
