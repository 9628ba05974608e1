// A small recursive-descent evaluator for the `${{ }}` expressions a local run supports.
#include "redundancy/github/expressions.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "redundancy/core/text.hpp"

namespace redundancy::github {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct value {
  enum class kind { null, boolean, string } k{kind::null};
  bool b{false};
  std::string s{};

  bool truthy() const { return k == kind::boolean ? b : k == kind::string ? !s.empty() : false; }
  std::string text() const { return k == kind::boolean ? (b ? "true" : "false") : s; }
};

value str(std::string s) { return {value::kind::string, false, std::move(s)}; }
value boolean(bool b) { return {value::kind::boolean, b, {}}; }

struct failure_reason {
  std::string why;
};

class parser {
 public:
  parser(std::string_view text, const expression_context& ctx) : text_(text), ctx_(ctx) {}

  value parse_all() {
    value v = parse_or();
    skip_space();
    if (pos_ != text_.size()) fail("unexpected '" + std::string(text_.substr(pos_)) + "'");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) { throw failure_reason{why}; }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool eat(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  value parse_or() {
    value left = parse_and();
    while (eat("||")) {
      value right = parse_and();
      // Like JavaScript, || and && yield one of their operands.
      if (!left.truthy()) left = right;
    }
    return left;
  }

  value parse_and() {
    value left = parse_cmp();
    while (eat("&&")) {
      value right = parse_cmp();
      if (left.truthy()) left = right;
    }
    return left;
  }

  value parse_cmp() {
    value left = parse_unary();
    if (eat("==")) return boolean(lower(left.text()) == lower(parse_unary().text()));
    if (eat("!=")) return boolean(lower(left.text()) != lower(parse_unary().text()));
    return left;
  }

  value parse_unary() {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '!' && text_.substr(pos_, 2) != "!=") {
      ++pos_;
      return boolean(!parse_unary().truthy());
    }
    return parse_primary();
  }

  value parse_primary() {
    skip_space();
    if (pos_ >= text_.size()) fail("expression ends early");
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      value v = parse_or();
      if (!eat(")")) fail("missing ')'");
      return v;
    }
    if (c == '\'') {
      std::string s;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) fail("unterminated string");
        if (text_[pos_] == '\'') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\'') {  // '' is an escaped quote
            s += '\'';
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        s += text_[pos_++];
      }
      return str(s);
    }
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
                                   text_[pos_] == '-' || text_[pos_] == '.'))
      ++pos_;
    if (pos_ == start) fail("unexpected '" + std::string(1, c) + "'");
    const std::string word{text_.substr(start, pos_ - start)};
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      ++pos_;
      return call(lower(word));
    }
    if (word == "true") return boolean(true);
    if (word == "false") return boolean(false);
    if (word == "null") return {};
    if (std::isdigit(static_cast<unsigned char>(word[0])) || word[0] == '-') return str(word);
    return lookup(word);
  }

  value call(const std::string& name) {
    std::vector<value> args;
    if (!eat(")")) {
      do args.push_back(parse_or());
      while (eat(","));
      if (!eat(")")) fail("missing ')' after the arguments of " + name + "()");
    }
    auto need = [&](std::size_t n) {
      if (args.size() != n) fail(name + "() takes " + std::to_string(n) + " arguments");
    };
    if (name == "always") return need(0), boolean(true);
    if (name == "success") return need(0), boolean(!ctx_.job_failed && !ctx_.cancelled);
    if (name == "failure") return need(0), boolean(ctx_.job_failed);
    if (name == "cancelled") return need(0), boolean(ctx_.cancelled);
    if (name == "contains")
      return need(2), boolean(lower(args[0].text()).find(lower(args[1].text())) != std::string::npos);
    if (name == "startswith") return need(2), boolean(lower(args[0].text()).rfind(lower(args[1].text()), 0) == 0);
    if (name == "endswith") {
      need(2);
      const auto a = lower(args[0].text());
      const auto b = lower(args[1].text());
      return boolean(a.size() >= b.size() && a.compare(a.size() - b.size(), b.size(), b) == 0);
    }
    fail("the function " + name + "() is not supported by the local runner");
  }

  static value from_map(const string_map& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? str("") : str(it->second);
  }

  value lookup(const std::string& path) {
    const auto dot = path.find('.');
    const std::string head = path.substr(0, dot);
    const std::string rest = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (rest.empty()) fail("the context '" + path + "' needs a property");
    if (head == "env") return from_map(ctx_.env, rest);
    if (head == "github") return from_map(ctx_.github, rest);
    if (head == "inputs") return from_map(ctx_.inputs, rest);
    if (head == "matrix") return from_map(ctx_.matrix, rest);
    if (head == "runner") return from_map(ctx_.runner, rest);
    if (head == "secrets") {
      auto v = ctx_.secret ? ctx_.secret(rest) : std::nullopt;
      if (v && !v->empty() && ctx_.used_secrets) ctx_.used_secrets->insert(*v);
      return str(v.value_or(""));
    }
    if (head == "steps" || head == "needs") {
      const auto dot2 = rest.find('.');
      const std::string id = rest.substr(0, dot2);
      const std::string prop = dot2 == std::string::npos ? "" : rest.substr(dot2 + 1);
      if (head == "needs") {
        if (prop != "result") fail("only needs.<job>.result is supported, not '" + path + "'");
        auto it = ctx_.needs_results.find(id);
        return str(it == ctx_.needs_results.end() ? "" : it->second);
      }
      if (prop == "outcome" || prop == "conclusion") {
        auto it = ctx_.step_outcomes.find(id);
        return str(it == ctx_.step_outcomes.end() ? "" : it->second);
      }
      if (prop.rfind("outputs.", 0) == 0) {
        auto it = ctx_.step_outputs.find(id);
        return it == ctx_.step_outputs.end() ? str("") : from_map(it->second, prop.substr(8));
      }
      fail("'" + path + "' is not supported by the local runner");
    }
    fail("the context '" + head + "' is not available to the local runner");
  }

  std::string_view text_;
  const expression_context& ctx_;
  std::size_t pos_{0};
};

