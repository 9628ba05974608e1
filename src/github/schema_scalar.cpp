// Typing YAML scalars by the YAML 1.2 core schema, and finding the expressions in strings the way
// @actions/workflow-parser's parseScalar does.
#include "schema_scalar.hpp"

#include <algorithm>
#include <optional>

namespace redundancy::github::schema_detail {
namespace {

bool all_of(std::string_view s, bool (*allowed)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), allowed);
}

bool digit(char c) { return c >= '0' && c <= '9'; }
bool octal(char c) { return c >= '0' && c <= '7'; }
bool hex(char c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, written out: this runs on every plain scalar.
bool decimal(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  const auto e = s.find_first_of("eE");
  if (e != std::string_view::npos) {
    std::string_view exponent = s.substr(e + 1);
    if (!exponent.empty() && (exponent[0] == '-' || exponent[0] == '+')) exponent.remove_prefix(1);
    if (!all_of(exponent, digit)) return false;
    s = s.substr(0, e);
  }
  const auto dot = s.find('.');
  if (dot == std::string_view::npos) return all_of(s, digit);
  const std::string_view whole = s.substr(0, dot);
  const std::string_view fraction = s.substr(dot + 1);
  if (whole.empty()) return all_of(fraction, digit);
  return all_of(whole, digit) && (fraction.empty() || all_of(fraction, digit));
}

// The YAML 1.2 core schema's tags for a plain scalar (yaml-cpp already made null, ~, Null, NULL and
// the empty plain scalar a null node).
literal::kind core_schema_kind(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return literal::kind::boolean;
  std::string_view unsigned_part = s;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) unsigned_part.remove_prefix(1);
  const bool special = unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF" || s == ".nan" ||
                       s == ".NaN" || s == ".NAN";
  const bool based =
      (s.starts_with("0o") && all_of(s.substr(2), octal)) || (s.starts_with("0x") && all_of(s.substr(2), hex));
  return special || based || decimal(s) ? literal::kind::number : literal::kind::string;
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
