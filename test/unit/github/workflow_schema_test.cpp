// Workflow validation by GitHub's published schema: each kind of rule the schema holds (unknown and
// missing keys, one-of alternatives, types, allowed values, where expressions may stand and which
// contexts they may name) found on its line and column, in the words of the key and what it takes.
// workflow_schema_valid_test.cpp has the valid workflows.
#define BOOST_TEST_MODULE github_workflow_schema
#include "redundancy/github/workflow_schema.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>

#include "redundancy/github/expression_names.hpp"
#include "redundancy/github/workflow.hpp"
#include "redundancy/github/workflow_schema_check.hpp"

using namespace redundancy::github;

namespace {

workflow parse(const std::string& text) { return parse_workflow(text, "t.yml"); }

std::string all(const workflow& w) {
  std::string s;
  for (const auto& p : w.problems) s += p + "\n";
  return s;
}

bool has(const workflow& w, std::string_view text) {
  return std::any_of(w.problems.begin(), w.problems.end(),
                     [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

std::vector<schema_problem> check(const std::string& text) {
  return check_against_schema(YAML::Load(text), workflow_schema::github());
}

// A valid job to append to `on: ...` lines.
const std::string one_job = "jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n";

}  // namespace

BOOST_AUTO_TEST_CASE(the_embedded_schema_is_githubs) {
  const auto& schema = workflow_schema::github();
  BOOST_TEST(schema.size() > 300u);
  BOOST_REQUIRE(schema.find(workflow_root_definition));
  const auto& root = schema.at(workflow_root_definition);
  BOOST_TEST(root.properties.at("on").required);
  BOOST_TEST(root.properties.at("jobs").required);
  BOOST_TEST(!root.properties.at("name").required);
  // allowed-values become string constants, as GitHub's reader makes them.
  const auto& level = schema.at("permission-level-any");
  BOOST_TEST((level.k == schema_definition::kind::one_of));
  BOOST_TEST(schema.at(level.one_of[0]).constant == "read");
  const auto& concurrency = schema.at("job-concurrency").context;
  BOOST_TEST((std::find(concurrency.begin(), concurrency.end(), "secrets") == concurrency.end()));
}

BOOST_AUTO_TEST_CASE(a_schema_that_names_a_missing_definition_is_refused) {
  auto parsed = workflow_schema::parse(R"({"definitions": {"root": {"mapping": {"properties": {"a": "nope"}}}}})");
  BOOST_REQUIRE(!parsed);
  BOOST_TEST(parsed.error() == "the schema cannot be read: root.properties.a refers to 'nope', which is not defined");
  BOOST_TEST(!workflow_schema::parse("{not json"));
  BOOST_TEST(!workflow_schema::parse(R"({"definitions": {"x": {"mapping": {}, "string": {}}}})"));
}

BOOST_AUTO_TEST_CASE(a_small_schema_is_interpreted_rule_by_rule) {
  auto schema = workflow_schema::parse(R"({"definitions": {
    "root": {"mapping": {"properties": {"size": {"type": "size", "required": true}, "tags": "tags",
                                        "when": "when"}}},
    "size": {"allowed-values": ["small", "large"]},
    "tags": {"sequence": {"item-type": "non-empty"}},
    "non-empty": {"string": {"require-non-empty": true}},
    "when": {"context": ["clock"], "one-of": ["number", "boolean"]}}})");
  BOOST_REQUIRE_MESSAGE(schema.has_value(), schema.error());
  auto problems = [&](const char* text) { return check_against_schema(YAML::Load(text), *schema, "root"); };
  BOOST_TEST(problems("size: small\ntags: [a, b]\nwhen: ${{ clock.now }}\n").empty());
  BOOST_TEST(problems("size: large\nwhen: 5\n").empty());
  auto p = problems("size: medium\ntags: [a, '']\nwhen: ${{ sun.up }}\nextra: 1\n");
  BOOST_REQUIRE(p.size() == 4u);
  BOOST_TEST(p[0].line == 1);
  BOOST_TEST(p[0].column == 7);
  BOOST_TEST(p[0].message == "'medium' is not allowed here: expected one of 'small', 'large'");
  BOOST_TEST(p[1].path == "tags[1]");
  BOOST_TEST(p[1].message == "'' is not allowed here: expected a non-empty string");
  BOOST_TEST(p[2].message ==
             "the expression 'sun.up' uses the context 'sun', which is not available here (available: clock)");
  BOOST_TEST(p[3].message == "unknown key 'extra'; the keys allowed here are size, tags, when");
  p = problems("tags: a\nwhen: soon\n");
  BOOST_REQUIRE(p.size() == 3u);
  BOOST_TEST(p[0].message == "'a' is not allowed here: expected a list");
  BOOST_TEST(p[1].message == "'soon' is not allowed here: expected a number or a boolean (true or false)");
  BOOST_TEST(p[2].message == "the required key 'size' is missing");
}

BOOST_AUTO_TEST_CASE(an_is_expression_string_takes_an_expression_without_contexts) {
  auto schema = workflow_schema::parse(R"({"definitions": {
    "root": {"mapping": {"properties": {"formula": "formula", "label": "string"}}},
    "formula": {"string": {"is-expression": true}}}})");
  BOOST_REQUIRE_MESSAGE(schema.has_value(), schema.error());
  BOOST_TEST(check_against_schema(YAML::Load("formula: ${{ 1 }}\n"), *schema, "root").empty());
  const auto p = check_against_schema(YAML::Load("label: ${{ 1 }}\n"), *schema, "root");
  BOOST_REQUIRE(p.size() == 1u);
  BOOST_TEST(p[0].message == "an expression ('${{ 1 }}') is not allowed here: this key takes a string");
}

