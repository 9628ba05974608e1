// The PM2 subsystem: check (daemon probe, jlist, judgement per app), recovery, emergency, log rotation.
#include "redundancy/pm2/pm2_subsystem.hpp"

#include "redundancy/core/limits.hpp"
#include "redundancy/core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/json/parse.hpp>

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace redundancy::pm2 {
namespace {

constexpr std::size_t tail_bytes = 4096;
constexpr std::size_t jlist_cap = 16 * 1024 * 1024;
// Logs grow over minutes, and measuring them is two stat calls per app (2,000 at 1,000 apps, a tenth
// of such a check): once a minute is soon enough, and at once after a rotation.
constexpr auto log_measure_every = std::chrono::minutes(1);
// How often a daemon going down or coming up is looked at: PM2 needs about a second for either.
constexpr auto daemon_poll = std::chrono::milliseconds(100);
// A daemon this young that refuses rpc.sock is still starting; an older one is stuck, not coming up.
constexpr auto daemon_startup = std::chrono::seconds(10);

std::string mib(std::uint64_t bytes) {
  std::ostringstream s;
  s.precision(1);
  s << std::fixed << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}

std::string read_small_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string s;
  std::getline(in, s, '\0');
  return s;
}

// The state letter and start time (clock ticks after boot) in /proc/PID/stat; nullopt when it is gone.
struct proc_stat {
  char state{'?'};
  unsigned long long start_ticks{0};
};
std::optional<proc_stat> stat_of(int pid) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  // The command name in parentheses may hold spaces and parentheses: the fields follow the last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  proc_stat st;
  std::string skip;
  fields >> st.state;
  for (int field = 4; field < 22 && fields >> skip; ++field) {
  }
  fields >> st.start_ticks;
  return st;
}

// A zombie counts as dead: a PM2 daemon our `pm2` child spawned is re-parented to us (the daemon is a
// child subreaper) and stays a zombie until reaped, though it answers kill(pid, 0).
bool pid_alive(int pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  auto st = stat_of(pid);
  return !st || st->state != 'Z';
}

// How long ago pid started, when /proc tells.
std::optional<std::chrono::milliseconds> age_of(int pid) {
  auto st = stat_of(pid);
  double uptime = 0;
  std::istringstream(read_small_file("/proc/uptime")) >> uptime;
  const auto ticks = ::sysconf(_SC_CLK_TCK);
  if (!st || ticks <= 0 || uptime <= 0) return std::nullopt;
  const double started = static_cast<double>(st->start_ticks) / static_cast<double>(ticks);
  return std::chrono::milliseconds(static_cast<long long>(std::max(0.0, uptime - started) * 1000));
}

awaitable<void> pause_for(std::chrono::milliseconds how_long) {
  asio::steady_timer timer(co_await asio::this_coro::executor, how_long);
  co_await timer.async_wait(asio::use_awaitable);
}

// Returns once pid has ended (polled: a daemon that dies says nothing to us but its closed sockets).
awaitable<void> until_dead(int pid) {
  while (pid_alive(pid)) co_await pause_for(daemon_poll);
}

int read_pid(const std::filesystem::path& file) {
  auto text = read_small_file(file);
  try {
    return text.empty() ? 0 : std::stoi(text);
  } catch (const std::exception&) {
    return 0;
  }
}

std::uint64_t total_ram() {
  auto pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size) : 0;
}

std::optional<std::uint64_t> rss_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return std::nullopt;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGE_SIZE));
}

void append_tail(std::string& tail, std::string_view text) {
  tail.append(text);
  if (tail.size() > tail_bytes) tail.erase(0, tail.size() - tail_bytes);
}

std::string last_line_of(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  auto nl = text.rfind('\n');
  std::string line(nl == std::string_view::npos ? text : text.substr(nl + 1));
  if (line.size() > 300) line.resize(300);
  return line;
}

// The status of an app from its instances: online only when every instance is; otherwise the worst.
app_status combined_status(const std::vector<const app_entry*>& instances) {
  constexpr std::array<app_status, 6> worst_first{app_status::errored,         app_status::stopped,
                                                  app_status::stopping,        app_status::other,
                                                  app_status::waiting_restart, app_status::launching};
  for (auto s : worst_first)
    for (auto* i : instances)
      if (i->status == s) return s;
  for (auto* i : instances)
    if (i->status != app_status::online) return i->status;
  return app_status::online;
}

status target_status(app_state s) {
  switch (s) {
    case app_state::healthy:
      return status::healthy;
    case app_state::starting:
    case app_state::cpu_warning:
      return status::degraded;
    case app_state::down:
    case app_state::overloaded:
    case app_state::given_up:
      return status::unhealthy;
  }
  return status::unhealthy;
}

// Measures of one app (all instances) for the target's detail.
struct measures {
  int pid{0};
  double cpu{0};
  std::uint64_t memory{0};
  std::uint64_t restarts{0};
  std::int64_t uptime{0};
  double memory_pct{0};  // the highest instance, against its max_memory_restart or the RAM
  double cpu_max{0};
  std::string status_text{"absent"};
};

