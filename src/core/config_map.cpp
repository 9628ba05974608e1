// The config mapper: walks the JSON tree into the typed structs, tracking the JSON path so that every
// error names it (`pm2.interval: expected a duration like "30s", got "fast"`).
#include "config_internal.hpp"
#include "redundancy/core/duration.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <type_traits>

namespace redundancy::config_detail {
namespace {

namespace json = boost::json;

// How a value looks in a message: its JSON text, shortened; for secrets only its kind.
std::string describe(const json::value& v, bool secret = false) {
  if (secret) {
    switch (v.kind()) {
      case json::kind::string: return "a string";
      case json::kind::array: return "an array";
      case json::kind::object: return "an object";
      case json::kind::null: return "null";
      case json::kind::bool_: return "a boolean";
      default: return "a number";
    }
  }
  std::string text = json::serialize(v);
  if (text.size() > 60) {
    text.resize(57);
    text.append("...");
  }
  return text;
}

// Edit distance, for "did you mean" on unknown keys.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool is_http_url(std::string_view s) {
  const auto rest = s.starts_with("https://") ? s.substr(8) : s.starts_with("http://") ? s.substr(7) : "";
  return !rest.empty() && rest.front() != '/';
}

// Collects errors, each with its path and, when an environment variable set the value, its name.
class mapper {
 public:
  mapper(const override_origins& origins, error_list& errors) : origins_(origins), errors_(errors) {}

  void fail(const std::string& path, const std::string& message) {
    std::string line = path.empty() ? message : path + ": " + message;
    for (const auto& [overridden, variable] : origins_) {
      const bool covers = path == overridden ||
                          (path.starts_with(overridden) &&
                           (path[overridden.size()] == '.' || path[overridden.size()] == '['));
      if (covers) line += " (set by " + variable + ")";
    }
    errors_.push_back(std::move(line));
  }

 private:
  const override_origins& origins_;
  error_list& errors_;
};

// Reads one JSON object: each typed accessor records its key as known, reads the value when
// present, and checks it; unknown keys are reported by finish().
class section {
 public:
  section(mapper& m, const json::object& object, std::string path)
      : m_(m), object_(object), path_(std::move(path)) {}

