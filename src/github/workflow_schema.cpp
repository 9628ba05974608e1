// Reading GitHub's workflow schema JSON into definitions, the way @actions/workflow-parser's
// TemplateSchema does: the built-in types first, `allowed-values` as a one-of of string constants,
// and every name a definition refers to checked to exist.
#include "redundancy/github/workflow_schema.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "redundancy/github/workflow_schema_json.hpp"  // generated from the pinned package's schema

namespace redundancy::github {
namespace {

namespace json = boost::json;
using kind = schema_definition::kind;

struct unreadable {
  std::string why;
};

std::string text_of(const json::value& v, const std::string& where) {
  if (!v.is_string()) throw unreadable{where + " must be a string"};
  return std::string(v.get_string());
}

std::vector<std::string> strings_of(const json::value& v, const std::string& where) {
  if (!v.is_array()) throw unreadable{where + " must be a list of strings"};
  std::vector<std::string> out;
  for (const auto& item : v.get_array()) out.push_back(text_of(item, where));
  return out;
}

const json::object& object_of(const json::value& v, const std::string& where) {
  if (!v.is_object()) throw unreadable{where + " must be an object"};
  return v.get_object();
}

// The definitions every schema has without declaring them (TemplateSchema's constructor).
void add_built_ins(std::map<std::string, schema_definition, std::less<>>& defs) {
  defs["null"] = {.name = "null", .k = kind::null};
  defs["boolean"] = {.name = "boolean", .k = kind::boolean};
  defs["number"] = {.name = "number", .k = kind::number};
  defs["string"] = {.name = "string", .k = kind::string};
  defs["sequence"] = {.name = "sequence", .k = kind::sequence, .item_type = "any"};
  defs["mapping"] = {.name = "mapping", .k = kind::mapping, .loose_key_type = "string", .loose_value_type = "any"};
  defs["any"] = {
      .name = "any", .k = kind::one_of, .one_of = {"null", "boolean", "number", "string", "sequence", "mapping"}};
}

void read_mapping(const json::object& body, schema_definition& d, const std::string& where) {
  d.k = kind::mapping;
  for (const auto& [key, value] : body) {
    if (key == "properties") {
      for (const auto& [name, property] : object_of(value, where + ".properties")) {
        const std::string at = where + ".properties." + std::string(name);
        schema_property p;
        if (property.is_string()) {
          p.type = std::string(property.get_string());
        } else {
          const auto& o = object_of(property, at);
          if (!o.contains("type")) throw unreadable{at + " has no type"};
          p.type = text_of(o.at("type"), at + ".type");
          if (o.contains("required")) p.required = o.at("required").is_bool() && o.at("required").get_bool();
        }
        d.properties[std::string(name)] = std::move(p);
      }
    } else if (key == "loose-key-type") {
      d.loose_key_type = text_of(value, where + ".loose-key-type");
    } else if (key == "loose-value-type") {
      d.loose_value_type = text_of(value, where + ".loose-value-type");
    } else {
      throw unreadable{where + " has the unknown key '" + std::string(key) + "'"};
    }
  }
  if (d.loose_key_type.empty() != d.loose_value_type.empty())
    throw unreadable{where + " needs both loose-key-type and loose-value-type, or neither"};
}

void read_string(const json::object& body, schema_definition& d, const std::string& where) {
  d.k = kind::string;
  for (const auto& [key, value] : body) {
    if (key == "constant")
      d.constant = text_of(value, where + ".constant");
    else if (key == "require-non-empty")
      d.require_non_empty = value.is_bool() && value.get_bool();
    else if (key == "is-expression")
      d.is_expression = value.is_bool() && value.get_bool();
    else if (key != "ignore-case")  // only the schema's own reader uses it
      throw unreadable{where + " has the unknown key '" + std::string(key) + "'"};
  }
}

// One entry of `definitions`; `allowed-values` adds the string constants it stands for.
void read_definition(const std::string& name, const json::object& o,
                     std::map<std::string, schema_definition, std::less<>>& defs) {
  schema_definition d{.name = name};
  bool typed = false;
  for (const auto& [key, value] : o) {
    const std::string where = name + "." + std::string(key);
    if (key == "description") continue;
    if (key == "context") {
      d.context = strings_of(value, where);
      continue;
    }
    if (typed) throw unreadable{name + " has more than one type ('" + std::string(key) + "')"};
    typed = true;
    if (key == "mapping") {
      read_mapping(object_of(value, where), d, where);
    } else if (key == "sequence") {
      d.k = kind::sequence;
      const auto& body = object_of(value, where);
      if (!body.contains("item-type")) throw unreadable{where + " has no item-type"};
      d.item_type = text_of(body.at("item-type"), where + ".item-type");
    } else if (key == "string") {
      read_string(object_of(value, where), d, where);
    } else if (key == "number" || key == "boolean" || key == "null") {
      d.k = key == "number" ? kind::number : key == "boolean" ? kind::boolean : kind::null;
    } else if (key == "one-of") {
      d.k = kind::one_of;
      d.one_of = strings_of(value, where);
    } else if (key == "allowed-values") {
      d.k = kind::one_of;
      for (const auto& allowed : strings_of(value, where)) {
        const std::string constant_name = name + "-" + allowed;
        defs[constant_name] = {.name = constant_name, .k = kind::string, .constant = allowed};
        d.one_of.push_back(constant_name);
      }
    } else {
      throw unreadable{name + " has the unknown key '" + std::string(key) + "'"};
    }
  }
  if (!typed) throw unreadable{name + " has no type (mapping, sequence, string, ...)"};
  defs[name] = std::move(d);
}

void check_references(const std::map<std::string, schema_definition, std::less<>>& defs) {
  auto need = [&](const std::string& from, const std::string& name) {
    if (!name.empty() && !defs.count(name)) throw unreadable{from + " refers to '" + name + "', which is not defined"};
  };
  for (const auto& [name, d] : defs) {
    for (const auto& [key, p] : d.properties) need(name + ".properties." + key, p.type);
    need(name, d.loose_key_type);
    need(name, d.loose_value_type);
    need(name, d.item_type);
    for (const auto& alternative : d.one_of) need(name, alternative);
  }
}

}  // namespace

boost::system::result<workflow_schema, std::string> workflow_schema::parse(std::string_view text) {
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) return "the schema is not JSON: " + ec.message();
  workflow_schema schema;
  try {
    const auto& top = object_of(root, "the schema");
    if (!top.contains("definitions")) throw unreadable{"the schema has no definitions"};
    add_built_ins(schema.definitions_);
    for (const auto& [name, body] : object_of(top.at("definitions"), "definitions"))
      read_definition(std::string(name), object_of(body, std::string(name)), schema.definitions_);
    check_references(schema.definitions_);
  } catch (const unreadable& e) {
    return "the schema cannot be read: " + e.why;
  }
  return schema;
}

const workflow_schema& workflow_schema::github() {
  // The embedded file is the pinned package's own; failing to read it is a build defect, found by
  // the unit tests, not a condition the daemon can recover from.
  static const workflow_schema schema = [] {
    auto parsed = parse(workflow_v1_json);
    if (!parsed) throw std::logic_error("the embedded GitHub workflow schema: " + parsed.error());
    return std::move(*parsed);
  }();
  return schema;
}

const schema_definition* workflow_schema::find(std::string_view name) const {
  const auto it = definitions_.find(name);
  return it == definitions_.end() ? nullptr : &it->second;
}

const schema_definition& workflow_schema::at(std::string_view name) const {
  const auto* d = find(name);
  if (!d) throw std::out_of_range("no schema definition '" + std::string(name) + "'");
  return *d;
}

}  // namespace redundancy::github
