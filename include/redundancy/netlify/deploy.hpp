// Deploys: when one may run (syntax gate, rate limit), running one, and remembering the last one.
#pragma once
#include "redundancy/core/asio.hpp"
#include "redundancy/core/config.hpp"
#include "redundancy/core/health.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace redundancy::netlify {

struct deploy_record {
  sys_time at{};
  bool ok{false};
  std::string method{};       // "command" or "build_hook"
  std::string summary{};      // "netlify deploy --prod: exit 0", "build hook answered 200"
  std::string output_tail{};  // the last few KiB the command printed (secrets removed)
};

boost::json::object to_json(const deploy_record& r);

// Reads the record kept in `file`; nullopt when there is none or it cannot be read.
std::optional<deploy_record> load_deploy_record(const std::filesystem::path& file);
// Keeps the record in `file`, written atomically. Returns why it failed.
std::optional<std::string> save_deploy_record(const std::filesystem::path& file, const deploy_record& r);

struct deploy_gate {
  bool allowed{false};
  std::string reason{};  // why not, when not allowed
};

// Whether a deploy may start now. Never while a function fails its syntax check (that is reported
// instead: deploying a syntax error helps no one); at most one per min_interval after the last attempt,
// unless forced by a person.
deploy_gate gate_deploy(const std::optional<deploy_record>& last, std::chrono::milliseconds min_interval,
                        const std::vector<std::string>& syntax_failures, bool force, sys_time now);

// Runs the deploy: a POST to build_hook_url when one is set, otherwise deploy_command in project_dir
// within deploy_timeout, with NETLIFY_AUTH_TOKEN and NETLIFY_SITE_ID passed through. The hook URL and
// the token never appear in the record.
awaitable<deploy_record> run_deploy(const netlify_config& settings, const std::filesystem::path& project_dir);

// `text` with every occurrence of each non-empty secret replaced by "<redacted>".
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace redundancy::netlify
