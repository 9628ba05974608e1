// The netlify subsystem: the check that gathers every function's results, and the repairs.
#include "redundancy/netlify/netlify_subsystem.hpp"

#include "redundancy/core/limits.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/process.hpp"
#include "redundancy/core/small_file.hpp"
#include "redundancy/core/time.hpp"
#include "redundancy/netlify/checks.hpp"
#include "redundancy/netlify/discovery.hpp"
#include "redundancy/netlify/manifest.hpp"
#include "redundancy/netlify/probe.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <algorithm>
#include <set>

namespace redundancy::netlify {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

fs::path resolved(const fs::path& p, const fs::path& base) { return p.is_absolute() ? p : base / p; }

// What one check found about one function.
struct function_report {
  function_entry entry{};
  check_result present{};
  check_result syntax{};
  dependency_status dependencies{};
  check_result invoke{};
  check_result probe{};

  std::vector<std::pair<std::string, const check_result*>> all() const {
    return {{"present", &present},
            {"syntax", &syntax},
            {"dependencies", &dependencies.result},
            {"invoke", &invoke},
            {"probe", &probe}};
  }
};

// Runs the tasks concurrently and returns when all have finished; cancellation reaches every one.
awaitable<void> run_all(std::vector<std::function<awaitable<void>()>> tasks) {
  if (tasks.empty()) co_return;
  auto ex = co_await asio::this_coro::executor;
  using op_type = decltype(asio::co_spawn(ex, tasks.front()(), asio::deferred));
  std::vector<op_type> ops;
  ops.reserve(tasks.size());
  for (auto& t : tasks) ops.push_back(asio::co_spawn(ex, t(), asio::deferred));
  auto group = asio::experimental::make_parallel_group(std::move(ops));
  auto [order, errors] = co_await group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  (void)order;
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

std::string first_failure(const function_report& r) {
  for (const auto& [name, result] : r.all())
    if (result->failed()) return name + ": " + result->reason;
  return {};
}

std::string join_limited(const std::vector<std::string>& items, std::size_t shown) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < shown; ++i) out += (i == 0 ? "" : "; ") + items[i];
  if (items.size() > shown) out += "; and " + std::to_string(items.size() - shown) + " more";
  return out;
}

bool selected(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), "*") != names.end() ||
         std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

struct netlify_subsystem::step_log {
  action_result result{.ok = true};
  std::string output{};

  void add(std::string name, bool ok, std::string detail) {
    RLOG_AT("netlify", ok ? severity::info : severity::warning) << name << ": " << detail;
    result.steps.push_back({std::move(name), ok, std::move(detail)});
    if (!ok) result.ok = false;
  }
};

netlify_subsystem::netlify_subsystem(const config& c)
    : settings_{c.netlify},
      project_dir_{c.project_dir},
      functions_dir_{resolved(c.netlify.functions_dir, c.project_dir)},
      manifest_{resolved(c.netlify.manifest, c.project_dir)},
      harness_{resolved(c.state_dir, c.project_dir) / "invoke_harness.mjs"},
      deploy_file_{resolved(c.state_dir, c.project_dir) / "netlify-deploy.json"} {}

std::optional<deploy_record> netlify_subsystem::last_deploy() {
  if (!deploy_loaded_) {
    last_deploy_ = load_deploy_record(deploy_file_);
    deploy_loaded_ = true;
  }
  return last_deploy_;
}