measures measure(const std::vector<const app_entry*>& instances, std::uint64_t ram) {
  measures m;
  bool first = true;
  auto now = std::chrono::system_clock::now();
  for (auto* i : instances) {
    if (m.pid == 0) m.pid = i->pid;
    m.cpu += i->cpu_percent;
    m.cpu_max = std::max(m.cpu_max, i->cpu_percent);
    m.memory += i->memory_bytes;
    m.restarts += i->restart_time;
    auto up = i->uptime(now).count();
    m.uptime = first ? up : std::min(m.uptime, up);
    first = false;
    auto limit = i->max_memory_restart.value_or(ram);
    if (limit > 0)
      m.memory_pct = std::max(m.memory_pct, 100.0 * static_cast<double>(i->memory_bytes) / static_cast<double>(limit));
  }
  if (!instances.empty()) m.status_text = std::string(to_string(combined_status(instances)));
  if (!instances.empty() && combined_status(instances) == app_status::other)
    m.status_text = instances.front()->status_text;
  return m;
}

boost::json::object app_detail(const measures& m, bool expected, const std::optional<std::filesystem::path>& file) {
  boost::json::object d;
  d["kind"] = "app";
  d["status"] = m.status_text;
  d["pid"] = m.pid;
  d["cpu_percent"] = m.cpu;
  d["memory_bytes"] = m.memory;
  d["memory_percent"] = std::round(m.memory_pct * 10) / 10;
  d["restarts"] = m.restarts;
  d["uptime_seconds"] = m.uptime;
  d["expected"] = expected;
  d["ecosystem_file"] = file ? boost::json::value(file->string()) : boost::json::value(nullptr);
  return d;
}

// The generated JSON ecosystem for `file`: a name PM2 treats as config, unique per source path.
std::filesystem::path generated_path(const std::filesystem::path& state_dir, const std::filesystem::path& file) {
  std::ostringstream name;
  name << file.filename().string() << '.' << std::hex << (std::hash<std::string>{}(file.string()) & 0xffffffu)
       << ".json";
  return state_dir / "pm2" / name.str();
}

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

