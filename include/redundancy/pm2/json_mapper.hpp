// A small reader of untrusted JSON objects into typed fields that remembers the path of the first
// wrong field (`[3].pm2_env.status: expected a string`), since Boost.JSON's conversions give only a code.
#pragma once
#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::pm2 {

class json_mapper {
 public:
  // Reads fields of `object` (which must outlive the mapper); `path` prefixes error messages.
  json_mapper(const boost::json::object& object, std::string path) : object_(&object), path_(std::move(path)) {}

  // Each reader leaves `out` untouched when the key is missing or null, and records an error (the first
  // one only) when the value has the wrong type. They return *this so reads can be chained.
  json_mapper& read(std::string_view key, std::string& out);
  json_mapper& read(std::string_view key, bool& out);
  json_mapper& read(std::string_view key, double& out);
  json_mapper& read(std::string_view key, int& out);
  json_mapper& read(std::string_view key, unsigned& out);
  json_mapper& read(std::string_view key, std::uint64_t& out);
  json_mapper& read(std::string_view key, std::optional<std::int64_t>& out);
  json_mapper& read(std::string_view key, std::optional<std::uint64_t>& out);
  json_mapper& read(std::string_view key, std::optional<std::string>& out);
  // Strings, or numbers and booleans written as text (PM2 args may be either); a single string becomes one element.
  json_mapper& read(std::string_view key, std::vector<std::string>& out);

  // A nested object: nullopt when missing or null (an error when present with another type).
  std::optional<json_mapper> child(std::string_view key);

  // Records an error for `key` when it is missing or null.
  json_mapper& require(std::string_view key);

  // Records an error of the caller's own making at `key`.
  void fail(std::string_view key, std::string_view what);

  // The first error, "" when none; children report theirs into the same place through ok()/error().
  const std::string& error() const { return *error_; }
  bool ok() const { return error_->empty(); }
  std::string path_of(std::string_view key) const;

 private:
  json_mapper(const boost::json::object& object, std::string path, std::shared_ptr<std::string> error)
      : object_(&object), path_(std::move(path)), error_(std::move(error)) {}
  const boost::json::value* find(std::string_view key) const;

  const boost::json::object* object_;
  std::string path_;
  std::shared_ptr<std::string> error_{std::make_shared<std::string>()};
};

}  // namespace redundancy::pm2