awaitable<health> netlify_subsystem::check() {
  const auto started = std::chrono::steady_clock::now();
  health h;
  std::error_code ec;
  if (!fs::is_directory(functions_dir_, ec)) {
    h.state = status::disabled;
    h.summary = "functions folder " + functions_dir_.string() + " does not exist";
    h.checked_at = std::chrono::system_clock::now();
    co_return h;
  }
  auto found = discover_functions(project_dir_, functions_dir_);
  if (!found) {
    h.state = status::unknown;
    h.summary = found.error();
    h.checked_at = std::chrono::system_clock::now();
    co_return h;
  }

  // A folder is not bounded by the config's check: beyond the cap, functions are counted, not checked
  // (the manifest is still compared with every one found).
  const std::size_t beyond_cap = found->size() > max_targets ? found->size() - max_targets : 0;
  std::vector<function_report> reports;
  for (std::size_t i = 0; i < found->size() && i < max_targets; ++i) reports.push_back({.entry = (*found)[i]});

  // Cheap checks first; the syntax of every present function in few node processes.
  std::vector<function_entry> present;
  for (auto& r : reports) {
    r.present = check_present(r.entry);
    r.dependencies = check_dependencies(r.entry, functions_dir_, project_dir_);
    if (r.present.failed())
      r.syntax = check_result::skip("the file is not there");
    else
      present.push_back(r.entry);
  }
  auto syntax = co_await check_syntax_all(present, settings_.typescript_check, project_dir_, settings_.timeout);
  for (std::size_t i = 0; auto& r : reports)
    if (!r.present.failed()) r.syntax = std::move(syntax[i++]);

  // Invocations and probes run side by side within what is left of the check's time, with a margin so
  // that this check reports before the scheduler's own timeout ends it.
  const auto used = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
  const milliseconds budget = std::max(milliseconds{500}, (settings_.timeout - used) * 4 / 5);
  std::optional<std::string> harness_error;
  if (std::any_of(reports.begin(), reports.end(),
                  [&](auto& r) { return selected(settings_.local_invoke, r.entry.name); }))
    harness_error = install_invoke_harness(harness_);
  std::vector<std::function<awaitable<void>()>> tasks;
  for (auto& r : reports) {
    if (!selected(settings_.local_invoke, r.entry.name)) {
      r.invoke = check_result::skip("not in netlify.local_invoke");
    } else if (r.entry.language != function_language::javascript) {
      r.invoke = check_result::skip("only JavaScript functions are invoked locally");
    } else if (r.present.failed() || r.syntax.failed()) {
      r.invoke = check_result::skip("not invoked: " + first_failure(r));
    } else if (harness_error) {
      r.invoke = check_result::cannot_tell("cannot write the invoke harness: " + *harness_error);
    } else {
      tasks.push_back([this, &r, budget]() -> awaitable<void> {
        auto result = co_await invoke_function(r.entry, harness_, budget);
        // A node that cannot be started says nothing about the function: unknown, never a reason to deploy.
        r.invoke = result.ok ? check_result::pass(result.status ? "answered " + std::to_string(*result.status) : "")
                   : result.not_run ? check_result::cannot_tell(result.error)
                                    : check_result::fail(result.error);
        last_invocations_[r.entry.name] = std::move(result);
      });
    }
    if (!settings_.site_url || settings_.site_url->empty()) {
      r.probe = check_result::skip("netlify.site_url is not set");
    } else {
      tasks.push_back([this, &r, budget]() -> awaitable<void> {
        r.probe = co_await probe_function(probe_for(r.entry.name, *settings_.site_url, settings_.probe_paths), budget);
      });
    }
  }
  co_await run_all(std::move(tasks));

  // Functions that vanished are forgotten.
  std::set<std::string> names;
  for (const auto& r : reports) names.insert(r.entry.name);
  std::erase_if(last_invocations_, [&](const auto& kv) { return !names.contains(kv.first); });

  std::vector<std::string> failing;
  bool any_unknown = false;
  std::vector<std::string> unknown_reasons;  // "hello: syntax: node: not found on PATH", for the summary
  for (const auto& r : reports) {
    target_health t;
    t.name = r.entry.name;
    json::object checks;
    bool unknown = false;
    for (const auto& [check_name, result] : r.all()) {
      checks[check_name] = to_json(*result);
      if (result->state == check_state::unknown) unknown = true;
    }
    t.reason = first_failure(r);
    if (!t.reason.empty()) {
      t.state = status::unhealthy;
      failing.push_back(r.entry.name + " (" + t.reason + ")");
    } else if (unknown) {
      t.state = status::unknown;
      for (const auto& [check_name, result] : r.all())
        if (result->state == check_state::unknown && t.reason.empty()) t.reason = check_name + ": " + result->reason;
      any_unknown = true;
      unknown_reasons.push_back(r.entry.name + ": " + t.reason);
    } else {
      t.state = status::healthy;
    }
    json::value last_invocation = nullptr;
    if (const auto it = last_invocations_.find(r.entry.name); it != last_invocations_.end()) {
      json::object li{{"at", to_rfc3339_seconds(it->second.at)}, {"ok", it->second.ok}, {"error", it->second.error}};
      li["status"] = it->second.status ? json::value(*it->second.status) : json::value(nullptr);
      last_invocation = std::move(li);
    }
    t.detail = {
        {"kind", "function"},   {"format", to_string(r.entry.format)}, {"path", r.entry.relative_path},
        {"hash", r.entry.hash}, {"checks", std::move(checks)},         {"last_invocation", std::move(last_invocation)}};
    h.targets.push_back(std::move(t));
  }

  // The manifest.
  target_health m{.name = "manifest"};
  json::array problems;
  std::vector<std::string> problem_list;
  if (const auto text = read_small_file(manifest_); !text) {
    problem_list.push_back("manifest " + manifest_.string() + " is missing");
  } else if (auto parsed = parse_manifest(*text); !parsed) {
    problem_list.push_back("manifest cannot be read: " + parsed.error());
  } else {
    problem_list = manifest_problems(*parsed, *found, project_dir_);
  }
  for (const auto& p : problem_list) problems.emplace_back(p);
  m.state = problem_list.empty() ? status::healthy : status::unhealthy;
  if (!problem_list.empty()) {
    m.reason = "stale_manifest: " + join_limited(problem_list, 3);
    failing.push_back(m.reason);
  }
  m.detail = {{"kind", "manifest"},
              {"path", manifest_.string()},
              {"stale", !problem_list.empty()},
              {"problems", std::move(problems)}};
  h.targets.push_back(std::move(m));

  // The last deploy.
  target_health d{.name = "deploy"};
  const auto last = last_deploy();
  d.state = !last || last->ok ? status::healthy : status::degraded;
  if (last && !last->ok) d.reason = "the last deploy failed at " + to_rfc3339_seconds(last->at) + ": " + last->summary;
  d.detail = {{"kind", "deploy"},
              {"auto_deploy", settings_.auto_deploy},
              {"method", settings_.build_hook_url ? "build_hook" : "command"},
              {"last_deploy", last ? json::value(to_json(*last)) : json::value(nullptr)}};
  h.targets.push_back(std::move(d));

  const std::size_t functions = reports.size();
  if (!failing.empty()) {
    // The orchestrator's policy counts consecutive failing checks against max_failures.
    h.state = status::unhealthy;
    h.summary = join_limited(failing, 3);
  } else {
    const bool deploy_failed = last && !last->ok;
    h.state = any_unknown || deploy_failed ? status::degraded : status::healthy;
    h.summary = std::to_string(functions) + (functions == 1 ? " function" : " functions") +
                // Why they could not run (node missing, a tool timing out) belongs in the one line people read.
                (any_unknown ? ", some checks could not run (" + join_limited(unknown_reasons, 2) + ")" : " healthy") +
                (deploy_failed ? "; the last deploy failed" : "");
  }
  h.apart_from_targets = beyond_cap > 0 ? status::degraded : status::healthy;
  if (beyond_cap > 0) {
    if (h.state == status::healthy) h.state = status::degraded;
    h.summary += "; " + std::to_string(beyond_cap) + " more functions not checked: at most " +
                 std::to_string(max_targets) + " are";
  }
  h.checked_at = std::chrono::system_clock::now();
  co_return h;
}

