// Reads ecosystem files through `node` and writes JSON ecosystems PM2 accepts as config.
#include "redundancy/pm2/ecosystem.hpp"

#include "redundancy/core/process.hpp"
#include "redundancy/pm2/json_mapper.hpp"

#include <boost/json/parse.hpp>

#include <array>
#include <system_error>

namespace redundancy::pm2 {
namespace {

// Loads the module the way PM2 does (require) and prints the part of each app we need: env keys only.
constexpr std::string_view reader_js = R"js(
const path = require('path');
const file = path.resolve(process.argv[1]);
let m;
try { m = require(file); } catch (e) {
  process.stderr.write(String((e && e.message) || e).split('\n')[0].slice(0, 300));
  process.exit(2);
}
if (m && m.__esModule && m.default) m = m.default;
let apps = Array.isArray(m) ? m : (m && m.apps);
if (apps && !Array.isArray(apps)) apps = [apps];
if (!Array.isArray(apps)) { process.stderr.write('exports no "apps" array'); process.exit(3); }
const str = v => (v === undefined || v === null) ? null : String(v);
const out = apps.map(a => {
  if (!a || typeof a !== 'object') return null;
  const script = str(a.script);
  const name = str(a.name) || (script ? path.basename(script, path.extname(script)) : null);
  return { name, script, cwd: str(a.cwd),
           args: Array.isArray(a.args) ? a.args.map(String) : (a.args == null ? [] : String(a.args).split(' ').filter(Boolean)),
           exec_mode: str(a.exec_mode), instances: str(a.instances), max_memory_restart: str(a.max_memory_restart),
           env_keys: Object.keys((a.env && typeof a.env === 'object') ? a.env : {}) };
});
process.stdout.write('\n' + JSON.stringify(out));
)js";

// Writes every app with an absolute cwd (against the file's folder) and, when it names a file that
// exists, an absolute script; keeps every other setting. Mode 0600: the env values are secrets.
constexpr std::string_view writer_js = R"js(
const fs = require('fs'), path = require('path');
const file = path.resolve(process.argv[1]), out = path.resolve(process.argv[2]);
let m;
try { m = require(file); } catch (e) {
  process.stderr.write(String((e && e.message) || e).split('\n')[0].slice(0, 300));
  process.exit(2);
}
if (m && m.__esModule && m.default) m = m.default;
let apps = Array.isArray(m) ? m : (m && m.apps);
if (apps && !Array.isArray(apps)) apps = [apps];
if (!Array.isArray(apps)) { process.stderr.write('exports no "apps" array'); process.exit(3); }
const dir = path.dirname(file);
const res = apps.filter(a => a && typeof a === 'object').map(a => {
  const c = Object.assign({}, a);
  c.cwd = path.resolve(dir, typeof a.cwd === 'string' ? a.cwd : '.');
  if (typeof a.script === 'string') {
    const s = path.resolve(c.cwd, a.script);
    if (fs.existsSync(s)) c.script = s;
    if (!c.name) c.name = path.basename(a.script, path.extname(a.script));
  }
  return c;
});
fs.mkdirSync(path.dirname(out), { recursive: true, mode: 0o700 });
const tmp = out + '.tmp';
fs.writeFileSync(tmp, JSON.stringify({ apps: res }, null, 2), { mode: 0o600 });
fs.chmodSync(tmp, 0o600);
fs.renameSync(tmp, out);
process.stdout.write(out);
)js";

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

// The child's complaint in one short line.
std::string failure_text(const process_result& r) {
  if (!r.started()) return "node could not run: " + r.error;
  std::string err = last_line(r.err);
  if (err.size() > 300) err.resize(300);
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
  spec.argv = {"node", "-e", std::string(reader_js), file.string()};
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
  spec.argv = {"node", "-e", std::string(writer_js), file.string(), out.string()};
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
