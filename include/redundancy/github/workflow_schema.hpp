// GitHub's workflow schema (workflow-v1.0.json of @actions/workflow-parser) as data: the definitions a
// workflow file is read against, each a mapping, sequence, string, number, boolean, null or a one-of
// the others, with the contexts an expression may use at that point. The build embeds the published
// file (cmake/workflow_schema.cmake); workflow_schema_check.hpp validates a document against it.
#pragma once
#include <boost/system/result.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::github {

struct schema_property {
  std::string type{};  // the name of the value's definition
  bool required{false};
};

struct schema_definition {
  enum class kind { null, boolean, number, string, sequence, mapping, one_of };
  std::string name{};
  kind k{kind::string};
  // What an expression in this value (or below it) may name, in the schema's spelling: contexts
  // ("github", "secrets") and functions with their arity ("hashFiles(1,255)"). Empty: no
  // expression at all, unless an enclosing definition allows them.
  std::vector<std::string> context{};
  // mapping: the well-known keys, and the type of any other key and its value (empty: no others).
  std::map<std::string, schema_property> properties{};
  std::string loose_key_type{};
  std::string loose_value_type{};
  std::string item_type{};            // sequence
  std::vector<std::string> one_of{};  // one_of: the alternatives (allowed-values become string constants)
  std::string constant{};             // string: the one value it matches, when set
  bool require_non_empty{false};      // string
  bool is_expression{false};          // string: the value is an expression even without ${{ }}
};

class workflow_schema {
 public:
  // Reads the schema's JSON text: its `definitions`, plus the built-in null, boolean, number,
  // string, sequence, mapping and any that the published file takes for granted. The error names
  // the definition that cannot be read, or one that names a definition that does not exist.
  static boost::system::result<workflow_schema, std::string> parse(std::string_view json);

  // The schema of the pinned @actions/workflow-parser, compiled into the binary; read once.
  static const workflow_schema& github();

  // Null when the schema has no such definition.
  const schema_definition* find(std::string_view name) const;
  const schema_definition& at(std::string_view name) const;  // throws std::out_of_range
  std::size_t size() const { return definitions_.size(); }

 private:
  std::map<std::string, schema_definition, std::less<>> definitions_{};
};

}  // namespace redundancy::github
