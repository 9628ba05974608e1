// Scanning an expression for the contexts and functions it names.
#include "redundancy/github/expression_names.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace redundancy::github {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

void add_once(std::vector<std::string>& names, std::string name) {
  if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return iequals(n, name); }))
    names.push_back(std::move(name));
}

struct builtin {
  std::string_view name;
  function_arity arity;
};

constexpr std::size_t max_arguments = 255;  // @actions/expressions' MAX_ARGUMENTS

constexpr std::array<builtin, 8> builtins{{{"case", {3, max_arguments}},
                                           {"contains", {2, 2}},
                                           {"startsWith", {2, 2}},
                                           {"endsWith", {2, 2}},
                                           {"format", {1, max_arguments}},
                                           {"join", {1, 2}},
                                           {"toJSON", {1, 1}},
                                           {"fromJSON", {1, 1}}}};

// The arguments of the call whose '(' is at `open`: commas at its own depth, outside strings.
std::size_t count_arguments(std::string_view text, std::size_t open) {
  std::size_t depth = 0;
  std::size_t commas = 0;
  bool any = false;
  bool in_string = false;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      in_string = c != '\'';  // a '' inside a string ends it and opens the next at once
      continue;
    }
    if (c == '\'') {
      in_string = true;
      any = true;
    } else if (c == '(' || c == '[') {
      if (depth++ > 0) any = true;
    } else if (c == ')' || c == ']') {
      if (--depth == 0) break;
    } else if (depth == 1 && c == ',') {
      ++commas;
    } else if (!std::isspace(static_cast<unsigned char>(c))) {
      any = true;
    }
  }
  return any ? commas + 1 : 0;
}

}  // namespace

bool is_always_available_function(std::string_view name) {
  return std::any_of(builtins.begin(), builtins.end(), [&](const builtin& b) { return iequals(b.name, name); });
}

function_arity always_available_function_arity(std::string_view name) {
  for (const auto& b : builtins)
    if (iequals(b.name, name)) return b.arity;
  return {};
}

std::optional<function_arity> schema_function_arity(std::string_view item) {
  const auto open = item.find('(');
  const auto comma = item.find(',', open);
  const auto close = item.find(')', open);
  if (open == std::string_view::npos || comma == std::string_view::npos || close == std::string_view::npos)
    return std::nullopt;
  auto number = [](std::string_view s) -> std::size_t {
    if (s == "MAX") return max_arguments;
    std::size_t n = 0;
    for (char c : s)
      if (std::isdigit(static_cast<unsigned char>(c))) n = n * 10 + static_cast<std::size_t>(c - '0');
    return n;
  };
  return function_arity{number(item.substr(open + 1, comma - open - 1)),
                        number(item.substr(comma + 1, close - comma - 1))};
}

std::string double_quoted_string_problem(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\'') in_string = !in_string;  // '' inside a string toggles twice: still inside
    if (text[i] != '"' || in_string) continue;
    const auto end = text.find('"', i + 1);
    const std::string quoted(text.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i + 1));
    std::string single = quoted;
    std::replace(single.begin(), single.end(), '"', '\'');
    return "the expression '" + std::string(text) + "' has the string " + quoted +
           " in double quotes: GitHub's expressions take strings in single quotes (" + single + ")";
  }
  return {};
}

expression_names names_in_expression(std::string_view text) {
  expression_names names;
  char previous = ' ';  // the last character that is not a space, to tell `a.b` from `a`
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\'') {  // a string literal; '' inside it is an escaped quote
      for (++i; i < text.size(); ++i)
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'')
            ++i;
          else
            break;
        }
      ++i;
      previous = '\'';
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {  // a number, hex and exponents included
      while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
      previous = '0';
      continue;
    }
    if (word_start(c)) {
      const std::size_t start = i;
      while (i < text.size() && word_char(text[i])) ++i;
      const std::string word(text.substr(start, i - start));
      std::size_t next = i;
      while (next < text.size() && std::isspace(static_cast<unsigned char>(text[next]))) ++next;
      if (previous != '.') {
        if (next < text.size() && text[next] == '(') {
          names.calls.push_back({word, count_arguments(text, next)});
          add_once(names.functions, word);
        } else if (word != "true" && word != "false" && word != "null" && word != "NaN" && word != "Infinity")
          add_once(names.contexts, word);
      }
      previous = 'a';
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) previous = c;
    ++i;
  }
  return names;
}

}  // namespace redundancy::github
