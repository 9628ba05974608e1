// The expression subset of the local runner: substitution, conditions, status functions, refusals.
#define BOOST_TEST_MODULE github_expressions
#include "redundancy/github/expressions.hpp"

#include <boost/test/unit_test.hpp>

using namespace redundancy::github;

namespace {

expression_context sample(std::set<std::string>* used = nullptr) {
  expression_context c;
  c.env = {{"NAME", "world"}, {"EMPTY", ""}};
  c.github = {{"sha", "abc123"}, {"event_name", "workflow_dispatch"}};
  c.inputs = {{"mode", "full"}};
  c.matrix = {{"node", "20"}};
  c.step_outputs = {{"prep", {{"version", "1.2"}}}};
  c.step_outcomes = {{"prep", "success"}};
  c.secret = [](const std::string& name) -> std::optional<std::string> {
    if (name == "TOKEN") return std::string("s3cr3t-value");
    return std::nullopt;
  };
  c.used_secrets = used;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(substitutes_contexts) {
  std::set<std::string> used;
  const auto c = sample(&used);
  auto s = substitute(
      "hi ${{ env.NAME }} at ${{github.sha}} ${{ inputs.mode }} node${{ matrix.node }} "
      "v${{ steps.prep.outputs.version }} [${{ env.MISSING }}] ${{ secrets.TOKEN }}",
      c);
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST(*s == "hi world at abc123 full node20 v1.2 [] s3cr3t-value");
  BOOST_TEST(used.count("s3cr3t-value") == 1u);
  BOOST_TEST(mask_secrets(*s, used) == "hi world at abc123 full node20 v1.2 [] ***");
}

BOOST_AUTO_TEST_CASE(refuses_what_it_cannot_evaluate) {
  const auto c = sample();
  auto s = substitute("${{ hashFiles('**/package-lock.json') }}", c);
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error().find("hashfiles() is not supported") != std::string::npos, s.error());
  auto t = substitute("${{ vars.X }}", c);
  BOOST_REQUIRE(!t.has_value());
  BOOST_TEST(t.error().find("'vars' is not available") != std::string::npos, t.error());
  BOOST_TEST(!evaluate_condition("github.sha ==", c).has_value());
  BOOST_TEST(!substitute("${{ env.NAME", c).has_value());
}

BOOST_AUTO_TEST_CASE(status_functions) {
  auto c = sample();
  BOOST_TEST(*evaluate_condition("", c));
  BOOST_TEST(*evaluate_condition("success()", c));
  BOOST_TEST(!*evaluate_condition("failure()", c));
  BOOST_TEST(*evaluate_condition("${{ always() }}", c));
  c.job_failed = true;
  BOOST_TEST(!*evaluate_condition("", c));
  BOOST_TEST(*evaluate_condition("failure()", c));
  BOOST_TEST(*evaluate_condition("always()", c));
  BOOST_TEST(*evaluate_condition("!cancelled()", c));
  // Without a status function success() is implied, so a true comparison does not run after a
  // failure.
  BOOST_TEST(!*evaluate_condition("env.NAME == 'world'", c));
  BOOST_TEST(uses_status_function("${{ failure() }}"));
  BOOST_TEST(uses_status_function("always ( )"));
  BOOST_TEST(!uses_status_function("success()"));
}

BOOST_AUTO_TEST_CASE(operators_and_comparisons) {
  const auto c = sample();
  BOOST_TEST(*evaluate_condition("env.NAME == 'WORLD'", c));  // comparisons ignore case, as on GitHub
  BOOST_TEST(!*evaluate_condition("env.NAME != 'world'", c));
  BOOST_TEST(*evaluate_condition("github.event_name == 'push' || inputs.mode == 'full'", c));
  BOOST_TEST(!*evaluate_condition("env.EMPTY && true", c));
  BOOST_TEST(*evaluate_condition("!(env.EMPTY) && steps.prep.outcome == 'success'", c));
  BOOST_TEST(*evaluate_condition("contains(env.NAME, 'orl') && startsWith(github.sha, 'abc')", c));
  BOOST_TEST(*substitute("${{ env.EMPTY || 'fallback' }}", c) == "fallback");
  BOOST_TEST(*substitute("${{ 'it''s' }}", c) == "it's");
}

BOOST_AUTO_TEST_CASE(each_line_of_a_multi_line_secret_is_masked_on_its_own) {
  const std::set<std::string> secrets{"-----BEGIN KEY-----\r\nAAAA1111\n\n  \nBBBB2222\n", "short"};
  BOOST_TEST(mask_secrets("line AAAA1111 and BBBB2222; BEGIN KEY? -----BEGIN KEY-----", secrets) ==
             "line *** and ***; BEGIN KEY? ***");
  BOOST_TEST(mask_secrets("a short  line", secrets) == "a ***  line");  // blank lines mask nothing
}
