// The local runner's step files: GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH and GITHUB_STEP_SUMMARY,
// created before a step and read after it for the steps that follow.
#include <fstream>
#include <sstream>

#include "local_run_session.hpp"
#include "redundancy/core/small_file.hpp"

namespace redundancy::github {

namespace {

// A step file's text; empty when the step removed it.
std::string read_file(const std::filesystem::path& p) { return read_small_file(p).value_or(""); }

// GITHUB_ENV and GITHUB_OUTPUT: `name=value` lines and `name<<DELIMITER` ... `DELIMITER` blocks.
string_map parse_key_values(const std::string& text) {
  string_map out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto heredoc = line.find("<<");
    const auto eq = line.find('=');
    if (heredoc != std::string::npos && (eq == std::string::npos || heredoc < eq)) {
      const std::string name = line.substr(0, heredoc);
      const std::string delimiter = line.substr(heredoc + 2);
      std::string value;
      bool first = true;
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line == delimiter) break;
        value += (first ? "" : "\n") + line;
        first = false;
      }
      out[name] = value;
    } else if (eq != std::string::npos) {
      out[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return out;
}

}  // namespace

step_files make_step_files(const std::string& base) {
  step_files files{
      .env = base + ".env", .output = base + ".output", .path = base + ".path", .summary = base + ".summary"};
  for (const auto& f : {files.env, files.output, files.path, files.summary}) std::ofstream{f, std::ios::trunc};
  return files;
}

void run_session::take_step_files(const step_files& files, const workflow_step& step, const std::string& name,
                                  expression_context& job_ctx, std::vector<std::string>& extra_path) {
  // What the step left for the ones after it.
  for (const auto& [k, v] : parse_key_values(read_file(files.env))) job_ctx.env[k] = v;
  if (!step.id.empty()) job_ctx.step_outputs[step.id] = parse_key_values(read_file(files.output));
  std::istringstream paths(read_file(files.path));
  for (std::string line; std::getline(paths, line);)
    if (!line.empty()) extra_path.push_back(line);
  keep_summary(name, read_file(files.summary));
}

}  // namespace redundancy::github
