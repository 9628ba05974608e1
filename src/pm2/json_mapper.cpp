// Typed reads of untrusted JSON objects with the path of the first wrong field.
#include "redundancy/pm2/json_mapper.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>
#include <limits>

namespace redundancy::pm2 {
namespace {

// A JSON number as a double (PM2 writes JavaScript numbers: integers may come as 1.5e12 or 12.0).
std::optional<double> as_double(const boost::json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

template <typename Int>
std::optional<Int> as_integer(const boost::json::value& v) {
  if (v.is_int64()) {
    auto x = v.get_int64();
    if (x < static_cast<std::int64_t>(std::numeric_limits<Int>::min())) return std::nullopt;
    if constexpr (sizeof(Int) < sizeof(std::int64_t) || std::is_signed_v<Int>)
      if (x > static_cast<std::int64_t>(std::numeric_limits<Int>::max())) return std::nullopt;
    return static_cast<Int>(x);
  }
  if (v.is_uint64()) {
    auto x = v.get_uint64();
    if (x > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) return std::nullopt;
    return static_cast<Int>(x);
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (!std::isfinite(d) || d != std::floor(d)) return std::nullopt;
    if (d < static_cast<double>(std::numeric_limits<Int>::min()) ||
        d >= static_cast<double>(std::numeric_limits<Int>::max()))
      return std::nullopt;
    return static_cast<Int>(d);
  }
  return std::nullopt;
}

template <typename Int>
const char* integer_expectation() {
  return std::is_signed_v<Int> ? "expected an integer" : "expected a non-negative integer";
}

}  // namespace

std::string json_mapper::path_of(std::string_view key) const {
  std::string p = path_;
  if (!p.empty()) p += '.';
  p += key;
  return p;
}

void json_mapper::fail(std::string_view key, std::string_view what) {
  if (error_->empty()) *error_ = path_of(key) + ": " + std::string(what);
}

const boost::json::value* json_mapper::find(std::string_view key) const {
  auto it = object_->find(key);
  if (it == object_->end() || it->value().is_null()) return nullptr;
  return &it->value();
}

json_mapper& json_mapper::require(std::string_view key) {
  if (!find(key)) fail(key, "missing");
  return *this;
}

json_mapper& json_mapper::read(std::string_view key, std::string& out) {
  if (auto v = find(key)) {
    if (v->is_string())
      out = std::string(v->get_string());
    else
      fail(key, "expected a string");
  }
  return *this;
}

json_mapper& json_mapper::read(std::string_view key, std::optional<std::string>& out) {
  if (auto v = find(key)) {
    if (v->is_string())
      out = std::string(v->get_string());
    else
      fail(key, "expected a string");
  }
  return *this;
}

json_mapper& json_mapper::read(std::string_view key, bool& out) {
  if (auto v = find(key)) {
    if (v->is_bool())
      out = v->get_bool();
    else
      fail(key, "expected true or false");
  }
  return *this;
}

json_mapper& json_mapper::read(std::string_view key, double& out) {
  if (auto v = find(key)) {
    if (auto d = as_double(*v))
      out = *d;
    else
      fail(key, "expected a number");
  }
  return *this;
}

#define REDUNDANCY_PM2_READ_INT(Type)                               \
  json_mapper& json_mapper::read(std::string_view key, Type& out) { \
    if (auto v = find(key)) {                                       \
      if (auto x = as_integer<Type>(*v))                            \
        out = *x;                                                   \
      else                                                          \
        fail(key, integer_expectation<Type>());                     \
    }                                                               \
    return *this;                                                   \
  }
REDUNDANCY_PM2_READ_INT(int)
REDUNDANCY_PM2_READ_INT(unsigned)
REDUNDANCY_PM2_READ_INT(std::uint64_t)
#undef REDUNDANCY_PM2_READ_INT

json_mapper& json_mapper::read(std::string_view key, std::optional<std::int64_t>& out) {
  if (auto v = find(key)) {
    if (auto x = as_integer<std::int64_t>(*v))
      out = *x;
    else
      fail(key, "expected an integer");
  }
  return *this;
}

json_mapper& json_mapper::read(std::string_view key, std::optional<std::uint64_t>& out) {
  if (auto v = find(key)) {
    if (auto x = as_integer<std::uint64_t>(*v))
      out = *x;
    else
      fail(key, "expected a non-negative integer");
  }
  return *this;
}

json_mapper& json_mapper::read(std::string_view key, std::vector<std::string>& out) {
  auto v = find(key);
  if (!v) return *this;
  auto scalar = [](const boost::json::value& x) -> std::optional<std::string> {
    if (x.is_string()) return std::string(x.get_string());
    if (x.is_number() || x.is_bool()) return boost::json::serialize(x);
    return std::nullopt;
  };
  if (auto s = scalar(*v)) {
    out = {*s};
    return *this;
  }
  if (!v->is_array()) {
    fail(key, "expected a string or an array of strings");
    return *this;
  }
  std::vector<std::string> items;
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    auto s = scalar(v->get_array()[i]);
    if (!s) {
      fail(std::string(key) + "[" + std::to_string(i) + "]", "expected a string");
      return *this;
    }
    items.push_back(std::move(*s));
  }
  out = std::move(items);
  return *this;
}

std::optional<json_mapper> json_mapper::child(std::string_view key) {
  auto v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) {
    fail(key, "expected an object");
    return std::nullopt;
  }
  return json_mapper(v->get_object(), path_of(key), error_);
}

}  // namespace redundancy::pm2