awaitable<std::vector<std::string>> netlify_subsystem::syntax_failures(const std::vector<function_entry>& functions) {
  std::vector<std::string> out;
  const auto results =
      co_await check_syntax_all(functions, settings_.typescript_check, project_dir_, settings_.timeout);
  for (std::size_t i = 0; i < functions.size(); ++i)
    if (results[i].failed()) out.push_back(functions[i].name + ": " + results[i].reason);
  co_return out;
}

awaitable<action_result> netlify_subsystem::repair(bool install_dependencies, bool deploy, bool force_deploy,
                                                   std::string what) {
  step_log log;
  const auto outcome = regenerate_manifest(project_dir_, functions_dir_, manifest_, std::chrono::system_clock::now());
  if (!outcome.error.empty())
    log.add("regenerate manifest", false, outcome.error);
  else
    log.add("regenerate manifest", true,
            (outcome.written ? "written with " : "already current with ") + std::to_string(outcome.functions) +
                (outcome.functions == 1 ? " function" : " functions"));

  auto found = discover_functions(project_dir_, functions_dir_);
  std::vector<function_entry> functions = found ? std::move(*found) : std::vector<function_entry>{};

  if (install_dependencies) {
    std::set<fs::path> done;
    for (const auto& f : functions) {
      const auto deps = check_dependencies(f, functions_dir_, project_dir_);
      if (!deps.result.failed() || !deps.package_dir || done.contains(*deps.package_dir)) continue;
      done.insert(*deps.package_dir);
      process_spec spec;
      spec.argv = install_command(deps.has_lock);
      spec.cwd = *deps.package_dir;
      spec.inherit = child_env::npm;
      spec.timeout = settings_.deploy_timeout;
      const std::string name = spec.argv[0] + " " + spec.argv[1] + " in " + deps.package_dir->string();
      const auto r = co_await run_process(std::move(spec));
      log.output += tail_of(r.out + r.err, 2048);
      log.add(name, r.ok(), deps.result.reason + "; " + (r.started() ? r.describe() : r.error));
    }
  }

  if (deploy) {
    const auto blocked = co_await syntax_failures(functions);
    const auto gate = gate_deploy(last_deploy(), settings_.min_deploy_interval, blocked, force_deploy,
                                  std::chrono::system_clock::now());
    if (!gate.allowed) {
      // A syntax error is a failure a person must fix; a rate-limited deploy is only postponed.
      log.add("deploy", blocked.empty(), "skipped: " + gate.reason);
    } else {
      auto record = co_await run_deploy(settings_, project_dir_);
      if (auto failed = save_deploy_record(deploy_file_, record))
        RLOG("netlify", error) << "cannot keep the deploy record: " << *failed;
      last_deploy_ = record;
      deploy_loaded_ = true;
      log.output += record.output_tail;
      log.add("deploy", record.ok, record.summary);
    }
  }
  log.result.output_tail = tail_of(log.output, 4096);
  std::string failed;
  for (const auto& s : log.result.steps)
    if (!s.ok) failed += (failed.empty() ? "" : "; ") + s.name + ": " + s.detail;
  log.result.summary = what + (log.result.ok ? " done" : " failed: " + failed);
  co_return log.result;
}

