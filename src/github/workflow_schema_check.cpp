// Reads a YAML document against the workflow schema as @actions/workflow-parser's template reader
// does (templates/template-reader.js), so that what GitHub refuses is refused here: the same walk
// (one-of alternatives narrowed by the keys a mapping has), the same YAML 1.2 scalar types, the same
// expression rules, with messages that say which key and what was expected.
#include "redundancy/github/workflow_schema_check.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "redundancy/github/expression_names.hpp"
#include "schema_hint.hpp"
#include "schema_scalar.hpp"

namespace redundancy::github {
namespace {

using kind = schema_definition::kind;
using schema_detail::literal;
using schema_detail::nearest;
using schema_detail::some_of;

// Keys of steps that run in the background: GitHub refuses them unless a feature flag is on.
const std::set<std::string, std::less<>> background_step_keys{"background", "wait", "wait-all", "cancel"};

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string joined(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(sep)) + item;
  return out;
}

// A definition as it is read at one place: with the contexts its own and its enclosing definitions
// allow (DefinitionInfo in the reference).
struct place {
  const schema_definition* def;
  std::vector<std::string> allowed;
};

class checker {
 public:
  explicit checker(const workflow_schema& schema) : schema_(schema) {}

  std::vector<schema_problem> problems{};

  place enter(const place& parent, std::string_view type) const {
    place p{&schema_.at(type), parent.allowed};
    for (const auto& c : p.def->context)
      if (std::none_of(p.allowed.begin(), p.allowed.end(), [&](const std::string& a) { return upper(a) == upper(c); }))
        p.allowed.push_back(c);
    return p;
  }

  // `key_mark`: where the key holding this value is, the better place for "is missing" problems.
  void read(const YAML::Node& n, const place& at, const std::string& path, const YAML::Mark& key_mark) {
    if (n.IsSequence())
      read_sequence(n, at, path);
    else if (n.IsMap())
      read_mapping(n, at, path, key_mark);
    else
      read_scalar(n, at, path, key_mark);
  }

 private:
  void problem(const YAML::Mark& mark, const std::string& path, std::string message, bool suggests = false) {
    problems.push_back({.line = mark.line >= 0 ? mark.line + 1 : 1,
                        .column = mark.column >= 0 ? mark.column + 1 : 1,
                        .path = path,
                        .message = std::move(message),
                        .suggests = suggests});
  }

  // The alternatives of a definition of one kind: itself, or those of its one-of (one level, as in
  // the reference).
  std::vector<const schema_definition*> of_kind(const schema_definition& d, kind k) const {
    std::vector<const schema_definition*> out;
    if (d.k == k) out.push_back(&d);
    if (d.k == kind::one_of)
      for (const auto& name : d.one_of)
        if (const auto& alt = schema_.at(name); alt.k == k) out.push_back(&alt);
    return out;
  }

  std::vector<const schema_definition*> scalars(const schema_definition& d) const {
    if (d.k != kind::one_of)
      return d.k == kind::sequence || d.k == kind::mapping ? std::vector<const schema_definition*>{} : std::vector{&d};
    std::vector<const schema_definition*> out;
    for (const auto& name : d.one_of) {
      auto nested = scalars(schema_.at(name));
      out.insert(out.end(), nested.begin(), nested.end());
    }
    return out;
  }

  // "a mapping or a string", "one of 'read-all', 'write-all' or a mapping".
  std::string expected(const schema_definition& d) const {
    std::vector<std::string> kinds;
    std::vector<std::string> constants;
    auto add = [&](const schema_definition& alt) {
      std::string what;
      switch (alt.k) {
        case kind::null:
          what = "null";
          break;
        case kind::boolean:
          what = "a boolean (true or false)";
          break;
        case kind::number:
          what = "a number";
          break;
        case kind::string:
          if (!alt.constant.empty()) constants.push_back("'" + alt.constant + "'");
          what = alt.constant.empty() ? (alt.require_non_empty ? "a non-empty string" : "a string") : "";
          break;
        case kind::sequence:
          what = "a list";
          break;
        case kind::mapping:
          what = "a mapping";
          break;
        case kind::one_of:
          break;
      }
      if (!what.empty() && std::find(kinds.begin(), kinds.end(), what) == kinds.end()) kinds.push_back(what);
    };
    if (d.k == kind::one_of)
      for (const auto& name : d.one_of) {
        const auto& alt = schema_.at(name);
        if (alt.k == kind::one_of)
          for (const auto* s : scalars(alt)) add(*s);
        else
          add(alt);
      }
    else
      add(d);
    if (!constants.empty()) kinds.insert(kinds.begin(), (constants.size() == 1 ? "" : "one of ") + some_of(constants));
    if (kinds.size() <= 1) return kinds.empty() ? "nothing" : kinds[0];
    const std::string last = kinds.back();
    kinds.pop_back();
    return joined(kinds) + " or " + last;
  }

  // Where the schema gives contexts, or calls the value an expression (`is-expression`).
  bool expressions_allowed(const place& at) const {
    const auto candidates = scalars(*at.def);
    return !at.allowed.empty() ||
           std::any_of(candidates.begin(), candidates.end(), [](const auto* d) { return d->is_expression; });
  }

