// The PM2 subsystem's setup and the apps it expects: pm2.processes plus every app of the ecosystem
// files (each with its restart_fsm), and what PM2's dump holds.
#include "redundancy/pm2/pm2_subsystem.hpp"

#include "pm2_subsystem_internal.hpp"
#include "redundancy/core/limits.hpp"

#include <boost/json/parse.hpp>

#include <cstdlib>
#include <stdexcept>

namespace redundancy::pm2 {

std::string_view to_string(list_source s) {
  switch (s) {
    case list_source::none:
      return "none";
    case list_source::rpc:
      return "rpc";
    case list_source::jlist:
      return "jlist";
  }
  return "none";
}

std::string_view to_string(transport_mode t) {
  switch (t) {
    case transport_mode::automatic:
      return "auto";
    case transport_mode::socket:
      return "socket";
    case transport_mode::cli:
      return "cli";
  }
  return "auto";
}

std::optional<transport_mode> parse_transport_mode(std::string_view text) {
  for (auto t : {transport_mode::automatic, transport_mode::socket, transport_mode::cli})
    if (text == to_string(t)) return t;
  return std::nullopt;
}

std::string_view to_string(pm2_state s) {
  switch (s) {
    case pm2_state::unchecked:
      return "unchecked";
    case pm2_state::ok:
      return "ok";
    case pm2_state::daemon_down:
      return "daemon_down";
    case pm2_state::not_answering:
      return "not_answering";
    case pm2_state::not_installed:
      return "not_installed";
    case pm2_state::bad_output:
      return "bad_output";
  }
  return "unchecked";
}

namespace {

// The config reader accepts only the names: anything else comes from code that built a config by hand.
transport_mode transport_of(const pm2_config& c) {
  if (auto t = parse_transport_mode(c.transport)) return *t;
  throw std::invalid_argument("pm2.transport: expected one of \"auto\", \"socket\", \"cli\", got \"" + c.transport +
                              "\"");
}

pm2_cpu_action cpu_action_of(const pm2_config& c) {
  if (auto a = parse_pm2_cpu_action(c.cpu_action)) return *a;
  throw std::invalid_argument("pm2.cpu_action: expected one of \"warn\", \"restart\", got \"" + c.cpu_action + "\"");
}

}  // namespace

pm2_subsystem::pm2_subsystem(const config& cfg)
    : pm2_(cfg.pm2),
      transport_(transport_of(cfg.pm2)),
      cpu_action_(cpu_action_of(cfg.pm2)),
      project_dir_(std::filesystem::absolute(cfg.project_dir)),
      state_dir_(cfg.state_dir.is_absolute() ? cfg.state_dir : project_dir_ / cfg.state_dir),
      ecosystems_(cfg.pm2.timeout),
      manual_stops_(state_dir_ / "pm2-manual-stops.json"),
      random_(std::random_device{}()) {
  if (pm2_.home) {
    pm2_home_ = pm2_.home->is_absolute() ? *pm2_.home : project_dir_ / *pm2_.home;
  } else if (const char* env = std::getenv("PM2_HOME"); env && *env) {
    pm2_home_ = env;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    pm2_home_ = std::filesystem::path(home) / ".pm2";
  } else {
    pm2_home_ = "/etc/.pm2";
  }
  if (pm2_.command.empty()) pm2_.command = {"pm2"};
  last_.summary = "not checked yet";
}

restart_settings pm2_subsystem::fsm_settings() const {
  return {.max_attempts = pm2_.max_restart_attempts,
          .base_delay = pm2_.restart_delay,
          .max_delay = std::chrono::minutes{5},
          .attempt_window = std::chrono::hours{1},
          .stopped_grace = pm2_.interval,
          .streak_needed = 3,
          .cpu_restart = cpu_action_ == pm2_cpu_action::restart,
          .jitter_fraction = 0.1};
}

pm2_subsystem::expected_app& pm2_subsystem::expected(const std::string& name) {
  auto it = expected_.find(name);
  if (it == expected_.end()) {
    auto draw = [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); };
    it = expected_.emplace(name, expected_app{.file = std::nullopt, .fsm = restart_fsm(fsm_settings(), draw)}).first;
  }
  return it->second;
}

std::vector<std::filesystem::path> pm2_subsystem::ecosystem_paths() const {
  std::vector<std::filesystem::path> paths;
  for (const auto& f : pm2_.ecosystem_files) paths.push_back(f.is_absolute() ? f : project_dir_ / f);
  return paths;
}

std::optional<std::filesystem::path> pm2_subsystem::file_of(const std::string& name) const {
  auto it = expected_.find(name);
  return it == expected_.end() ? std::nullopt : it->second.file;
}

std::set<std::string> pm2_subsystem::dumped_names() const {
  std::set<std::string> names;
  boost::system::error_code ec;
  auto doc = boost::json::parse(detail::read_small_file(pm2_home_ / "dump.pm2"), ec);
  if (!ec && doc.is_array())
    for (const auto& v : doc.get_array())
      if (v.is_object())
        if (auto n = v.get_object().if_contains("name"); n && n->is_string())
          names.insert(std::string(n->get_string()));
  return names;
}

bool pm2_subsystem::dump_has_apps() const {
  auto text = detail::read_small_file(pm2_home_ / "dump.pm2");
  boost::system::error_code ec;
  auto doc = boost::json::parse(text, ec);
  return !ec && doc.is_array() && !doc.get_array().empty();
}

awaitable<void> pm2_subsystem::gather_expected(health& h, findings& found) {
  auto& problems = found.problems;
  auto& warnings = found.warnings;
  // The expected set: pm2.processes, then every app of every ecosystem file (which one defines it).
  files_ = co_await ecosystems_.refresh(ecosystem_paths());
  std::map<std::string, std::optional<std::filesystem::path>> wanted;
  for (const auto& p : pm2_.processes) wanted[p] = std::nullopt;
  std::size_t beyond_cap = 0;
  for (const auto& f : files_) {
    if (!f.mtime) {
      // The default names are a guess at what a project has: only a file the config names is missed.
      if (pm2_.ecosystem_files_configured) warnings.push_back(f.error);
      continue;
    }
    if (!f.error.empty()) {
      problems.push_back(f.error);
      boost::json::object d{{"kind", "ecosystem_file"}, {"path", f.path.string()}};
      h.targets.push_back(
          {.name = f.path.filename().string(), .state = status::unhealthy, .reason = f.error, .detail = std::move(d)});
      // Its apps stay expected as last known (the cache keeps nothing for a failed file, the map does).
      for (const auto& [name, app] : expected_)
        if (app.file == f.path) wanted[name] = f.path;
      continue;
    }
    for (const auto& app : f.apps) {
      // Ecosystem files are not bounded by the config's check: beyond the cap, apps are named, not watched.
      if (wanted.size() >= max_targets && !wanted.contains(app.name)) {
        ++beyond_cap;
        continue;
      }
      wanted[app.name] = f.path;
    }
  }
  if (beyond_cap > 0)
    warnings.push_back(std::to_string(beyond_cap) + " apps of the ecosystem files not watched: at most " +
                       std::to_string(max_targets) + " apps are");
  for (auto it = expected_.begin(); it != expected_.end();)
    it = wanted.count(it->first) ? std::next(it) : expected_.erase(it);
  for (const auto& [name, file] : wanted) expected(name).file = file;
}

}  // namespace redundancy::pm2