// The repairs look afresh (the files may have changed since the last check). The site deploys as a whole:
// a paused function does not hold a deploy back, a paused "deploy" target does.
awaitable<action_result> netlify_subsystem::recover(const health& last) {
  const bool deploy_paused = std::any_of(last.targets.begin(), last.targets.end(), [](const target_health& t) {
    return t.name == "deploy" && t.state == status::paused;
  });
  co_return co_await repair(true, settings_.auto_deploy && !deploy_paused, false, "netlify recovery");
}

awaitable<action_result> netlify_subsystem::emergency(target_names left_alone) {
  co_return co_await repair(true, !left_alone.contains("deploy"), false, "netlify emergency");
}

boost::system::result<subsystem::manual_work, std::string> netlify_subsystem::manual(std::string_view verb,
                                                                                     const json::object& args,
                                                                                     const target_names& paused) {
  // Keep the subsystem alive while the work waits in the queue when it is shared (it is in the daemon).
  std::shared_ptr<netlify_subsystem> self = weak_from_this().lock();
  if (verb == "regenerate") {
    if (!args.empty()) return std::string{"regenerate takes no arguments"};
    return manual_work{[this, self]() -> awaitable<action_result> {
      step_log log;
      const auto outcome =
          regenerate_manifest(project_dir_, functions_dir_, manifest_, std::chrono::system_clock::now());
      log.add("regenerate manifest", outcome.error.empty(),
              !outcome.error.empty() ? outcome.error
                                     : (outcome.written ? "written with " : "already current with ") +
                                           std::to_string(outcome.functions) + " functions");
      log.result.summary = log.result.steps.back().detail;
      co_return log.result;
    }};
  }
  if (verb == "deploy") {
    if (paused.contains("deploy")) return std::string{"netlify/deploy is paused: resume it first to deploy"};
    bool force = false;
    for (const auto& [key, value] : args) {
      if (key != "force") return "deploy: unknown argument '" + std::string{key} + "'";
      if (!value.is_bool()) return std::string{"deploy: force: expected true or false"};
      force = value.as_bool();
    }
    return manual_work{[this, self, force]() -> awaitable<action_result> {
      co_return co_await repair(false, true, force, "netlify deploy");
    }};
  }
  return "the netlify subsystem has no '" + std::string{verb} + "' action (regenerate, deploy)";
}

}  // namespace redundancy::netlify
