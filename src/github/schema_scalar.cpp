// Typing YAML scalars by the YAML 1.2 core schema, and finding the expressions in strings the way
// @actions/workflow-parser's parseScalar does.
#include "schema_scalar.hpp"

#include <optional>
#include <regex>

namespace redundancy::github::schema_detail {
namespace {

literal::kind core_schema_kind(const std::string& s) {
  // yaml-cpp already made null, ~, Null, NULL and the empty plain scalar a null node.
  static const std::regex boolean{"true|True|TRUE|false|False|FALSE"};
  static const std::regex number{
      "[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|"
      "[-+]?\\.(inf|Inf|INF)|\\.nan|\\.NaN|\\.NAN"};
  if (std::regex_match(s, boolean)) return literal::kind::boolean;
  if (std::regex_match(s, number)) return literal::kind::number;
  return literal::kind::string;
}

std::string trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1));
}

// The value of an expression that is one string literal ('it''s' is "it's"); nullopt otherwise. GitHub
// reads `${{ 'text' }}` as the string itself.
std::optional<std::string> string_literal(std::string_view e) {
  if (e.size() < 2 || e.front() != '\'' || e.back() != '\'') return std::nullopt;
  std::string out;
  for (std::size_t i = 1; i + 1 < e.size(); ++i) {
    if (e[i] == '\'') {
      if (e[i + 1] != '\'' || i + 2 >= e.size()) return std::nullopt;
      ++i;
    }
    out += e[i];
  }
  return out;
}

void find_expressions(literal& lit) {
  const std::string& raw = lit.text;
  std::size_t start = raw.find("${{");
  while (start != std::string::npos) {
    // The expression ends at the first }} outside a 'string literal'.
    std::size_t end = std::string::npos;
    bool in_string = false;
    for (std::size_t i = start + 3; i < raw.size(); ++i) {
      if (raw[i] == '\'')
        in_string = !in_string;
      else if (!in_string && raw[i] == '}' && raw[i - 1] == '}' && i - 1 >= start + 3) {
        end = i;
        break;
      }
    }
    if (end == std::string::npos) {
      lit.error = "the expression is not closed: '${{' without a matching '}}' in '" + raw + "'";
      return;
    }
    std::string e = trimmed(std::string_view(raw).substr(start + 3, end - 1 - (start + 3)));
    if (e.empty()) {
      lit.error = "an expression is empty: '${{ }}' in '" + raw + "'";
      return;
    }
    lit.expressions.push_back(std::move(e));
    lit.expression_columns.push_back(start);
    start = raw.find("${{", end + 1);
  }
  const bool whole = lit.expressions.size() == 1 && raw.rfind("${{", 0) == 0 && raw.ends_with("}}");
  if (whole)
    if (auto value = string_literal(lit.expressions[0])) {
      lit.text = *value;
      lit.expressions.clear();
    }
}

}  // namespace

literal classify(const YAML::Node& n) {
  literal lit;
  if (n.IsNull()) {
    lit.k = literal::kind::null;
    return lit;
  }
  if (!n.IsScalar()) return lit;
  lit.text = n.Scalar();
  // yaml-cpp tags a plain scalar "?" and a quoted or block one "!": only plain ones have types.
  if (n.Tag() == "?") lit.k = core_schema_kind(lit.text);
  if (lit.k == literal::kind::string) find_expressions(lit);
  // GitHub points at the ${{ itself on a one-line scalar; a quoted one starts one column before its
  // text (escapes inside it are not counted). Elsewhere the scalar's own mark has to do.
  if (lit.text.find('\n') != std::string::npos)
    lit.expression_columns.clear();
  else if (n.Tag() != "?")
    for (auto& column : lit.expression_columns) ++column;
  return lit;
}

}  // namespace redundancy::github::schema_detail