BOOST_AUTO_TEST_CASE(an_unknown_key_at_the_top_level) {
  const auto w = parse("on: push\nname: x\nrun-nme: y\n" + one_job);
  BOOST_TEST(w.problems.size() == 1u, all(w));
  BOOST_TEST(has(w,
                 "t.yml:3:1: unknown key 'run-nme' (did you mean 'run-name'?); the keys allowed here are concurrency, "
                 "defaults, "
                 "description, env, jobs, name, on, permissions, run-name"),
             all(w));
}

BOOST_AUTO_TEST_CASE(an_unknown_key_in_a_job_and_in_a_step) {
  const auto w = parse(
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout: 5\n    steps:\n"
      "      - uses: actions/checkout@v4\n        wth:\n          depth: 1\n");
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w, "t.yml:5:5: jobs.a: unknown key 'timeout'"), all(w));
  BOOST_TEST(has(w,
                 "t.yml:8:9: jobs.a.steps[0]: unknown key 'wth' (did you mean 'with'?); the keys allowed here are "
                 "continue-on-error, "
                 "env, id, if, name, timeout-minutes, uses, with"),
             all(w));
}

BOOST_AUTO_TEST_CASE(working_directory_on_a_uses_step) {
  const auto w = parse(
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
      "      - uses: actions/checkout@v4\n        working-directory: web\n");
  BOOST_TEST(w.problems.size() == 1u, all(w));
  BOOST_TEST(has(w, "t.yml:7:9: jobs.a.steps[0]: unknown key 'working-directory'"), all(w));
}

BOOST_AUTO_TEST_CASE(a_job_needs_runs_on_unless_it_calls_a_reusable_workflow) {
  auto p = check("on: push\njobs:\n  build:\n    steps:\n      - run: make\n");
  BOOST_REQUIRE(p.size() == 1u);
  BOOST_TEST(p[0].line == 3);
  BOOST_TEST(p[0].path == "jobs.build");
  BOOST_TEST(p[0].message == "the required key 'runs-on' is missing");
  BOOST_TEST(check("on: push\njobs:\n  call:\n    uses: ./.github/workflows/x.yml\n    with:\n      a: 1\n").empty());
  // Both kinds of job at once: the first key decides which one it is.
  const auto w = parse("on: push\njobs:\n  call:\n    uses: ./.github/workflows/x.yml\n    runs-on: ubuntu-latest\n");
  BOOST_TEST(has(w, "t.yml:5:5: jobs.call: unknown key 'runs-on'"), all(w));
  // Neither: the reader's messages for it stand alone.
  const auto n = parse("on: push\njobs:\n  a:\n    name: x\n");
  BOOST_TEST(has(n, "t.yml:3: jobs.a: a job needs 'runs-on'"), all(n));
  BOOST_TEST(!has(n, "cannot tell"), all(n));
}

