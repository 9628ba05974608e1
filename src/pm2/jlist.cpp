// Parses `pm2 jlist` into app entries, skipping every app's environment.
#include "redundancy/pm2/jlist.hpp"

#include "redundancy/pm2/json_mapper.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>

#include <string.h>

#include <algorithm>
#include <array>
#include <limits>
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
  // memrchr, not rfind: string_view's reverse search is a byte loop, and the line is megabytes long.
  const auto* nl = static_cast<const char*>(::memrchr(text.data(), '\n', text.size()));
  return nl ? text.substr(static_cast<std::size_t>(nl - text.data()) + 1) : text;
}

std::string element_path(std::size_t index) { return "[" + std::to_string(index) + "]"; }

std::optional<std::string> read_entry(const boost::json::object& entry, std::size_t index, app_entry& app) {
  json_mapper top(entry, element_path(index));
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

// The fields read_entry reads, by where they sit: PM2 repeats every app's whole environment inside
// pm2_env (a 1,000-app list is about 6 MB), and only these few values are kept.
constexpr std::array<std::string_view, 5> app_fields{"name", "pid", "pm_id", "monit", "pm2_env"};
constexpr std::array<std::string_view, 2> monit_fields{"cpu", "memory"};
constexpr std::array<std::string_view, 11> env_fields{"status",
                                                      "restart_time",
                                                      "unstable_restarts",
                                                      "pm_uptime",
                                                      "pm_out_log_path",
                                                      "pm_err_log_path",
                                                      "max_memory_restart",
                                                      "exec_mode",
                                                      "instances",
                                                      "pmx_module",
                                                      "pm_id"};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& names, std::string_view key) {
  return std::find(names.begin(), names.end(), key) != names.end();
}

// A boost::json::basic_parser handler that builds, for each app, a small object holding only the fields
// above (the same values at the same paths, the last of a repeated key winning as in a full parse), then
// reads it with read_entry, so the typed reads and their error messages are those of parse_app_list. The
// environment is never copied: its strings and keys are passed over as the parser reads them.
class app_list_handler {
 public:
  static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();

