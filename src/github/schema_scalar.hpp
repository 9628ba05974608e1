// Internal to the schema check: a YAML scalar as GitHub's parser sees it, typed by the YAML 1.2 core
// schema (the npm `yaml` package's default) rather than by yaml-cpp's untyped text, and split into
// its `${{ }}` expressions.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace redundancy::github::schema_detail {

struct literal {
  enum class kind { null, boolean, number, string } k{kind::string};
  std::string text{};                      // the scalar as written (a string literal's value, unquoted)
  std::vector<std::string> expressions{};  // the trimmed text inside each ${{ }}; empty: a plain value
  // How far into the line each expression's ${{ is from where the scalar starts, when the scalar is
  // on one line (where GitHub points); empty otherwise.
  std::vector<std::size_t> expression_columns{};
  std::string error{};  // an unclosed or empty ${{ }}
};

// A null node, or a scalar; a collection is an (empty) string, which no caller passes.
literal classify(const YAML::Node& n);

}  // namespace redundancy::github::schema_detail