BOOST_AUTO_TEST_CASE(a_step_with_neither_run_nor_uses_says_what_would_decide) {
  auto p = check("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - name: what\n");
  BOOST_REQUIRE(p.size() == 1u);
  BOOST_TEST(p[0].line == 6);
  BOOST_TEST(p[0].message.find("cannot tell what this is meant to be: add one of the keys") == 0u, p[0].message);
  BOOST_TEST(p[0].message.find("run") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(branches_under_release) {
  const auto w = parse("on:\n  release:\n    branches: [main]\n" + one_job);
  BOOST_TEST(w.problems.size() == 1u, all(w));
  BOOST_TEST(has(w, "t.yml:3:5: on.release: unknown key 'branches'; the keys allowed here are types"), all(w));
}

BOOST_AUTO_TEST_CASE(env_as_one_expression_where_a_mapping_is_required) {
  const auto w = parse(
      "on: push\nenv: ${{ fromJSON(vars.ENV) }}\njobs:\n  a:\n    runs-on: x\n    env: ${{ fromJSON(vars.ENV) }}\n"
      "    steps:\n      - run: echo\n        env: ${{ fromJSON(vars.ENV) }}\n");
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w, "t.yml:6: jobs.a.env: must be a map of variables, not one expression"), all(w));
  BOOST_TEST(has(w, "t.yml:9: jobs.a.steps[0].env: must be a map of variables, not one expression"), all(w));
}

BOOST_AUTO_TEST_CASE(a_wrong_type) {
  const auto w = parse(
      "on: push\njobs:\n  a:\n    runs-on: x\n    continue-on-error: maybe\n    strategy:\n      fail-fast: [no]\n"
      "    steps:\n      - run: [echo]\n        timeout-minutes: '5'\n");
  BOOST_TEST(has(w, "t.yml:5:24: jobs.a.continue-on-error: 'maybe' is not allowed here: expected a boolean"), all(w));
  BOOST_TEST(has(w, "t.yml:7:18: jobs.a.strategy.fail-fast: a list is not allowed here: expected a boolean"), all(w));
  BOOST_TEST(has(w, "t.yml:9: jobs.a.steps[0].run: must be a string"), all(w));  // the reader's, kept
  // A quoted number is a string, as GitHub's YAML 1.2 parser reads it (the reader took it for a number).
  BOOST_TEST(has(w, "t.yml:10:26: jobs.a.steps[0].timeout-minutes: '5' is not allowed here: expected a number"),
             all(w));
  BOOST_TEST(w.problems.size() == 4u, all(w));
}

BOOST_AUTO_TEST_CASE(a_value_outside_the_allowed_ones) {
  const auto w = parse("on: push\npermissions:\n  contents: readd\n  issues: write\n" + one_job);
  BOOST_TEST(w.problems.size() == 1u, all(w));
  BOOST_TEST(has(w,
                 "t.yml:3:13: permissions.contents: 'readd' is not allowed here (did you mean 'read'?): expected one "
                 "of 'read', "
                 "'write', 'none'"),
             all(w));
  const auto shorthand = parse("on: push\npermissions: read-everything\n" + one_job);
  BOOST_TEST(has(shorthand,
                 "t.yml:2:14: permissions: 'read-everything' is not allowed here: expected one of "
                 "'read-all', 'write-all' or a mapping"),
             all(shorthand));
}

BOOST_AUTO_TEST_CASE(an_expression_where_the_schema_allows_none) {
  const auto w = parse("on:\n  push:\n    branches: ${{ vars.BRANCH }}\n" + one_job);
  BOOST_TEST(w.problems.size() == 1u, all(w));
  BOOST_TEST(has(w,
                 "t.yml:3:15: on.push.branches: an expression ('${{ vars.BRANCH }}') is not allowed here: this "
                 "key takes a non-empty string or a list"),
             all(w));
}

