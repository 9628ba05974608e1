// Internal to the workflow parser: the reader that turns one workflow's YAML into a workflow,
// remembering problems as it goes (workflow_reader.cpp: the file's top level and triggers;
// workflow_job_reader.cpp: its jobs and steps).
#pragma once
#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "redundancy/github/workflow.hpp"

namespace redundancy::github::workflow_detail {

inline bool is_expression(std::string_view s) { return s.find("${{") != std::string_view::npos; }

// Reads one workflow, remembering problems as it goes.
class reader {
 public:
  reader(workflow& w) : w_(w), file_name_(w.file.filename().string()) {}

  void problem(const YAML::Mark& mark, const std::string& path, const std::string& message);
  void problem_at(int line, const std::string& path, const std::string& message);
  void read(const YAML::Node& root);
  // Whether a problem was already reported on this line or for this path: the reader's message,
  // written for that key, then stands for the schema's more general one.
  bool reported(int line, const std::string& path) const { return lines_.count(line) || paths_.count(path); }

 private:
  static std::string scalar(const YAML::Node& n);
  // `whole_expression_allowed`: whether `env: ${{ ... }}` is accepted (at the top level only).
  string_map read_env(const YAML::Node& n, const std::string& path, bool whole_expression_allowed = false);
  void read_defaults(const YAML::Node& n, const std::string& path, std::string& shell, std::string& wd);
  void read_timeout(const YAML::Node& n, const std::string& path, std::optional<double>& out);
  void read_on(const YAML::Node& on);
  void read_schedule(const YAML::Node& body);

  // workflow_job_reader.cpp
  void read_matrix(const YAML::Node& strategy, workflow_job& job, const std::string& path);
  void read_job(const std::string& id, const YAML::Mark& mark, const YAML::Node& n);
  void read_step(const YAML::Node& n, const std::string& path, workflow_job& job);
  void check_needs();

  workflow& w_;
  std::string file_name_;
  std::set<int> lines_{};
  std::set<std::string> paths_{};
};

}  // namespace redundancy::github::workflow_detail
