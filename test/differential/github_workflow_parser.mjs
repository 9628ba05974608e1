// GitHub's reference workflow parser (@actions/workflow-parser, pinned in package.json and installed
// into $REDUNDANCY_BUILD_DIR/npm by tools/bootstrap) over the workflow files named on the command
// line: one JSON line per file, {"file", "valid", "errors": ["line:col: message", ...]}. Run by
// test/unit/github/workflow_differential_test.cpp, which compares its verdicts with ours.
//   REDUNDANCY_BUILD_DIR=build node test/differential/github_workflow_parser.mjs a.yml b.yml
import { register } from "node:module";
import { readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

// The package imports its schema as `import schema from "./workflow-v1.0.min.json"`, which bundlers
// accept and node does not (it wants `with { type: "json" }`): load such JSON as a module here.
const jsonLoader = `
export async function load(url, context, next) {
  if (url.endsWith(".json") && !context.importAttributes?.type) {
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(new URL(url), "utf8");
    return { format: "module", source: "export default " + text + ";", shortCircuit: true };
  }
  return next(url, context);
}`;
register("data:text/javascript," + encodeURIComponent(jsonLoader));

const buildDir = process.env.REDUNDANCY_BUILD_DIR ?? "build";
const entry = join(resolve(buildDir), "npm/node_modules/@actions/workflow-parser/dist/index.js");
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import(pathToFileURL(entry).href);

for (const file of process.argv.slice(2)) {
  const content = readFileSync(file, "utf8");
  const parsed = parseWorkflow({ name: basename(file), content }, new NoOperationTraceWriter());
  // The checks beyond the schema (needs, job ids, cron, ...) are the converter's; reusable workflows
  // are not fetched, as the daemon does not fetch them either.
  if (parsed.value !== undefined)
    await convertWorkflowTemplate(parsed.context, parsed.value, undefined, { fetchReusableWorkflowDepth: 0 });
  const errors = parsed.context.errors.getErrors().map(e => {
    const start = e.range?.start;
    return (start ? `${start.line}:${start.column}: ` : "") + e.message;
  });
  console.log(JSON.stringify({ file, valid: errors.length === 0, errors }));
}