BOOST_AUTO_TEST_CASE(an_expression_naming_a_context_its_key_does_not_offer) {
  const auto w = parse(
      "on: push\njobs:\n  a:\n    runs-on: ${{ hashFiles('x') }}\n    concurrency: deploy-${{ secrets.TOKEN }}\n"
      "    steps:\n      - run: echo ${{ hashFiles('x') }} ${{ secrets.TOKEN }}\n");
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w,
                 "t.yml:4:14: jobs.a.runs-on: the expression 'hashFiles('x')' calls 'hashFiles()', which is not "
                 "available here"),
             all(w));
  BOOST_TEST(has(w,
                 "t.yml:5:25: jobs.a.concurrency: the expression 'secrets.TOKEN' uses the context 'secrets', "
                 "which is not available here (available: github, inputs, vars, needs, strategy, matrix)"),
             all(w));
}

BOOST_AUTO_TEST_CASE(a_string_in_double_quotes_inside_an_expression) {
  const auto w = parse(
      "on: push\njobs:\n  a:\n    if: github.ref == \"refs/heads/main\"\n    runs-on: x\n    steps:\n"
      "      - run: echo\n        if: ${{ github.event_name == \"push\" && 'say \"hi\"' }}\n"
      "      - run: echo ${{ format('{0}', 'quoted \"inside\" single quotes') }}\n");
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w,
                 "t.yml:4:9: jobs.a.if: the expression 'github.ref == \"refs/heads/main\"' has the string "
                 "\"refs/heads/main\" in double quotes: GitHub's expressions take strings in single quotes "
                 "('refs/heads/main')"),
             all(w));
  BOOST_TEST(has(w, "t.yml:8:13: jobs.a.steps[0].if: the expression"), all(w));
}

BOOST_AUTO_TEST_CASE(plain_scalars_are_typed_as_yaml_1_2_types_them) {
  // timeout-minutes takes a number (or an expression): what GitHub's parser reads as one passes.
  auto timeout = [](const std::string& value) {
    return check("on: push\njobs:\n  a:\n    runs-on: x\n    timeout-minutes: " + value + "\n    steps: [run: echo]\n");
  };
  for (const char* number :
       {"5", "-5", "+5", "1.5", ".5", "5.", "1e3", "2.5E-1", "0x1F", "0o17", ".inf", "-.Inf", ".nan"})
    BOOST_TEST(timeout(number).empty(), number);
  for (const char* string : {"'5'", "\"5\"", "0x", "1e", "1.2.3", "five", "0b101", "1_000", "e5", "."})
    BOOST_TEST(timeout(string).size() == 1u, string);
  // A boolean or number is also a string where a string is expected.
  BOOST_TEST(check("on: push\nname: true\njobs:\n  a:\n    runs-on: 5\n    steps: [run: 1.5]\n").empty());
}

BOOST_AUTO_TEST_CASE(a_misspelt_name_gets_a_suggestion_and_long_lists_are_cut) {
  const auto w = parse("on:\n  pushh:\n  pull_request:\n    types: [reopend]\n" + one_job);
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w,
                 "t.yml:2:3: on: unknown key 'pushh' (did you mean 'push'?); the keys allowed here are "
                 "branch_protection_rule, check_run,"),
             all(w));
  BOOST_TEST(has(w, " more"), all(w));
  BOOST_TEST(has(w, "t.yml:4:13: on.pull_request.types[0]: 'reopend' is not allowed here (did you mean 'reopened'?)"),
             all(w));
}

BOOST_AUTO_TEST_CASE(an_if_without_braces_is_an_expression_all_the_same) {
  const auto w = parse(
      "on: push\njobs:\n  a:\n    if: steps.x.outputs.ok && always()\n    runs-on: x\n    steps:\n"
      "      - run: echo\n        if: secrets.TOKEN != '' && hashFiles('a') != ''\n"
      "      - run: echo\n        if: failure() || github.event_name == 'push'\n");
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w, "t.yml:4:9: jobs.a.if: the expression 'steps.x.outputs.ok && always()' uses the context 'steps'"),
             all(w));
  BOOST_TEST(has(w,
                 "t.yml:8:13: jobs.a.steps[0].if: the expression 'secrets.TOKEN != '' && hashFiles('a') != ''' "
                 "uses the context 'secrets'"),
             all(w));
}