// A burst of events makes one check: the first arms a short timer, the others find it armed.
struct pm2_subsystem::debouncer {
  explicit debouncer(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  std::function<void()> fire{};
  bool armed{false};
};

namespace {
// Long enough to merge PM2's exit/online pairs and a crash loop's bursts, short enough for "within a second".
constexpr auto debounce_window = std::chrono::milliseconds(200);
}  // namespace

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

pm2_subsystem::pm2_subsystem(const config& cfg)
    : pm2_(cfg.pm2),
      project_dir_(std::filesystem::absolute(cfg.project_dir)),
      state_dir_(cfg.state_dir.is_absolute() ? cfg.state_dir : project_dir_ / cfg.state_dir),
      ecosystems_(cfg.pm2.timeout),
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

pm2_subsystem::~pm2_subsystem() { stop_watching(); }

void pm2_subsystem::start_watching(asio::any_io_executor executor, std::function<void()> check_soon) {
  if (pm2_.transport == "cli" || bus_) return;
  rpc_ = std::make_unique<rpc_client>(executor, pm2_home_ / "rpc.sock");
  debounce_ = std::make_shared<debouncer>(executor);
  debounce_->fire = std::move(check_soon);
  bus_ = bus_watcher::start(executor, pm2_home_ / "pub.sock", [this](const bus_notice& n) { on_bus(n); });
}

void pm2_subsystem::stop_watching() {
  if (bus_) bus_->stop();
  bus_.reset();
  if (debounce_) {
    debounce_->fire = nullptr;
    debounce_->timer.cancel();
  }
  debounce_.reset();
  rpc_.reset();
}

void pm2_subsystem::on_bus(const bus_notice& n) {
  switch (n.what) {
    case bus_notice::kind::connected:
      // The daemon is back (or was restarted behind our back): look at once rather than at the interval.
      if (bus_ && bus_->connections() > 1) check_soon("PM2 daemon is back");
      return;
    case bus_notice::kind::closed:
      daemon_was_gone_ = true;
      check_soon("PM2 events stopped (" + n.why + ")");
      return;
    case bus_notice::kind::event:
      break;
  }
  const auto& e = n.event;
  if (e.topic == "pm2:kill") {
    // It deletes every app now and exits after: the apps' absence is no job for a repair.
    if (int pid = read_pid(pm2_home_ / "pm2.pid"); pid_alive(pid)) going_down_pid_ = pid;
    daemon_was_gone_ = true;
    check_soon("PM2 daemon is being killed");
  } else if (e.event == "restart overlimit")
    check_soon(e.app + " hit PM2's restart limit");
  else if (e.event == "exit" && expected_.count(e.app))
    check_soon(e.app + " exited");
}

void pm2_subsystem::check_soon(std::string why) {
  if (!debounce_ || !debounce_->fire) return;
  RLOG("pm2", debug) << "event: " << why;
  if (debounce_->armed) return;
  debounce_->armed = true;
  debounce_->timer.expires_after(debounce_window);
  debounce_->timer.async_wait([d = debounce_, why, this](boost::system::error_code ec) {
    d->armed = false;
    if (ec || !d->fire) return;  // stopped: `this` may be gone, and nothing is asked for
    ++event_checks_;
    RLOG("pm2", info) << "checking now: " << why;
    d->fire();
  });
}

awaitable<boost::system::result<std::vector<app_entry>, rpc_error>> pm2_subsystem::read_over_rpc() {
  using read_result = boost::system::result<std::vector<app_entry>, rpc_error>;
  // In auto mode a slow socket must leave time for the jlist fallback inside the check's bound.
  const auto timeout = pm2_.transport == "socket"
                           ? pm2_.timeout
                           : std::min<std::chrono::milliseconds>(pm2_.timeout / 2, std::chrono::seconds(5));
  auto ex = co_await asio::this_coro::executor;
  std::optional<rpc_client> local;
  rpc_client* client = rpc_.get();
  if (!client) client = &local.emplace(ex, pm2_home_ / "rpc.sock");
  boost::json::array args{boost::json::object{}};
  auto reply = co_await client->call("getMonitorData", args, timeout);
  // A kept connection may be from a daemon that has died since: one fresh try tells the truth.
  if (!reply && reply.error().kind == rpc_failure::closed && client == rpc_.get())
    reply = co_await client->call("getMonitorData", args, timeout);
  if (!reply) co_return read_result(reply.error());
  auto parsed = parse_app_list(*reply, "getMonitorData");
  if (!parsed) co_return read_result(rpc_error{rpc_failure::protocol, parsed.error()});
  co_return read_result(std::move(*parsed));
}

restart_settings pm2_subsystem::fsm_settings() const {
  return {.max_attempts = pm2_.max_restart_attempts,
          .base_delay = pm2_.restart_delay,
          .max_delay = std::chrono::minutes{5},
          .attempt_window = std::chrono::hours{1},
          .stopped_grace = pm2_.interval,
          .streak_needed = 3,
          .cpu_restart = pm2_.cpu_action == "restart",
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
  auto doc = boost::json::parse(read_small_file(pm2_home_ / "dump.pm2"), ec);
  if (!ec && doc.is_array())
    for (const auto& v : doc.get_array())
      if (v.is_object())
        if (auto n = v.get_object().if_contains("name"); n && n->is_string())
          names.insert(std::string(n->get_string()));
  return names;
}

bool pm2_subsystem::dump_has_apps() const {
  auto text = read_small_file(pm2_home_ / "dump.pm2");
  boost::system::error_code ec;
  auto doc = boost::json::parse(text, ec);
  return !ec && doc.is_array() && !doc.get_array().empty();
}

awaitable<pm2_subsystem::daemon_probe> pm2_subsystem::probe_daemon() {
  daemon_probe probe;
  probe.pid = read_pid(pm2_home_ / "pm2.pid");
  probe.running = pid_alive(probe.pid);
  // Connecting to rpc.sock never spawns a daemon, unlike any `pm2` command.
  auto ex = co_await asio::this_coro::executor;
  asio::local::stream_protocol::socket socket(ex);
  asio::steady_timer timer(ex, std::chrono::seconds(2));
  try {
    asio::local::stream_protocol::endpoint endpoint((pm2_home_ / "rpc.sock").string());
    auto outcome = co_await (socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable)) ||
                             timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (outcome.index() == 0 && !std::get<0>(std::get<0>(outcome))) probe.answering = true;
  } catch (const boost::system::system_error& e) {
    // A PM2_HOME too long for sun_path: only the pid tells.
    RLOG("pm2", warning) << "cannot probe " << (pm2_home_ / "rpc.sock").string() << ": " << e.what();
  }
  if (probe.answering) probe.running = true;
  co_return probe;
}

awaitable<process_result> pm2_subsystem::run_pm2(std::vector<std::string> args, std::size_t expected_out) {
  process_spec spec;
  spec.argv = pm2_.command;
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.cwd = project_dir_;
  spec.inherit = child_env::pm2;
  spec.env["PM2_SILENT"] = "true";
  spec.env["PM2_HOME"] = pm2_home_.string();
  spec.timeout = pm2_.timeout;
  spec.output_cap = jlist_cap;
  spec.expected_out = expected_out;
  co_return co_await run_process(std::move(spec));
}

awaitable<bool> pm2_subsystem::run_step(action_result& result, std::string name, std::vector<std::string> argv,
                                        bool pm2) {
  process_result r;
  // The daemon a `pm2` command talks to: should it die under the command, the command would wait for
  // it until pm2.timeout. `pm2 kill` means it to die.
  int daemon = pm2 && (argv.empty() || argv.front() != "kill") ? read_pid(pm2_home_ / "pm2.pid") : 0;
  if (!pid_alive(daemon)) daemon = 0;
  if (daemon) {
    const auto started = std::chrono::steady_clock::now();
    auto outcome = co_await (run_pm2(std::move(argv)) || until_dead(daemon));
    if (outcome.index() == 1) {
      // run_pm2 was cancelled: its process group is ended and reaped.
      daemon_died_ = true;
      const auto after =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      std::string detail = "cancelled after " + std::to_string(after.count()) + " ms: the PM2 daemon (pid " +
                           std::to_string(daemon) + ") it talked to died";
      append_tail(result.output_tail, "$ " + name + "\n" + detail + "\n");
      RLOG("pm2", warning) << name << ": " << detail;
      result.steps.push_back({.name = std::move(name), .ok = false, .detail = std::move(detail)});
      co_return false;
    }
    r = std::move(std::get<0>(outcome));
  } else if (pm2) {
    r = co_await run_pm2(std::move(argv));
  } else {
    process_spec spec;
    spec.argv = std::move(argv);
    spec.cwd = project_dir_;
    spec.inherit = child_env::pm2;  // a daemon_restart_command is PM2's too
    spec.env["PM2_HOME"] = pm2_home_.string();
    spec.timeout = pm2_.timeout;
    r = co_await run_process(std::move(spec));
  }
  std::string detail = r.describe();
  if (!r.ok()) {
    auto why = last_line_of(r.err.empty() ? r.out : r.err);
    if (!why.empty()) detail += ": " + why;
  }
  append_tail(result.output_tail, "$ " + name + "\n");
  append_tail(result.output_tail, r.out.substr(r.out.size() > tail_bytes ? r.out.size() - tail_bytes : 0));
  append_tail(result.output_tail, r.err.substr(r.err.size() > tail_bytes ? r.err.size() - tail_bytes : 0));
  RLOG("pm2", info) << name << ": " << detail;
  result.steps.push_back({.name = std::move(name), .ok = r.ok(), .detail = std::move(detail)});
  co_return r.ok();
}

awaitable<bool> pm2_subsystem::start_from_file(action_result& result, const std::filesystem::path& file,
                                               std::optional<std::string> only) {
  std::filesystem::path config_file = file;
  if (!pm2_treats_as_config(file)) {
    // PM2 would run this file as a script: hand it an equivalent JSON ecosystem instead.
    config_file = generated_path(state_dir_, file);
    auto error = co_await write_json_ecosystem(file, config_file, pm2_.timeout);
    if (!error.empty()) {
      result.steps.push_back({.name = "convert " + file.filename().string(), .ok = false, .detail = error});
      co_return false;
    }
  }
  std::vector<std::string> args{"start", config_file.string()};
  std::string name = "pm2 start " + file.filename().string();
  if (only) {
    args.push_back("--only");
    args.push_back(*only);
    name += " --only " + *only;
  }
  const bool ok = co_await run_step(result, std::move(name), std::move(args), true);
  started_from_file_ |= ok;
  co_return ok;
}

awaitable<health> pm2_subsystem::check() {
  health h;
  std::vector<std::string> problems, warnings;
  auto now = fsm_clock::now();

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

  // PM2 itself, without letting a `pm2` call spawn an empty daemon: rpc.sock first (unless "cli").
  list_.clear();
  source_ = list_source::none;
  daemon_probe probe;
  std::optional<rpc_error> rpc_failed;
  if (pm2_.transport != "cli") {
    auto read = co_await read_over_rpc();
    if (read) {
      list_ = std::move(*read);
      source_ = list_source::rpc;
      state_ = pm2_state::ok;
      probe.pid = read_pid(pm2_home_ / "pm2.pid");
      probe.running = probe.answering = true;
    } else {
      rpc_failed = read.error();
    }
  }
  if (source_ == list_source::rpc) {
    // Read over the socket: nothing more to ask.
  } else if (pm2_.transport == "socket") {
    probe = co_await probe_daemon();
    const auto& f = *rpc_failed;
    if (!probe.running) {
      state_ = pm2_state::daemon_down;
      problems.insert(problems.begin(), "PM2 daemon is not running (PM2_HOME " + pm2_home_.string() + ")");
    } else {
      state_ = f.kind == rpc_failure::protocol || f.kind == rpc_failure::remote ? pm2_state::bad_output
                                                                                : pm2_state::not_answering;
      problems.insert(problems.begin(),
                      "getMonitorData over rpc.sock failed (" + std::string(to_string(f.kind)) + "): " + f.message);
    }
  } else if (probe = co_await probe_daemon(); !probe.running) {
    state_ = pm2_state::daemon_down;
    problems.insert(problems.begin(), "PM2 daemon is not running (PM2_HOME " + pm2_home_.string() + ")");
  } else {
    std::vector<std::string> jlist_args{"jlist"};
    // About the last list's size, with room for numbers that grew.
    auto r = co_await run_pm2(std::move(jlist_args), last_jlist_bytes_ + last_jlist_bytes_ / 8);
    last_jlist_bytes_ = r.out.size();
    if (!r.started()) {
      state_ = pm2_state::not_installed;
      problems.insert(problems.begin(), "pm2 is not installed: " + r.error);
    } else if (r.timed_out) {
      state_ = pm2_state::not_answering;
      problems.insert(problems.begin(), "PM2 daemon is not answering: pm2 jlist " + r.describe());
    } else if (!r.ok()) {
      state_ = probe.answering ? pm2_state::bad_output : pm2_state::not_answering;
      auto why = last_line_of(r.err);
      problems.insert(problems.begin(), "pm2 jlist failed: " + r.describe() + (why.empty() ? "" : ": " + why));
    } else if (r.truncated) {
      state_ = pm2_state::bad_output;
      problems.insert(problems.begin(), "pm2 jlist printed more than " + mib(jlist_cap) + "; output ignored");
    } else if (auto parsed = parse_jlist(r.out); !parsed) {
      state_ = pm2_state::bad_output;
      problems.insert(problems.begin(), "pm2 jlist output unreadable: " + parsed.error());
    } else {
      state_ = probe.answering ? pm2_state::ok : pm2_state::not_answering;
      list_ = std::move(*parsed);
      source_ = list_source::jlist;
      if (!probe.answering) problems.insert(problems.begin(), "PM2 daemon's rpc.sock refuses connections");
      // auto: the socket accepted but did not give the list; jlist did, at the price of a Node start.
      else if (rpc_failed)
        warnings.push_back("getMonitorData over rpc.sock failed (" + std::string(to_string(rpc_failed->kind)) +
                           "), read with pm2 jlist instead");
    }
  }

  if (state_ == pm2_state::daemon_down) daemon_was_gone_ = true;
  if (state_ == pm2_state::ok) daemon_was_gone_ = false;

  // Every app: the expected ones judged and remembered, the others listed and measured only.
  const auto ram = total_ram();
  bool logrotate = false;
  std::map<std::string, std::vector<const app_entry*>> by_name;
  for (const auto& e : list_) {
    by_name[e.name].push_back(&e);
    if (e.name == "pm2-logrotate" && e.status == app_status::online) logrotate = true;
  }
  // Not measured while PM2 is unusable, and at once when it is usable again.
  if (state_ != pm2_state::ok) logs_measured_at_.reset();
  const bool measure_logs =
      state_ == pm2_state::ok && (!logs_measured_at_ || now - *logs_measured_at_ >= log_measure_every);
  if (measure_logs) logs_measured_at_ = now;
  if (measure_logs || state_ != pm2_state::ok) {
    oversized_logs_.clear();
    log_warnings_.clear();
  }
  bool any_unhealthy = false, any_degraded = false;
  for (auto& [name, app] : expected_) {
    auto found = by_name.find(name);
    std::vector<const app_entry*> instances = found == by_name.end() ? std::vector<const app_entry*>{} : found->second;
    auto m = measure(instances, ram);
    target_health t{.name = name, .state = status::unknown, .reason = {}, .detail = app_detail(m, true, app.file)};
    t.detail["source"] = to_string(source_);
    if (state_ == pm2_state::ok) {
      observation seen{.listed = !instances.empty(),
                       .status = instances.empty() ? app_status::other : combined_status(instances),
                       .memory_over = m.memory_pct >= pm2_.memory_threshold_pct,
                       .cpu_over = m.cpu_max >= pm2_.cpu_threshold_pct};
      auto s = app.fsm.observe(seen, now);
      t.state = target_status(s);
      t.reason = app.fsm.reason();
      t.detail["state"] = to_string(s);
      if (t.state == status::unhealthy) problems.push_back(name + ": " + t.reason);
      if (t.state == status::degraded) warnings.push_back(name + ": " + t.reason);
      if (measure_logs)
        for (auto* i : instances)
          for (const auto* path : {&i->out_log_path, &i->err_log_path}) {
            std::error_code ec;
            auto size = path->empty() ? 0 : std::filesystem::file_size(*path, ec);
            if (!ec && size > pm2_.log_max_bytes && !logrotate) {
              oversized_logs_.emplace_back(*path);
              log_warnings_.push_back(name + ": log " + *path + " is " + mib(size) + " (over " +
                                      mib(pm2_.log_max_bytes) + ")");
            }
          }
    } else {
      t.state = state_ == pm2_state::bad_output ? status::unknown : status::unhealthy;
      t.reason = "PM2 is not usable (" + std::string(to_string(state_)) + ")";
    }
    t.detail["attempts_left"] = app.fsm.attempts_left(now);
    t.detail["given_up"] = app.fsm.given_up();
    any_unhealthy |= t.state == status::unhealthy;
    any_degraded |= t.state == status::degraded;
    h.targets.push_back(std::move(t));
  }
  warnings.insert(warnings.end(), log_warnings_.begin(), log_warnings_.end());
  for (const auto& [name, instances] : by_name) {
    if (expected_.count(name)) continue;
    auto m = measure(instances, ram);
    target_health t{.name = name, .state = status::healthy, .reason = {}, .detail = app_detail(m, false, std::nullopt)};
    t.detail["source"] = to_string(source_);
    if (combined_status(instances) != app_status::online) {
      // Not ours to judge: shown, never counted, never touched.
      t.state = status::disabled;
      t.reason = "not expected (not in pm2.processes or an ecosystem file): " + m.status_text + ", left alone";
    }
    h.targets.push_back(std::move(t));
  }

  // The quieter dangers: what a reboot would lose, and the daemon's own leaks.
  if (state_ == pm2_state::ok && !expected_.empty()) {
    auto dump = pm2_home_ / "dump.pm2";
    std::error_code ec;
    auto size = std::filesystem::file_size(dump, ec);
    if (ec) {
      warnings.push_back("dump.pm2 missing: after a reboot `pm2 resurrect` brings nothing back (run `pm2 save`)");
    } else if (size == 0) {
      warnings.push_back("dump.pm2 is empty: after a reboot no app comes back (run `pm2 save`)");
    } else {
      std::set<std::string> saved;
      boost::system::error_code jec;
      auto doc = boost::json::parse(read_small_file(dump), jec);
      if (!jec && doc.is_array())
        for (const auto& v : doc.get_array())
          if (v.is_object())
            if (auto n = v.get_object().if_contains("name"); n && n->is_string())
              saved.insert(std::string(n->get_string()));
      std::string missing;
      for (const auto& [name, app] : expected_)
        if (!saved.count(name)) missing += (missing.empty() ? "" : ", ") + name;
      if (jec || !doc.is_array())
        warnings.push_back("dump.pm2 is not readable: after a reboot no app comes back (run `pm2 save`)");
      else if (!missing.empty())
        warnings.push_back("dump.pm2 lacks " + missing + ": after a reboot they will not come back (run `pm2 save`)");
    }
  }
  if (probe.running && probe.pid > 0)
    if (auto rss = rss_of(probe.pid); rss && *rss > pm2_.daemon_memory_max)
      warnings.push_back("PM2 daemon uses " + mib(*rss) + " (over " + mib(pm2_.daemon_memory_max) + ")");

  // The overall state, worst first.
  bool files_failed =
      std::any_of(files_.begin(), files_.end(), [](const auto& f) { return f.mtime && !f.error.empty(); });
  if (state_ == pm2_state::bad_output && !files_failed)
    h.state = status::unknown;
  else if (state_ != pm2_state::ok && state_ != pm2_state::bad_output)
    h.state = status::unhealthy;
  else if (any_unhealthy || files_failed)
    h.state = status::unhealthy;
  else if (expected_.empty() && warnings.empty())
    h.state = status::disabled;
  else if (any_degraded || !warnings.empty())
    h.state = status::degraded;
  else
    h.state = status::healthy;

  std::vector<std::string> all = problems;
  all.insert(all.end(), warnings.begin(), warnings.end());
  if (h.state == status::disabled) {
    h.summary = "no PM2 app expected: pm2.processes is empty and no ecosystem file defines an app";
  } else if (all.empty()) {
    unsigned online = 0;
    for (const auto& t : h.targets)
      if (t.detail.contains("expected") && t.detail.at("expected").as_bool() && t.state == status::healthy) ++online;
    h.summary = std::to_string(online) + " of " + std::to_string(expected_.size()) + " expected apps online" +
                (source_ == list_source::rpc ? " (read over rpc.sock)" : " (read with pm2 jlist)");
  } else {
    for (const auto& line : all) h.summary += (h.summary.empty() ? "" : "; ") + line;
  }
  h.checked_at = std::chrono::system_clock::now();
  last_ = h;
  co_return h;
}

awaitable<void> pm2_subsystem::recover_daemon(action_result& result) {
  if (pm2_.daemon_restart_command && !pm2_.daemon_restart_command->empty()) {
    auto argv = *pm2_.daemon_restart_command;
    std::string name;
    for (const auto& a : argv) name += (name.empty() ? "" : " ") + a;
    co_await run_step(result, std::move(name), std::move(argv), false);
  } else if (dump_has_apps()) {
    std::vector<std::string> args{"resurrect"};
    co_await run_step(result, "pm2 resurrect", std::move(args), true);
  } else {
    for (const auto& f : files_)
      if (f.error.empty()) co_await start_from_file(result, f.path, std::nullopt);
  }
}

awaitable<void> pm2_subsystem::recover_apps(action_result& result) {
  auto now = fsm_clock::now();
  std::vector<std::string> names;
  for (const auto& [name, app] : expected_) names.push_back(name);
  // Apps PM2's dump remembers: a daemon that came back empty (a `pm2` command spawns a new one when the
  // old one was killed under it) gets them back from `pm2 resurrect`, even without an ecosystem file.
  const std::set<std::string> dumped = dumped_names();
  bool resurrected = false;
  for (const auto& name : names) {
    auto it = expected_.find(name);
    if (it == expected_.end()) continue;
    auto action = it->second.fsm.next_action(now);
    auto file = it->second.file;
    switch (action.kind) {
      case action_kind::none: {
        // Down but waiting out the backoff after a restart: something is due, at a known time.
        const auto& fsm = it->second.fsm;
        const bool waiting = fsm.state() == app_state::down || fsm.state() == app_state::overloaded;
        if (waiting && !fsm.given_up() && fsm.next_attempt_at() > now)
          result.retry_at = result.retry_at ? std::min(*result.retry_at, fsm.next_attempt_at()) : fsm.next_attempt_at();
        break;
      }
      case action_kind::warn:
        RLOG("pm2", warning) << name << ": " << action.reason;
        result.steps.push_back({.name = "warn " + name, .ok = true, .detail = action.reason});
        break;
      case action_kind::give_up:
        RLOG("pm2", error) << name << ": " << action.reason;
        result.steps.push_back({.name = "give up " + name, .ok = false, .detail = action.reason});
        break;
      case action_kind::restart: {
        std::vector<std::string> args{"restart", name};
        bool ok = co_await run_step(result, "pm2 restart " + name, std::move(args), true);
        // PM2 forgot it between the check and now: start it from its file instead.
        if (!ok && file) co_await start_from_file(result, *file, name);
        break;
      }
      case action_kind::start_from_ecosystem:
        if (file) {
          co_await start_from_file(result, *file, name);
        } else if (dumped.contains(name)) {
          if (!resurrected) {
            resurrected = true;
            std::vector<std::string> args{"resurrect"};
            co_await run_step(result, "pm2 resurrect", std::move(args), true);
          }
        } else
          result.steps.push_back({.name = "start " + name,
                                  .ok = false,
                                  .detail = name + " is not known to PM2 and no ecosystem file defines it"});
        break;
    }
  }
}

awaitable<bool> pm2_subsystem::settle_daemon() {
  const auto until = std::chrono::steady_clock::now() + pm2_.timeout;
  bool waited = false;
  if (going_down_pid_ && pid_alive(going_down_pid_)) {
    RLOG("pm2", info) << "PM2 daemon (pid " << going_down_pid_ << ") is going down: waiting for it to be gone";
    while (pid_alive(going_down_pid_) && std::chrono::steady_clock::now() < until) co_await pause_for(daemon_poll);
    waited = true;
  }
  going_down_pid_ = 0;
  // Coming up: only after it was seen gone, so that a daemon that never answered is not waited for.
  for (bool told = false;; told = true) {
    auto probe = co_await probe_daemon();
    if (probe.answering) daemon_was_gone_ = false;
    const auto age = daemon_was_gone_ && probe.running && !probe.answering ? age_of(probe.pid) : std::nullopt;
    if (!age || *age > daemon_startup || std::chrono::steady_clock::now() >= until) break;
    if (!told) RLOG("pm2", info) << "PM2 daemon (pid " << probe.pid << ") is starting: waiting for its rpc.sock";
    waited = true;
    co_await pause_for(daemon_poll);
  }
  co_return waited;
}

awaitable<void> pm2_subsystem::save_started_apps(action_result& result) {
  // Saving writes PM2's whole list over the dump: an app the dump has and PM2 does not list now would be
  // lost to the next reboot. Then the dump is left to a person, whom the check warns.
  co_await check();
  if (state_ != pm2_state::ok) co_return;
  std::set<std::string> listed;
  for (const auto& e : list_) listed.insert(e.name);
  std::string dropped;
  for (const auto& name : dumped_names())
    if (!listed.contains(name)) dropped += (dropped.empty() ? "" : ", ") + name;
  if (!dropped.empty()) {
    RLOG("pm2", warning) << "not saving PM2's list: dump.pm2 has " << dropped << ", which PM2 does not list now";
    co_return;
  }
  std::vector<std::string> args{"save"};
  co_await run_step(result, "pm2 save", std::move(args), true);
}

awaitable<bool> pm2_subsystem::repair(action_result& result) {
  switch (state_) {
    case pm2_state::unchecked:
    case pm2_state::not_installed:
    case pm2_state::bad_output:
      if (result.steps.empty()) result.summary = "nothing to do while " + last_.summary;
      co_return false;
    case pm2_state::not_answering:
      if (!pm2_.daemon_restart_command) {
        if (result.steps.empty())
          result.summary = "PM2 daemon not answering and no pm2.daemon_restart_command: use the emergency restart";
        co_return false;
      }
      co_await recover_daemon(result);
      co_await check();
      break;
    case pm2_state::daemon_down:
      co_await recover_daemon(result);
      // Then the expected apps: whatever the daemon did not bring back is started below.
      co_await check();
      break;
    case pm2_state::ok:
      break;
  }
  if (state_ == pm2_state::ok) co_await recover_apps(result);
  co_return true;
}

awaitable<action_result> pm2_subsystem::recover(const health& last) {
  action_result result;
  // Nothing is repaired while PM2's daemon is going down or coming up: then one check says what is left.
  const bool waited = co_await settle_daemon();
  if (waited || state_ == pm2_state::unchecked || last.checked_at > last_.checked_at) co_await check();
  started_from_file_ = false;
  for (int round = 0; round < 2; ++round) {
    daemon_died_ = false;
    if (!co_await repair(result) && result.steps.empty()) co_return result;
    // The daemon died under a step: once more against what follows it (a new daemon, or none).
    if (!daemon_died_) break;
    co_await settle_daemon();
    co_await check();
  }
  if (started_from_file_ && pm2_.save_after_recovery) co_await save_started_apps(result);
  if (!oversized_logs_.empty()) {
    auto rotated = co_await rotate_logs();
    result.steps.insert(result.steps.end(), rotated.steps.begin(), rotated.steps.end());
  }
  result.ok = std::all_of(result.steps.begin(), result.steps.end(), [](const auto& s) { return s.ok; });
  if (result.steps.empty() && state_ == pm2_state::ok && result.retry_at) {
    const auto wait = std::chrono::ceil<std::chrono::seconds>(*result.retry_at - fsm_clock::now());
    result.summary = "nothing due yet: the next restart in " + std::to_string(std::max<long>(wait.count(), 0)) + " s";
    result.ok = true;
  } else if (result.steps.empty()) {
    result.summary = state_ == pm2_state::ok ? "nothing to do now" : "PM2 still unusable: " + last_.summary;
    result.ok = state_ == pm2_state::ok;
  } else {
    unsigned failed = 0;
    for (const auto& s : result.steps) failed += s.ok ? 0 : 1;
    result.summary = std::to_string(result.steps.size()) + " steps, " + std::to_string(failed) + " failed";
  }
  co_return result;
}

awaitable<action_result> pm2_subsystem::emergency() {
  action_result result;
  files_ = co_await ecosystems_.refresh(ecosystem_paths());
  auto probe = co_await probe_daemon();
  if (probe.running) {
    std::vector<std::string> args{"kill"};
    co_await run_step(result, "pm2 kill", std::move(args), true);
    // pm2 kill returns before the daemon is gone; give it a moment so the next start gets a fresh one.
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 50 && pid_alive(probe.pid); ++i) {
      asio::steady_timer t(ex, std::chrono::milliseconds(100));
      co_await t.async_wait(asio::use_awaitable);
    }
  }
  for (const auto& f : files_)
    if (f.error.empty() && f.mtime) co_await start_from_file(result, f.path, std::nullopt);
  // Apps outside the ecosystem files come back from the dump (resurrect skips names already running).
  if (dump_has_apps()) {
    std::vector<std::string> args{"resurrect"};
    co_await run_step(result, "pm2 resurrect", std::move(args), true);
  }
  auto h = co_await check();
  result.ok = std::all_of(result.steps.begin(), result.steps.end(), [](const auto& s) { return s.ok; }) &&
              h.state != status::unhealthy && !result.steps.empty();
  result.summary = "emergency restart: " + h.summary;
  co_return result;
}