  std::string child(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  mapper& errors() { return m_; }

  // The value of key, or nullptr when absent; marks key as known.
  const json::value* field(std::string_view key) {
    known_.emplace_back(key);
    return object_.if_contains(key);
  }

  void finish() {
    for (const auto& entry : object_) {
      const std::string_view key = entry.key();
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      std::string message = "unknown key";
      for (const auto& candidate : known_)
        if (distance(key, candidate) <= 2) {
          message += " (did you mean \"" + candidate + "\"?)";
          break;
        }
      m_.fail(child(key), message);
    }
  }

 private:
  mapper& m_;
  const json::object& object_;
  std::string path_;
  std::vector<std::string> known_;
};

// Maps the object at v with fill(section&); a non-object is a type error.
void map_object(mapper& m, const json::value& v, const std::string& path,
                const std::function<void(section&)>& fill) {
  if (!v.is_object()) {
    m.fail(path, "expected an object, got " + describe(v));
    return;
  }
  section s{m, v.get_object(), path};
  fill(s);
  s.finish();
}

// Value readers: each checks one value at path and stores it in out only when it is valid.

// The type check every string-valued reader starts with, so wrong types read the same everywhere.
bool is_string(mapper& m, const json::value& v, const std::string& path, bool secret = false) {
  if (v.is_string()) return true;
  m.fail(path, "expected a string, got " + describe(v, secret));
  return false;
}
template <class T>
using reader = std::function<bool(mapper&, const json::value&, const std::string&, T&)>;

bool read_bool(mapper& m, const json::value& v, const std::string& path, bool& out) {
  if (!v.is_bool()) {
    m.fail(path, "expected true or false, got " + describe(v));
    return false;
  }
  out = v.get_bool();
  return true;
}

bool read_string(mapper& m, const json::value& v, const std::string& path, std::string& out) {
  if (!is_string(m, v, path)) return false;
  if (v.get_string().empty()) {
    m.fail(path, "expected a non-empty string, got \"\"");
    return false;
  }
  out = std::string(v.get_string());
  return true;
}

bool read_path(mapper& m, const json::value& v, const std::string& path, std::filesystem::path& out) {
  std::string text;
  if (!read_string(m, v, path, text)) return false;
  out = text;
  return true;
}

// A whole number in [min, max].
template <class T>
reader<T> whole(std::uint64_t min, std::uint64_t max = std::numeric_limits<T>::max()) {
  return [min, max](mapper& m, const json::value& v, const std::string& path, T& out) {
    json::error_code ec;
    const auto n = v.is_number() ? v.to_number<std::uint64_t>(ec) : 0;
    if (!v.is_number() || ec || n < min || n > max) {
      const std::string range = max == std::numeric_limits<T>::max()
                                    ? ">= " + std::to_string(min)
                                    : "from " + std::to_string(min) + " to " + std::to_string(max);
      m.fail(path, "expected a whole number " + range + ", got " + describe(v));
      return false;
    }
    out = static_cast<T>(n);
    return true;
  };
}

bool read_percent(mapper& m, const json::value& v, const std::string& path, double& out) {
  json::error_code ec;
  const double n = v.is_number() ? v.to_number<double>(ec) : -1;
  if (!v.is_number() || ec || !(n >= 0 && n <= 100)) {
    m.fail(path, "expected a number from 0 to 100, got " + describe(v));
    return false;
  }
  out = n;
  return true;
}

// A duration string ("30s") or a plain number of seconds; zero only where allow_zero (delays, graces).
reader<milliseconds> duration(bool allow_zero = false) {
  return [allow_zero](mapper& m, const json::value& v, const std::string& path, milliseconds& out) {
    std::optional<milliseconds> d;
    if (v.is_string()) {
      d = parse_duration(v.get_string());
    } else if (v.is_number()) {
      json::error_code ec;
      const double ms = v.to_number<double>(ec) * 1000;
      // Whole milliseconds only, and below the range of milliseconds' int64.
      if (!ec && std::isfinite(ms) && ms >= 0 && ms < 9.2e18 && std::fabs(ms - std::round(ms)) < 1e-6)
        d = milliseconds{std::llround(ms)};
    }
    if (!d) {
      m.fail(path, "expected a duration like \"30s\", got " + describe(v));
      return false;
    }
    if (d->count() == 0 && !allow_zero) {
      m.fail(path, "expected a duration above zero, got " + describe(v));
      return false;
    }
    out = *d;
    return true;
  };
}

reader<std::string> one_of(std::initializer_list<std::string_view> choices) {
  std::vector<std::string> allowed(choices.begin(), choices.end());
  return [allowed](mapper& m, const json::value& v, const std::string& path, std::string& out) {
    if (!is_string(m, v, path)) return false;
    if (std::find(allowed.begin(), allowed.end(), v.get_string()) == allowed.end()) {
      std::string names;
      for (const auto& name : allowed) names += (names.empty() ? "\"" : ", \"") + name + "\"";
      m.fail(path, "expected one of " + names + ", got " + describe(v));
      return false;
    }
    out = std::string(v.get_string());
    return true;
  };
}

// An http(s) URL; a secret one is never echoed in the message.
reader<std::string> url(bool secret) {
  return [secret](mapper& m, const json::value& v, const std::string& path, std::string& out) {
    if (!is_string(m, v, path, secret)) return false;
    if (!is_http_url(v.get_string())) {
      m.fail(path, "expected an http:// or https:// URL, got " + describe(v, secret));
      return false;
    }
    out = std::string(v.get_string());
    return true;
  };
}

// "owner/name", as the GitHub API spells a repository.
bool read_repository(mapper& m, const json::value& v, const std::string& path, std::string& out) {
  if (!is_string(m, v, path)) return false;
  const std::string_view s = v.get_string();
  const auto slash = s.find('/');
  if (slash != std::string_view::npos && slash > 0 && slash + 1 < s.size() &&
      s.find('/', slash + 1) == std::string_view::npos && s.find_first_of(" \t") == std::string_view::npos) {
    out = std::string(s);
    return true;
  }
  m.fail(path, "expected \"owner/name\", got " + describe(v));
  return false;
}

// An environment variable's name.
bool read_env_name(mapper& m, const json::value& v, const std::string& path, std::string& out) {
  if (!is_string(m, v, path)) return false;
  const std::string_view s = v.get_string();
  const bool ok = !s.empty() && !(s[0] >= '0' && s[0] <= '9') && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (ok) {
    out = std::string(s);
    return true;
  }
  m.fail(path, "expected an environment variable name, got " + describe(v));
  return false;
}

// host:port, the host possibly a bracketed IPv6 address, the port 0-65535.
bool read_listen(mapper& m, const json::value& v, const std::string& path, std::string& out) {
  if (!is_string(m, v, path)) return false;
  const std::string_view s = v.get_string();
  const auto colon = s.rfind(':');
  if (colon != std::string_view::npos && colon > 0) {
    const auto host = s.substr(0, colon);
    const auto port = s.substr(colon + 1);
    const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
    const bool host_ok = bracketed || host.find_first_of(":[] /") == std::string_view::npos;
    const bool port_ok = !port.empty() && port.size() <= 5 &&
                         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                         std::stoul(std::string(port)) <= 65535;
    if (host_ok && port_ok) {
      out = std::string(s);
      return true;
    }
  }
  m.fail(path, "expected \"host:port\" with a port from 0 to 65535, got " + describe(v));
  return false;
}

// An array whose items item checks, each at path[i]; out changes only when every item is valid.
template <class T>
reader<std::vector<T>> array_of(reader<T> item) {
  return [item](mapper& m, const json::value& v, const std::string& path, std::vector<T>& out) {
    if (!v.is_array()) {
      m.fail(path, "expected an array, got " + describe(v));
      return false;
    }
    std::vector<T> items;
    bool ok = true;
    const auto& array = v.get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      T value{};
      ok = item(m, array[i], path + "[" + std::to_string(i) + "]", value) && ok;
      items.push_back(std::move(value));
    }
    if (ok) out = std::move(items);
    return ok;
  };
}

const reader<std::vector<std::string>> strings = array_of<std::string>(read_string);

// A command: a string (the program, one argv element) or a non-empty array of strings (an argv).
bool read_command(mapper& m, const json::value& v, const std::string& path, std::vector<std::string>& out) {
  if (v.is_string()) {
    std::string program;
    if (!read_string(m, v, path, program)) return false;
    out = {program};
    return true;
  }
  if (!v.is_array() || v.get_array().empty()) {
    m.fail(path, "expected a command: a string or a non-empty array of strings, got " + describe(v));
    return false;
  }
  return strings(m, v, path, out);
}

// An object of string values (netlify.probe_paths: function name -> path).
bool read_string_map(mapper& m, const json::value& v, const std::string& path, std::map<std::string, std::string>& out) {
  if (!v.is_object()) {
    m.fail(path, "expected an object of strings, got " + describe(v));
    return false;
  }
  std::map<std::string, std::string> values;
  bool ok = true;
  for (const auto& entry : v.get_object()) {
    std::string value;
    ok = read_string(m, entry.value(), path + "." + std::string(entry.key()), value) && ok;
    values.emplace(entry.key(), std::move(value));
  }
  if (ok) out = std::move(values);
  return ok;
}

// The nullable form of a reader: null clears out.
template <class T>
reader<std::optional<T>> nullable(reader<T> read) {
  return [read](mapper& m, const json::value& v, const std::string& path, std::optional<T>& out) {
    if (v.is_null()) {
      out.reset();
      return true;
    }
    T value{};
    if (!read(m, v, path, value)) return false;
    out = std::move(value);
    return true;
  };
}

// Reads key of s into out with read when the key is present.
template <class T>
void map_key(section& s, std::string_view key, T& out, const std::type_identity_t<reader<T>>& read) {
  if (const auto* v = s.field(key)) read(s.errors(), *v, s.child(key), out);
}

// Maps the object under key with fill when the key is present.
void map_section(section& s, std::string_view key, const std::function<void(section&)>& fill) {
  if (const auto* v = s.field(key)) map_object(s.errors(), *v, s.child(key), fill);
}

void map_log(section& s, log_config& c) {
  map_key(s, "level", c.level, one_of({"trace", "debug", "info", "warning", "error"}));
  map_key(s, "max_file_bytes", c.max_file_bytes, whole<std::uint64_t>(1));
  map_key(s, "max_files", c.max_files, whole<unsigned>(1));
}

void map_http(section& s, http_config& c) {
  map_key<std::string>(s, "listen", c.listen, read_listen);
  map_key(s, "token_file", c.token_file, nullable<std::filesystem::path>(read_path));
  map_key(s, "allowed_hosts", c.allowed_hosts, strings);
  map_key(s, "web_root", c.web_root, nullable<std::filesystem::path>(read_path));
}

void map_pm2(section& s, pm2_config& c) {
  map_key<bool>(s, "enabled", c.enabled, read_bool);
  map_key<std::vector<std::string>>(s, "command", c.command, read_command);
  map_key(s, "home", c.home, nullable<std::filesystem::path>(read_path));
  map_key(s, "interval", c.interval, duration());
  map_key(s, "timeout", c.timeout, duration());
  map_key(s, "max_restart_attempts", c.max_restart_attempts, whole<unsigned>(1));
  map_key(s, "restart_delay", c.restart_delay, duration(true));
  map_key<double>(s, "memory_threshold_pct", c.memory_threshold_pct, read_percent);
  map_key<double>(s, "cpu_threshold_pct", c.cpu_threshold_pct, read_percent);
  map_key(s, "cpu_action", c.cpu_action, one_of({"warn", "restart"}));
  map_key(s, "daemon_memory_max", c.daemon_memory_max, whole<std::uint64_t>(1));
  map_key(s, "daemon_restart_command", c.daemon_restart_command, nullable<std::vector<std::string>>(read_command));
  map_key(s, "log_max_bytes", c.log_max_bytes, whole<std::uint64_t>(1));
  map_key(s, "log_keep", c.log_keep, whole<unsigned>(1));
  map_key(s, "ecosystem_files", c.ecosystem_files, array_of<std::filesystem::path>(read_path));
  map_key(s, "processes", c.processes, strings);
}

void map_github(section& s, github_config& c) {
  map_key<bool>(s, "enabled", c.enabled, read_bool);
  map_key(s, "interval", c.interval, duration());
  map_key(s, "timeout", c.timeout, duration());
  map_key(s, "max_failures", c.max_failures, whole<unsigned>(1));
  map_key(s, "repository", c.repository, nullable<std::string>(read_repository));
  map_key(s, "api_url", c.api_url, url(false));
  map_key<std::string>(s, "token_env", c.token_env, read_env_name);
  map_key(s, "ca_file", c.ca_file, nullable<std::filesystem::path>(read_path));
  map_key<std::filesystem::path>(s, "workflows_dir", c.workflows_dir, read_path);
  map_key(s, "workflows", c.workflows, strings);
  map_key(s, "schedule_grace", c.schedule_grace, duration(true));
  map_key(s, "backup", c.backup, array_of<std::string>(one_of({"local", "dispatch"})));
  map_section(s, "local_execution", [&](section& sub) {
    map_key<bool>(sub, "enabled", c.local_execution.enabled, read_bool);
    map_key(sub, "timeout", c.local_execution.timeout, duration());
  });
  map_section(s, "dispatch", [&](section& sub) {
    map_key<bool>(sub, "enabled", c.dispatch.enabled, read_bool);
    map_key(sub, "ref", c.dispatch.ref, nullable<std::string>(read_string));
    map_key(sub, "event_type", c.dispatch.event_type, nullable<std::string>(read_string));
  });
}

void map_netlify(section& s, netlify_config& c) {
  map_key<bool>(s, "enabled", c.enabled, read_bool);
  map_key(s, "interval", c.interval, duration());
  map_key(s, "timeout", c.timeout, duration());
  map_key(s, "max_failures", c.max_failures, whole<unsigned>(1));
  map_key<std::filesystem::path>(s, "functions_dir", c.functions_dir, read_path);
  map_key<std::filesystem::path>(s, "manifest", c.manifest, read_path);
  map_key(s, "site_url", c.site_url, nullable<std::string>(url(false)));
  map_key<std::map<std::string, std::string>>(s, "probe_paths", c.probe_paths, read_string_map);
  map_key(s, "local_invoke", c.local_invoke, strings);
  map_key(s, "typescript_check", c.typescript_check, nullable<std::vector<std::string>>(read_command));
  map_key<bool>(s, "auto_deploy", c.auto_deploy, read_bool);
  map_key(s, "deploy_timeout", c.deploy_timeout, duration());
  map_key(s, "min_deploy_interval", c.min_deploy_interval, duration(true));
  map_key<std::vector<std::string>>(s, "deploy_command", c.deploy_command, read_command);
  map_key(s, "build_hook_url", c.build_hook_url, nullable<std::string>(url(true)));
}

void map_orchestrator(section& s, orchestrator_config& c) {
  map_key(s, "interval", c.interval, duration());
  map_key(s, "report_interval", c.report_interval, duration());
  map_key<bool>(s, "auto_recovery", c.auto_recovery, read_bool);
  map_key(s, "max_recovery_attempts", c.max_recovery_attempts, whole<unsigned>(1));
  // One per subsystem at most: the count of unhealthy subsystems that starts emergency mode.
  map_key(s, "emergency_threshold", c.emergency_threshold, whole<unsigned>(1, 3));
  map_key(s, "attempt_reset", c.attempt_reset, duration());
  map_key(s, "retention", c.retention, duration());
}

void map_notify(section& s, notify_config& c) {
  map_key(s, "webhooks", c.webhooks, array_of<std::string>(url(true)));
  map_key(s, "repeat_every", c.repeat_every, duration());
}

}  // namespace

void map_config(const json::object& root, const override_origins& origins, config& c, error_list& errors) {
  mapper m{origins, errors};
  section s{m, root, ""};
  map_key<std::filesystem::path>(s, "project_dir", c.project_dir, read_path);
  map_key<std::filesystem::path>(s, "state_dir", c.state_dir, read_path);
  map_key<std::filesystem::path>(s, "log_dir", c.log_dir, read_path);
  map_section(s, "log", [&](section& sub) { map_log(sub, c.log); });
  map_section(s, "http", [&](section& sub) { map_http(sub, c.http); });
  map_section(s, "pm2", [&](section& sub) { map_pm2(sub, c.pm2); });
  map_section(s, "github", [&](section& sub) { map_github(sub, c.github); });
  map_section(s, "netlify", [&](section& sub) { map_netlify(sub, c.netlify); });
  map_section(s, "orchestrator", [&](section& sub) { map_orchestrator(sub, c.orchestrator); });
  map_section(s, "notify", [&](section& sub) { map_notify(sub, c.notify); });
  s.finish();
}

}  // namespace redundancy::config_detail