BOOST_AUTO_TEST_CASE(keys_are_matched_in_their_case_and_the_other_case_is_suggested) {
  const auto w = parse("on: push\njobs:\n  a:\n    Runs-On: ubuntu-latest\n    steps:\n      - run: echo\n");
  BOOST_TEST(w.problems.size() == 2u, all(w));
  BOOST_TEST(has(w, "t.yml:3: jobs.a: a job needs 'runs-on'"), all(w));
  BOOST_TEST(has(w, "t.yml:4:5: jobs.a: unknown key 'Runs-On' (did you mean 'runs-on'?)"), all(w));
}

BOOST_AUTO_TEST_CASE(a_function_called_with_too_few_or_too_many_arguments) {
  const auto w = parse(
      "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ hashFiles() }}\n"
      "        if: ${{ success('now') }}\n      - run: echo ${{ contains(github.ref, 'main', 'x') }}\n"
      "      - run: echo ${{ case(github.ref == 'main', 'prod', 'dev') }} ${{ format('{0}', join(fromJSON('[1]'))) "
      "}}\n");
  BOOST_TEST(w.problems.size() == 3u, all(w));
  BOOST_TEST(has(w,
                 "t.yml:6:19: jobs.a.steps[0].run: the expression 'hashFiles()' calls 'hashFiles()' with 0 "
                 "arguments; it takes 1 to 255"),
             all(w));
  BOOST_TEST(has(w,
                 "t.yml:7:13: jobs.a.steps[0].if: the expression 'success('now')' calls 'success()' with 1 "
                 "argument; it takes 0"),
             all(w));
  BOOST_TEST(has(w,
                 "jobs.a.steps[1].run: the expression 'contains(github.ref, 'main', 'x')' calls 'contains()' with "
                 "3 arguments; it takes 2"),
             all(w));
}

BOOST_AUTO_TEST_CASE(an_unclosed_expression) {
  const auto w = parse("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ github.sha\n");
  BOOST_TEST(has(w, "t.yml:6:14: jobs.a.steps[0].run: the expression is not closed"), all(w));
}

BOOST_AUTO_TEST_CASE(a_key_given_twice_whatever_its_case) {
  const auto w = parse("on: push\njobs:\n  a:\n    runs-on: x\n    RUNS-ON: y\n    steps:\n      - run: echo\n");
  BOOST_TEST(has(w, "t.yml:5:5: jobs.a.RUNS-ON: 'RUNS-ON' is already defined"), all(w));
}

BOOST_AUTO_TEST_CASE(expression_names_skip_properties_literals_and_strings) {
  const auto names = names_in_expression(
      "github.event.pull_request.title && contains(needs.*.result, 'x.y')"
      " || fromJSON(inputs.n)[matrix.i] == 0x1F || true");
  BOOST_TEST(names.contexts == (std::vector<std::string>{"github", "needs", "inputs", "matrix"}));
  BOOST_TEST(names.functions == (std::vector<std::string>{"contains", "fromJSON"}));
  BOOST_REQUIRE(names.calls.size() == 2u);
  BOOST_TEST(names.calls[0].arguments == 2u);
  BOOST_TEST(names.calls[1].arguments == 1u);
  BOOST_TEST(names_in_expression("always()").calls[0].arguments == 0u);
  BOOST_TEST(names_in_expression("format('{0},{1}', a[0], fromJSON('[1, 2]'))").calls[0].arguments == 3u);
  BOOST_TEST(schema_function_arity("hashFiles(1,255)")->max == 255u);
  BOOST_TEST(schema_function_arity("failure(0,MAX)")->max == 255u);
  BOOST_TEST(!schema_function_arity("github"));
  BOOST_TEST(is_always_available_function("case"));
  BOOST_TEST(is_always_available_function("ToJson"));
  BOOST_TEST(!is_always_available_function("hashFiles"));
}