boost::system::result<value, std::string> evaluate(std::string_view expr, const expression_context& ctx) {
  try {
    return parser{expr, ctx}.parse_all();
  } catch (const failure_reason& f) {
    return "cannot evaluate '" + std::string(trim(expr)) + "': " + f.why;
  }
}

std::string_view unwrap(std::string_view expr) {
  expr = trim(expr);
  if (expr.substr(0, 3) == "${{" && expr.size() >= 5 && expr.substr(expr.size() - 2) == "}}")
    expr = trim(expr.substr(3, expr.size() - 5));
  return expr;
}

bool names_function(std::string_view expr, std::initializer_list<std::string_view> names) {
  std::string l = lower(expr);
  l.erase(std::remove_if(l.begin(), l.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
          l.end());
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view n) { return l.find(std::string(n) + "(") != std::string::npos; });
}

using text_result = boost::system::result<std::string, std::string>;
// Both alternatives are strings, so each return says which one it is.
text_result failed_text(std::string why) { return text_result(boost::system::in_place_error, std::move(why)); }

}  // namespace

boost::system::result<std::string, std::string> substitute(std::string_view text, const expression_context& ctx) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto open = text.find("${{", pos);
    if (open == std::string_view::npos) break;
    const auto close = text.find("}}", open + 3);
    if (close == std::string_view::npos)
      return failed_text("unterminated '${{' in '" + std::string(text.substr(open, 40)) + "'");
    out.append(text.substr(pos, open - pos));
    auto v = evaluate(text.substr(open + 3, close - open - 3), ctx);
    if (!v) return failed_text(v.error());
    out += v->text();
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return text_result(boost::system::in_place_value, std::move(out));
}

boost::system::result<bool, std::string> evaluate_condition(std::string_view expr, const expression_context& ctx) {
  expr = unwrap(expr);
  if (expr.empty()) return !ctx.job_failed && !ctx.cancelled;
  auto v = evaluate(expr, ctx);
  if (!v) return v.error();
  if (!names_function(expr, {"success", "always", "failure", "cancelled"}))
    return !ctx.job_failed && !ctx.cancelled && v->truthy();
  return v->truthy();
}

bool uses_status_function(std::string_view expr) { return names_function(expr, {"always", "failure", "cancelled"}); }

std::string mask_secrets(std::string text, const std::set<std::string>& secrets) {
  // Each line of a multi-line secret is masked on its own too, as on GitHub: a step that prints one
  // line of a key must not show it. Longest first, so a value holding another is masked whole.
  std::vector<std::string_view> values;
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    values.push_back(s);
    if (s.find('\n') == std::string::npos) continue;
    std::string_view rest = s;
    while (!rest.empty()) {
      const auto end = std::min(rest.find('\n'), rest.size());
      std::string_view line = rest.substr(0, end);
      rest.remove_prefix(std::min(end + 1, rest.size()));
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") != std::string_view::npos) values.push_back(line);
    }
  }
  std::sort(values.begin(), values.end(), [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
  for (const auto v : values)
    for (auto pos = text.find(v); pos != std::string::npos; pos = text.find(v, pos + 3))
      text.replace(pos, v.size(), "***");
  return text;
}

}  // namespace redundancy::github
