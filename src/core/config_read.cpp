// The config mapper's machinery: error collection with paths, unknown keys, and the value readers.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>

#include "config_mapper.hpp"
#include "redundancy/core/duration.hpp"
#include "redundancy/core/host_port.hpp"

namespace redundancy::config_detail {
namespace {

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

}  // namespace

void mapper::fail(const std::string& path, const std::string& message) {
  std::string line = path.empty() ? message : path + ": " + message;
  for (const auto& [overridden, variable] : origins_) {
    const bool covers = path == overridden || (path.starts_with(overridden) &&
                                               (path[overridden.size()] == '.' || path[overridden.size()] == '['));
    if (covers) line += " (set by " + variable + ")";
  }
  errors_.push_back(std::move(line));
}

void section::finish() {
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

std::string describe(const json::value& v, bool secret) {
  if (secret) {
    switch (v.kind()) {
      case json::kind::string:
        return "a string";
      case json::kind::array:
        return "an array";
      case json::kind::object:
        return "an object";
      case json::kind::null:
        return "null";
      case json::kind::bool_:
        return "a boolean";
      default:
        return "a number";
    }
  }
  std::string text = json::serialize(v);
  if (text.size() > 60) {
    text.resize(57);
    text.append("...");
  }
  return text;
}

void map_object(mapper& m, const json::value& v, const std::string& path, const std::function<void(section&)>& fill) {
  if (!v.is_object()) {
    m.fail(path, "expected an object, got " + describe(v));
    return;
  }
  section s{m, v.get_object(), path};
  fill(s);
  s.finish();
}

bool is_string(mapper& m, const json::value& v, const std::string& path, bool secret) {
  if (v.is_string()) return true;
  m.fail(path, "expected a string, got " + describe(v, secret));
  return false;
}

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

bool read_percent(mapper& m, const json::value& v, const std::string& path, double& out) {
  json::error_code ec;
  const double n = v.is_number() ? v.to_number<double>(ec) : -1;
  // 0 (or a fraction of a percent) calls every app over its threshold, healthy or not.
  if (!v.is_number() || ec || !(n >= 1 && n <= 100)) {
    m.fail(path, "expected a number from 1 to 100, got " + describe(v));
    return false;
  }
  out = n;
  return true;
}

reader<milliseconds> duration(milliseconds max, bool allow_zero) {
  return [max, allow_zero](mapper& m, const json::value& v, const std::string& path, milliseconds& out) {
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
    // The ceiling keeps every deadline made from it inside the clocks' range, and a value far past
    // what the key means ("200000d" for a check interval) is a mistake, not a wish.
    if (*d > max) {
      m.fail(path, "expected a duration of at most " + format_duration(max) + ", got " + describe(v));
      return false;
    }
    out = *d;
    return true;
  };
}

reader<std::string> one_of(std::initializer_list<std::string_view> choices) {
  return one_of_list(std::vector<std::string>(choices.begin(), choices.end()));
}

bool secret_string(mapper& m, const json::value& v, const std::string& path, std::string& out) {
  if (!is_string(m, v, path, true)) return false;
  if (v.get_string().empty()) {
    m.fail(path, "expected a non-empty string, got \"\"");
    return false;
  }
  out = std::string(v.get_string());
  return true;
}

bool secret_string_map(mapper& m, const json::value& v, const std::string& path,
                       std::map<std::string, std::string>& out) {
  if (!v.is_object()) {
    m.fail(path, "expected an object of strings, got " + describe(v, true));
    return false;
  }
  std::map<std::string, std::string> values;
  bool ok = true;
  for (const auto& entry : v.get_object()) {
    std::string value;
    ok = secret_string(m, entry.value(), path + "." + std::string(entry.key()), value) && ok;
    values.emplace(entry.key(), std::move(value));
  }
  if (ok) out = std::move(values);
  return ok;
}

reader<std::string> one_of_list(const std::vector<std::string>& allowed) {
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

bool read_listen(mapper& m, const json::value& v, const std::string& path, std::string& out) {
  if (!is_string(m, v, path)) return false;
  const std::string_view s = v.get_string();
  // Only a bracketed "[v6]" host may hold colons.
  if (const auto split = split_host_port(s);
      split && !split->host.empty() &&
      (split->bracketed || split->host.find_first_of(":[] /") == std::string_view::npos)) {
    out = std::string(s);
    return true;
  }
  m.fail(path, "expected \"host:port\" with a port from 0 to 65535, got " + describe(v));
  return false;
}

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

bool read_string_map(mapper& m, const json::value& v, const std::string& path,
                     std::map<std::string, std::string>& out) {
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

void map_section(section& s, std::string_view key, const std::function<void(section&)>& fill) {
  if (const auto* v = s.field(key)) map_object(s.errors(), *v, s.child(key), fill);
}

const reader<std::vector<std::string>> strings = array_of<std::string>(read_string);

}  // namespace redundancy::config_detail