  // What `name` takes where `at` is: GitHub's own functions anywhere, the others (status functions,
  // hashFiles) where the schema lists them; nullopt when it may not be called here.
  static std::optional<function_arity> function_arity_here(const std::string& name, const place& at) {
    if (is_always_available_function(name)) return always_available_function_arity(name);
    for (const auto& item : at.allowed)
      if (item.find('(') != std::string::npos && upper(item.substr(0, item.find('('))) == upper(name))
        return schema_function_arity(item);
    return std::nullopt;
  }

  // The problems of the expressions in a string value; false when there is one.
  bool check_expressions(const literal& lit, const place& at, const YAML::Mark& at_value, const std::string& path) {
    if (!expressions_allowed(at)) {
      problem(at_value, path,
              "an expression ('" + lit.text + "') is not allowed here: this key takes " + expected(*at.def));
      return false;
    }
    std::vector<std::string> contexts;
    for (const auto& item : at.allowed)
      if (item.find('(') == std::string::npos) contexts.push_back(upper(item));
    bool ok = true;
    for (std::size_t i = 0; i < lit.expressions.size(); ++i) {
      const std::string& expression = lit.expressions[i];
      YAML::Mark mark = at_value;
      if (i < lit.expression_columns.size()) mark.column += static_cast<int>(lit.expression_columns[i]);
      if (auto quoted = double_quoted_string_problem(expression); !quoted.empty()) {
        problem(mark, path, std::move(quoted));
        ok = false;
        continue;
      }
      const auto names = names_in_expression(expression);
      for (const auto& c : names.contexts)
        if (std::find(contexts.begin(), contexts.end(), upper(c)) == contexts.end()) {
          std::vector<std::string> offered;
          for (const auto& item : at.allowed)
            if (item.find('(') == std::string::npos) offered.push_back(item);
          problem(mark, path,
                  "the expression '" + expression + "' uses the context '" + c +
                      "', which is not available here (available: " + joined(offered) + ")");
          ok = false;
        }
      for (const auto& call : names.calls) {
        const auto arity = function_arity_here(call.name, at);
        if (!arity) {
          problem(mark, path,
                  "the expression '" + expression + "' calls '" + call.name + "()', which is not available here");
          ok = false;
        } else if (call.arguments < arity->min || call.arguments > arity->max) {
          problem(mark, path,
                  "the expression '" + expression + "' calls '" + call.name + "()' with " +
                      std::to_string(call.arguments) + " argument" + (call.arguments == 1 ? "" : "s") + "; it takes " +
                      (arity->min == arity->max ? std::to_string(arity->min)
                                                : std::to_string(arity->min) + " to " + std::to_string(arity->max)));
          ok = false;
        }
      }
    }
    return ok;
  }

  void read_scalar(const YAML::Node& n, const place& at, const std::string& path, const YAML::Mark& key_mark) {
    const literal lit = schema_detail::classify(n);
    // yaml-cpp marks an empty value where the next line starts; its key is where it was left empty.
    if (lit.k == literal::kind::null) {
      check_literal(lit, at, key_mark, path);
      return;
    }
    if (!lit.error.empty()) {
      problem(n.Mark(), path, lit.error);
      return;
    }
    if (!lit.expressions.empty()) {
      check_expressions(lit, at, n.Mark(), path);
      return;
    }
    check_literal(lit, at, n.Mark(), path);
  }

  // GitHub reads every `if:` as an expression, written with ${{ }} or not (its converter does, with
  // the contexts the schema gives the key); the schema itself sees a bare one as a string.
  void read_bare_condition(const YAML::Node& n, const place& at, const std::string& path) {
    if (!n.IsScalar()) return;
    literal condition = schema_detail::classify(n);
    if (condition.k != literal::kind::string || !condition.expressions.empty() || !condition.error.empty() ||
        condition.text.find_first_not_of(" \t\r\n") == std::string::npos)
      return;
    condition.expressions = {condition.text};
    condition.expression_columns = {0};
    check_expressions(condition, at, n.Mark(), path);
  }

  void check_literal(const literal& lit, const place& at, const YAML::Mark& mark, const std::string& path) {
    const auto candidates = scalars(*at.def);
    auto matches = [&](const schema_definition& d, bool as_string) {
      const auto k = as_string ? literal::kind::string : lit.k;
      switch (d.k) {
        case kind::null:
          return k == literal::kind::null;
        case kind::boolean:
          return k == literal::kind::boolean;
        case kind::number:
          return k == literal::kind::number;
        case kind::string:
          if (k != literal::kind::string) return false;
          if (!d.constant.empty()) return d.constant == lit.text;
          return !d.require_non_empty || !lit.text.empty();
        default:
          return false;
      }
    };
    // A plain `5` or `true` is also the string "5" or "true" where only strings are expected.
    for (bool as_string : {false, true}) {
      if (as_string && lit.k == literal::kind::string) break;
      if (std::any_of(candidates.begin(), candidates.end(), [&](const auto* d) { return matches(*d, as_string); }))
        return;
    }
    const std::string shown = lit.k == literal::kind::null ? "an empty value" : "'" + lit.text + "'";
    std::vector<std::string> constants;
    for (const auto* d : candidates)
      if (!d->constant.empty()) constants.push_back(d->constant);
    const std::string guess = lit.k == literal::kind::null ? "" : nearest(lit.text, constants);
    problem(mark, path,
            shown + " is not allowed here" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") + ": expected " +
                expected(*at.def),
            !guess.empty());
  }

