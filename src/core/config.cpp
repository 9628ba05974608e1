// Loading the config: finding the file, parsing its JSON, applying overrides, mapping, resolving
// paths.
#include <fcntl.h>
#include <unistd.h>

#include <boost/json/stream_parser.hpp>
#include <cerrno>
#include <system_error>

#include "config_internal.hpp"

namespace redundancy {
namespace {

namespace json = boost::json;
using config_detail::error_list;
namespace sys = boost::system;

// An error for any result<T, std::string>: T = std::string or path makes the plain conversion
// ambiguous.
struct failure {
  std::string message;
  template <class T>
  operator sys::result<T, std::string>() && {
    return sys::result<T, std::string>(sys::in_place_error, std::move(message));
  }
};

constexpr std::string_view defaults_source = "built-in defaults";

// Larger than any sane config: a guard against pointing --config at /dev/zero or a log file.
constexpr std::size_t max_file_size = 4 * 1024 * 1024;

// "source: message", built by appending: g++ 12 warns falsely (-Warray-bounds) on chained
// operator+.
std::string prefixed(std::string_view source, std::string_view message) {
  std::string out;
  out.reserve(source.size() + 2 + message.size());
  out.append(source).append(": ").append(message);
  return out;
}

// "line 3, column 7" of byte offset in text, both counted from 1.
std::string position(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// The JSON document in text (comments and trailing commas allowed), or an error with its position.
boost::system::result<json::value, std::string> parse_json(std::string_view text) {
  json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  json::stream_parser parser({}, options);
  json::error_code ec;
  // write_some stops at the end of the document or at the error, so its count is the error's
  // offset.
  const std::size_t used = parser.write_some(text.data(), text.size(), ec);
  if (ec) return failure{"invalid JSON at " + position(text, used) + ": " + ec.message()};
  if (parser.done() && used < text.size())
    return failure{"invalid JSON at " + position(text, used) + ": unexpected text after the document"};
  parser.finish(ec);
  if (ec) return failure{"invalid JSON at " + position(text, text.size()) + ": " + ec.message()};
  return parser.release();
}

// p made absolute against base and lexically normal, without a trailing separator.
std::filesystem::path resolve(const std::filesystem::path& p, const std::filesystem::path& base) {
  auto out = (p.is_absolute() ? p : base / p).lexically_normal();
  if (!out.has_filename() && out.has_parent_path() && out != out.root_path()) out = out.parent_path();
  return out;
}

// project_dir against base, then every project path against project_dir.
void resolve_paths(config& c, const std::filesystem::path& base) {
  c.project_dir = resolve(c.project_dir, base);
  const auto in_project = [&c](std::filesystem::path& p) { p = resolve(p, c.project_dir); };
  const auto maybe_in_project = [&](std::optional<std::filesystem::path>& p) {
    if (p) in_project(*p);
  };
  in_project(c.state_dir);
  in_project(c.log_dir);
  maybe_in_project(c.http.token_file);
  maybe_in_project(c.http.web_root);
  maybe_in_project(c.pm2.home);
  for (auto& file : c.pm2.ecosystem_files) in_project(file);
  in_project(c.github.workflows_dir);
  maybe_in_project(c.github.ca_file);
  in_project(c.netlify.functions_dir);
  in_project(c.netlify.manifest);
}

std::string join(std::string_view source, const error_list& errors) {
  std::string out;
  for (const auto& error : errors) out.append(out.empty() ? "" : "\n").append(prefixed(source, error));
  return out;
}

// parse_config with the folder that a relative project_dir is relative to.
boost::system::result<config, std::string> parse_at(std::string_view text, std::string_view source,
                                                    const std::filesystem::path& base, const env_lookup& env) {
  auto document = parse_json(text);
  if (!document) return failure{prefixed(source, document.error())};
  if (!document->is_object()) return failure{prefixed(source, "expected a JSON object at the top level")};

  json::object& root = document->get_object();
  error_list errors;
  config_detail::find_duplicate_keys(text, "", "", errors);
  const auto origins = config_detail::apply_env_overrides(root, env, errors);
  config c;
  config_detail::map_config(root, origins, c, errors);
  if (!errors.empty()) return failure{join(source, errors)};

  resolve_paths(c, base);
  c.source = std::string(source);
  return c;
}

// The current directory, absolute; it fails only when it was removed.
boost::system::result<std::filesystem::path, std::string> current_dir() {
  std::error_code ec;
  auto dir = std::filesystem::current_path(ec);
  if (ec) return failure{"cannot find the current directory: " + ec.message()};
  return sys::result<std::filesystem::path, std::string>(sys::in_place_value, std::move(dir));
}

// The whole file, or why it cannot be read.
boost::system::result<std::string, std::string> read_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure{std::generic_category().message(errno)};
  std::string text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return failure{std::generic_category().message(error)};
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > max_file_size) {
      ::close(fd);
      return failure{"larger than " + std::to_string(max_file_size / (1024 * 1024)) + " MiB"};
    }
  }
  ::close(fd);
  return sys::result<std::string, std::string>(sys::in_place_value, std::move(text));
}

// Reads and parses file; source names it in messages as the user gave it.
boost::system::result<config, std::string> load_file(const std::filesystem::path& file, const env_lookup& env) {
  const std::string source = file.string();
  auto text = read_file(file);
  if (!text) return failure{prefixed(source, "cannot read the config file: " + text.error())};
  auto cwd = current_dir();
  if (!cwd) return failure{prefixed(source, cwd.error())};
  const auto base = resolve(file, *cwd).parent_path();
  return parse_at(*text, source, base, env);
}

}  // namespace

boost::system::result<config, std::string> parse_config(std::string_view text, std::string_view source,
                                                        const env_lookup& env) {
  auto cwd = current_dir();
  if (!cwd) return failure{prefixed(source, cwd.error())};
  const auto base = source == defaults_source ? *cwd : resolve(std::filesystem::path(source), *cwd).parent_path();
  return parse_at(text, source, base, env);
}

boost::system::result<config, std::string> load_config(const std::optional<std::filesystem::path>& explicit_file,
                                                       const env_lookup& env) {
  if (explicit_file) return load_file(*explicit_file, env);
  // A file named by $REDUNDANCY_CONFIG was asked for as much as --config: missing is an error too.
  if (const auto it = env.find("REDUNDANCY_CONFIG"); it != env.end() && !it->second.empty())
    return load_file(it->second, env);
  for (const std::filesystem::path candidate : {"redundancy.json", "/etc/redundancy/redundancy.json"}) {
    std::error_code ec;
    if (std::filesystem::exists(candidate, ec)) return load_file(candidate, env);
  }
  auto cwd = current_dir();
  if (!cwd) return failure{prefixed(defaults_source, cwd.error())};
  return parse_at("{}", defaults_source, *cwd, env);
}

}  // namespace redundancy