boost::system::result<subsystem::manual_work, std::string> pm2_subsystem::manual(std::string_view verb,
                                                                                 const boost::json::object& args) {
  if (verb != "restart") return subsystem::manual(verb, args);
  const auto it = args.find("app");
  if (it == args.end() || it->value().is_null()) return manual_work([this]() { return emergency(); });
  if (!it->value().is_string() || it->value().as_string().empty())
    return std::string("app: expected the name of a PM2 app");
  std::string app(it->value().as_string());
  return manual_work([this, app]() { return restart_app(app); });
}

awaitable<action_result> pm2_subsystem::restart_app(std::string name) {
  action_result result;
  if (state_ == pm2_state::unchecked) co_await check();
  bool listed = std::any_of(list_.begin(), list_.end(), [&](const auto& e) { return e.name == name; });
  auto file = file_of(name);
  if (!listed && !expected_.count(name)) {
    result.summary = "unknown app " + name + ": neither expected nor known to PM2";
    co_return result;
  }
  if (auto it = expected_.find(name); it != expected_.end()) it->second.fsm.manual_restart();
  co_await settle_daemon();
  auto probe = co_await probe_daemon();
  if (!probe.running) {
    result.summary = "PM2 daemon is not running: use the emergency restart";
    co_return result;
  }
  if (listed) {
    std::vector<std::string> args{"restart", name};
    bool ok = co_await run_step(result, "pm2 restart " + name, std::move(args), true);
    if (!ok && file) co_await start_from_file(result, *file, name);
  } else if (file) {
    co_await start_from_file(result, *file, name);
  } else {
    result.steps.push_back({.name = "start " + name,
                            .ok = false,
                            .detail = name + " is not known to PM2 and no ecosystem file defines it"});
  }
  co_await check();
  result.ok = !result.steps.empty() && result.steps.back().ok;
  result.summary = (result.ok ? "restarted " : "could not restart ") + name;
  co_return result;
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
