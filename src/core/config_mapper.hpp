// Internal to the config loader: a JSON mapper that tracks the path of each value so that every
// error names it, and the readers that check one value each.
#pragma once
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <initializer_list>
#include <limits>
#include <type_traits>

#include "config_internal.hpp"

namespace redundancy::config_detail {

namespace json = boost::json;

// Collects errors, each with its path and, when an environment variable set the value, its name.
class mapper {
 public:
  mapper(const override_origins& origins, error_list& errors) : origins_(origins), errors_(errors) {}

  // Records message for path, naming the variable when an override set the value.
  void fail(const std::string& path, const std::string& message);
  // How many errors so far: a reader of a compound value compares before and after.
  std::size_t count() const { return errors_.size(); }

 private:
  const override_origins& origins_;
  error_list& errors_;
};

// Reads one JSON object: each typed accessor records its key as known, reads the value when
// present, and checks it; unknown keys are reported by finish().
class section {
 public:
  section(mapper& m, const json::object& object, std::string path) : m_(m), object_(object), path_(std::move(path)) {}

  std::string child(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  mapper& errors() { return m_; }

  // The value of key, or nullptr when absent; marks key as known.
  const json::value* field(std::string_view key) {
    known_.emplace_back(key);
    return object_.if_contains(key);
  }

  // Reports every key of the object that no accessor asked for.
  void finish();

 private:
  mapper& m_;
  const json::object& object_;
  std::string path_;
  std::vector<std::string> known_;
};

// Value readers: each checks one value at path and stores it in out only when it is valid.
template <class T>
using reader = std::function<bool(mapper&, const json::value&, const std::string&, T&)>;

// How a value looks in a message: its JSON text, shortened; for secrets only its kind.
std::string describe(const json::value& v, bool secret = false);

// Maps the object at v with fill(section&); a non-object is a type error.
void map_object(mapper& m, const json::value& v, const std::string& path, const std::function<void(section&)>& fill);

// The type check every string-valued reader starts with, so wrong types read the same everywhere.
bool is_string(mapper& m, const json::value& v, const std::string& path, bool secret = false);

// true or false.
bool read_bool(mapper& m, const json::value& v, const std::string& path, bool& out);

// A non-empty string.
bool read_string(mapper& m, const json::value& v, const std::string& path, std::string& out);

// A path: a non-empty string, resolved later against project_dir.
bool read_path(mapper& m, const json::value& v, const std::string& path, std::filesystem::path& out);

// A percentage from 1 to 100.
bool read_percent(mapper& m, const json::value& v, const std::string& path, double& out);

// A duration string ("30s") or a plain number of seconds, at most max; zero only where allow_zero
// (delays, graces).
reader<milliseconds> duration(milliseconds max, bool allow_zero = false);

// One of the names in choices.
reader<std::string> one_of(std::initializer_list<std::string_view> choices);

// One of the names in choices, given as a list.
reader<std::string> one_of_list(const std::vector<std::string>& choices);

// A non-empty string that is a secret: never echoed in a message.
bool secret_string(mapper& m, const json::value& v, const std::string& path, std::string& out);

// An object of non-empty string values that are secrets (webhook headers).
bool secret_string_map(mapper& m, const json::value& v, const std::string& path,
                       std::map<std::string, std::string>& out);

// An http(s) URL; a secret one is never echoed in the message.
reader<std::string> url(bool secret);

// "owner/name", as the GitHub API spells a repository.
bool read_repository(mapper& m, const json::value& v, const std::string& path, std::string& out);

// An environment variable's name.
bool read_env_name(mapper& m, const json::value& v, const std::string& path, std::string& out);

// host:port, the host possibly a bracketed IPv6 address, the port 0-65535.
bool read_listen(mapper& m, const json::value& v, const std::string& path, std::string& out);

// A command: a string (the program, one argv element) or a non-empty array of strings (an argv).
bool read_command(mapper& m, const json::value& v, const std::string& path, std::vector<std::string>& out);

// An object of string values (netlify.probe_paths: function name -> path).
bool read_string_map(mapper& m, const json::value& v, const std::string& path, std::map<std::string, std::string>& out);

// Maps the object under key with fill when the key is present.
void map_section(section& s, std::string_view key, const std::function<void(section&)>& fill);

// An array of non-empty strings.
extern const reader<std::vector<std::string>> strings;

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

// read, for an array or object of at most max items (what: their name in the message); a longer
// one is refused before any item is read.
template <class T>
reader<T> at_most(std::size_t max, std::string what, reader<T> read) {
  return [max, what, read](mapper& m, const json::value& v, const std::string& path, T& out) {
    const std::size_t size = v.is_array() ? v.get_array().size() : v.is_object() ? v.get_object().size() : 0;
    if (size > max) {
      m.fail(path, "expected at most " + std::to_string(max) + " " + what + ", got " + std::to_string(size));
      return false;
    }
    return read(m, v, path, out);
  };
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

}  // namespace redundancy::config_detail
