// Reads ecosystem files through `node` and writes JSON ecosystems PM2 accepts as config.
#include "redundancy/pm2/ecosystem.hpp"

#include "redundancy/core/process.hpp"
#include "redundancy/core/text.hpp"
#include "redundancy/pm2/embedded_js.hpp"  // generated from ecosystem_apps.cjs
#include "redundancy/pm2/json_mapper.hpp"

#include <boost/json/parse.hpp>

#include <array>
#include <system_error>

namespace redundancy::pm2 {
namespace {

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

// The child's complaint in one short line.
std::string failure_text(const process_result& r) {
  if (!r.started()) return "node could not run: " + r.error;
  const std::string err = failure_line(r.err);
  std::string text = r.describe();
  if (!err.empty()) text += ": " + err;
  return text;
}

std::optional<std::filesystem::file_time_type> mtime_of(const std::filesystem::path& p) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(p, ec);
  if (ec) return std::nullopt;
  return t;
}

}  // namespace

boost::system::result<std::vector<ecosystem_app>, std::string> parse_ecosystem_apps(std::string_view output) {
  auto line = last_line(output);
  boost::system::error_code ec;
  auto doc = boost::json::parse(line, ec);
  if (ec) return "reader output is not JSON (" + ec.message() + ")";
  if (!doc.is_array()) return std::string("reader output: expected an array");
  std::vector<ecosystem_app> apps;
  for (std::size_t i = 0; i < doc.get_array().size(); ++i) {
    const auto& v = doc.get_array()[i];
    std::string path = "apps[" + std::to_string(i) + "]";
    if (!v.is_object()) return path + ": expected an object";
    ecosystem_app app;
    json_mapper m(v.get_object(), path);
    m.read("name", app.name)
        .read("script", app.script)
        .read("cwd", app.cwd)
        .read("args", app.args)
        .read("exec_mode", app.exec_mode)
        .read("instances", app.instances)
        .read("max_memory_restart", app.max_memory_restart)
        .read("env_keys", app.env_keys);
    if (m.ok() && app.name.empty()) m.fail("name", "missing (and no script to name it after)");
    if (!m.ok()) return m.error();
    apps.push_back(std::move(app));
  }
  return apps;
}

bool pm2_treats_as_config(const std::filesystem::path& file) {
  constexpr std::array<std::string_view, 6> markers{".json",      ".yml",        ".yaml",
                                                    ".config.js", ".config.cjs", ".config.mjs"};
  auto name = file.filename().string();
  for (auto m : markers)
    if (name.find(m) != std::string::npos) return true;
  return false;
}

awaitable<ecosystem_file> read_ecosystem(std::filesystem::path file, std::chrono::milliseconds timeout) {
  ecosystem_file result{.path = file, .mtime = mtime_of(file)};
  if (!result.mtime) {
    result.error = "ecosystem file " + file.string() + " does not exist";
    co_return result;
  }
  process_spec spec;
  spec.argv = {"node", "-e", std::string(ecosystem_apps_js), "read", file.string()};
  spec.cwd = file.parent_path();
  spec.inherit = child_env::node;
  spec.timeout = timeout;
  spec.output_cap = 4 * 1024 * 1024;
  auto run = co_await run_process(std::move(spec));
  if (!run.ok()) {
    result.error = "cannot load " + file.filename().string() + ": " + failure_text(run);
    co_return result;
  }
  auto apps = parse_ecosystem_apps(run.out);
  if (!apps) {
    result.error = "cannot load " + file.filename().string() + ": " + apps.error();
    co_return result;
  }
  result.apps = std::move(*apps);
  co_return result;
}

awaitable<std::string> write_json_ecosystem(std::filesystem::path file, std::filesystem::path out,
                                            std::chrono::milliseconds timeout) {
  process_spec spec;
  spec.argv = {"node", "-e", std::string(ecosystem_apps_js), "write", file.string(), out.string()};
  spec.cwd = file.parent_path();
  spec.inherit = child_env::node;
  spec.timeout = timeout;
  auto run = co_await run_process(std::move(spec));
  if (!run.ok()) co_return "cannot convert " + file.filename().string() + " to a JSON ecosystem: " + failure_text(run);
  co_return std::string{};
}

awaitable<std::vector<ecosystem_file>> ecosystem_cache::refresh(std::vector<std::filesystem::path> files) {
  std::vector<ecosystem_file> fresh;
  for (const auto& file : files) {
    auto mtime = mtime_of(file);
    const ecosystem_file* hit = nullptr;
    for (const auto& c : cached_)
      if (c.path == file && c.error.empty() && c.mtime && mtime && *c.mtime == *mtime) hit = &c;
    if (hit) {
      fresh.push_back(*hit);
      continue;
    }
    ++reads_;
    fresh.push_back(co_await read_ecosystem(file, timeout_));
  }
  cached_ = fresh;
  co_return fresh;
}

}  // namespace redundancy::pm2