  // The apps, or the first error of the list's content (reported only if the text is valid JSON).
  std::vector<app_entry> apps{};
  std::optional<std::string> error{};

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return begin_container(boost::json::array{}); }
  bool on_array_end(std::size_t, boost::system::error_code&) { return end_container(); }
  bool on_object_begin(boost::system::error_code&) { return begin_container(boost::json::object{}); }
  bool on_object_end(std::size_t, boost::system::error_code&) { return end_container(); }
  bool on_string_part(std::string_view s, std::size_t, boost::system::error_code&) {
    if (wanted_) text_ += s;
    return true;
  }
  bool on_string(std::string_view s, std::size_t, boost::system::error_code&) {
    if (!wanted_) return scalar(nullptr);
    text_ += s;
    boost::json::value v(text_);
    text_.clear();
    return scalar(&v);
  }
  bool on_key_part(std::string_view s, std::size_t, boost::system::error_code&) {
    if (keyed()) key_ += s;
    return true;
  }
  // Decides once per key whether its value is kept; the key is copied only then (or when it came in parts).
  bool on_key(std::string_view s, std::size_t, boost::system::error_code&) {
    if (!keyed()) return true;
    if (!key_.empty()) {
      key_ += s;
      s = key_;
    }
    wanted_ = listed_here(s);
    if (wanted_ && key_.empty()) key_ = s;
    return true;
  }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t i, std::string_view, boost::system::error_code&) { return value(i); }
  bool on_uint64(std::uint64_t u, std::string_view, boost::system::error_code&) { return value(u); }
  bool on_double(double d, std::string_view, boost::system::error_code&) { return value(d); }
  bool on_bool(bool b, boost::system::error_code&) { return value(b); }
  bool on_null(boost::system::error_code&) { return value(nullptr); }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }

  bool top_is_array() const { return top_is_array_; }

 private:
  // Depths: 1 inside the list, 2 inside an app, 3 inside the app's monit or pm2_env.
  enum class section { none, monit, pm2_env };

  // Whether `key`, at the current depth, names one of the kept fields.
  bool listed_here(std::string_view key) const {
    if (depth_ == 2) return listed(app_fields, key);
    if (section_ == section::monit) return listed(monit_fields, key);
    return listed(env_fields, key);
  }
  // Whether the keys at the current depth matter: those of an app and of its monit and pm2_env.
  bool keyed() const { return in_app_ && (depth_ == 2 || (depth_ == 3 && section_ != section::none)); }

  boost::json::object& section_object() { return app_[section_ == section::monit ? "monit" : "pm2_env"].as_object(); }
  void keep(boost::json::value v) {
    if (depth_ == 2)
      app_[key_] = std::move(v);
    else
      section_object()[key_] = std::move(v);
  }

  // A number, bool or null.
  template <typename T>
  bool value(T x) {
    if (wanted_) {
      boost::json::value v(x);
      return scalar(&v);
    }
    return scalar(nullptr);
  }

  // A string, number, bool or null: kept when wanted (v holds it), then the element or key is done.
  bool scalar(boost::json::value* v) {
    if (depth_ == 1) {
      not_an_object();
      ++index_;
    }
    if (v) keep(std::move(*v));
    forget_key();
    return true;
  }

  bool begin_container(boost::json::value empty) {
    const bool is_object = empty.is_object();
    if (depth_ == 0) {
      top_is_array_ = !is_object;
    } else if (depth_ == 1) {
      if (is_object) {
        in_app_ = true;
        app_.clear();
      } else {
        not_an_object();
      }
    } else if (wanted_) {
      // A repeated monit or pm2_env starts afresh, as the later key replaces the earlier in a full parse.
      const bool opens_section = depth_ == 2 && is_object && (key_ == "monit" || key_ == "pm2_env");
      if (opens_section) section_ = key_ == "monit" ? section::monit : section::pm2_env;
      keep(std::move(empty));
    }
    forget_key();
    ++depth_;
    return true;
  }

  bool end_container() {
    --depth_;
    if (depth_ == 2) section_ = section::none;
    if (depth_ == 1 && in_app_) {
      in_app_ = false;
      if (!error) {
        app_entry app;
        if (auto problem = read_entry(app_, index_, app))
          error = std::move(problem);
        else
          apps.push_back(std::move(app));
      }
    }
    if (depth_ == 1) ++index_;
    return true;
  }

  void forget_key() {
    key_.clear();
    wanted_ = false;
  }

  void not_an_object() {
    if (!error) error = element_path(index_) + ": expected an object";
  }

  std::size_t depth_{0};
  std::size_t index_{0};
  bool top_is_array_{false};
  bool in_app_{false};
  section section_{section::none};
  boost::json::object app_{};
  std::string key_{};   // the current key, when its value is kept or it came in parts
  bool wanted_{false};  // the value after the current key is kept
  std::string text_{};
};

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
  // A streaming parse: the same result as parse_app_list on the parsed line, without building the tree
  // of every app's environment (which made a 1,000-app check cost 10 times the goal).
  boost::json::basic_parser<app_list_handler> parser{boost::json::parse_options{}};
  boost::system::error_code ec;
  const auto used = parser.write_some(false, line.data(), line.size(), ec);
  if (!ec && used < line.size()) ec = boost::json::error::extra_data;
  if (ec) return "pm2 jlist output is not JSON (" + ec.message() + ")";
  auto& handler = parser.handler();
  if (!handler.top_is_array()) return std::string("pm2 jlist output: expected an array");
  if (handler.error) return std::move(*handler.error);
  return std::move(handler.apps);
}

boost::system::result<std::vector<app_entry>, std::string> parse_app_list(const boost::json::value& doc,
                                                                          std::string_view what) {
  if (!doc.is_array()) return std::string(what) + ": expected an array";
  std::vector<app_entry> apps;
  apps.reserve(doc.get_array().size());
  for (std::size_t i = 0; i < doc.get_array().size(); ++i) {
    const auto& entry = doc.get_array()[i];
    if (!entry.is_object()) return element_path(i) + ": expected an object";
    app_entry app;
    if (auto error = read_entry(entry.get_object(), i, app)) return std::move(*error);
    apps.push_back(std::move(app));
  }
  return apps;
}

}  // namespace redundancy::pm2