  void read_sequence(const YAML::Node& n, const place& at, const std::string& path) {
    const auto sequences = of_kind(*at.def, kind::sequence);
    if (sequences.empty()) {
      problem(n.Mark(), path, "a list is not allowed here: expected " + expected(*at.def));
      return;
    }
    const place item = enter(at, sequences[0]->item_type);
    for (std::size_t i = 0; i < n.size(); ++i) read(n[i], item, path + "[" + std::to_string(i) + "]", n[i].Mark());
  }

  void read_mapping(const YAML::Node& n, const place& at, const std::string& path, const YAML::Mark& key_mark) {
    auto mappings = of_kind(*at.def, kind::mapping);
    if (mappings.empty()) {
      problem(n.Mark(), path, "a mapping is not allowed here: expected " + expected(*at.def));
      return;
    }
    const std::string prefix = path.empty() ? "" : path + ".";
    std::set<std::string> seen;  // upper case: GitHub's keys are case-insensitive
    bool expression_key = false;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node key = it->first;
      const literal k = schema_detail::classify(key);
      if (!k.expressions.empty()) {
        // A key computed by an expression: its value can be anything the schema allows there.
        expression_key = true;
        if (check_expressions(k, at, key.Mark(), path)) read(it->second, enter(at, "any"), prefix + k.text, key.Mark());
        continue;
      }
      std::string name = key.IsScalar() ? key.Scalar() : std::string();
      // YAML 1.1 parsers read `on` as the boolean true; accept what they would have written.
      if (name == "true" && !mappings[0]->properties.count("true") && mappings[0]->properties.count("on")) name = "on";
      if (!seen.insert(upper(name)).second) {
        problem(key.Mark(), prefix + name, "'" + name + "' is already defined");
        continue;
      }
      const std::string type = match_property(mappings, name);
      if (!type.empty() && !background_step_keys.count(name)) {
        read(it->second, enter(at, type), prefix + name, key.Mark());
        if (name == "if") read_bare_condition(it->second, enter(at, type), prefix + name);
        continue;
      }
      if (type.empty() && !mappings[0]->loose_key_type.empty()) {
        check_literal(k, enter(at, mappings[0]->loose_key_type), key.Mark(), prefix + name);
        read(it->second, enter(at, mappings[0]->loose_value_type), prefix + name, key.Mark());
        continue;
      }
      const auto allowed = keys_of(mappings);
      const std::string guess = nearest(name, allowed);
      problem(key.Mark(), path,
              "unknown key '" + name + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                  "; the keys allowed here are " + (allowed.empty() ? std::string("none") : some_of(allowed, 20)),
              !guess.empty());
    }
    if (mappings.size() > 1) {
      problem(key_mark, path,
              "cannot tell what this is meant to be: add one of the keys " + distinguishing_keys(mappings));
      return;
    }
    if (expression_key) return;
    for (const auto& [name, property] : mappings[0]->properties)
      if (property.required && !seen.count(upper(name)))
        problem(key_mark, path, "the required key '" + name + "' is missing");
  }

  // The type of `name` in the alternatives that have it, which are the only ones kept (the
  // reference's matchPropertyAndFilter); empty when none has it.
  static std::string match_property(std::vector<const schema_definition*>& mappings, const std::string& name) {
    std::string type;
    for (const auto* m : mappings)
      if (const auto it = m->properties.find(name); it != m->properties.end()) type = it->second.type;
    if (!type.empty()) std::erase_if(mappings, [&](const schema_definition* m) { return !m->properties.count(name); });
    return type;
  }

  static std::vector<std::string> keys_of(const std::vector<const schema_definition*>& mappings) {
    std::set<std::string> keys;
    for (const auto* m : mappings)
      for (const auto& [name, property] : m->properties)
        if (!background_step_keys.count(name)) keys.insert(name);
    return {keys.begin(), keys.end()};
  }

  // The keys found in only one of the alternatives: any one of them decides.
  static std::string distinguishing_keys(const std::vector<const schema_definition*>& mappings) {
    std::map<std::string, int> hits;
    for (const auto* m : mappings)
      for (const auto& [name, property] : m->properties) ++hits[name];
    std::vector<std::string> keys;
    for (const auto& [name, count] : hits)
      if (count == 1 && !background_step_keys.count(name)) keys.push_back(name);
    return joined(keys);
  }

  const workflow_schema& schema_;
};

}  // namespace

std::vector<schema_problem> check_against_schema(const YAML::Node& document, const workflow_schema& schema,
                                                 std::string_view root) {
  checker c{schema};
  c.read(document, c.enter(place{nullptr, {}}, root), "", document.Mark());
  return std::move(c.problems);
}

}  // namespace redundancy::github
