// Run by check_syntax_all (src/netlify/checks.cpp) as `node --experimental-vm-modules -e <this text> FILE...`.
// Compiles each file named on the command line without running it and prints "ok FILE" for those that
// compile. Anything else (a syntax error, an unreadable file or package.json, a node without
// vm.SourceTextModule) prints nothing for that file: check_syntax decides it.
const fs = require('node:fs'), path = require('node:path'), vm = require('node:vm'), { wrap } = require('node:module');
const types = new Map();
function packageType(dir) {
  if (types.has(dir)) return types.get(dir);
  let type;
  const file = path.join(dir, 'package.json');
  if (fs.existsSync(file)) type = JSON.parse(fs.readFileSync(file, 'utf8')).type === 'module' ? 'module' : 'commonjs';
  else type = path.dirname(dir) === dir ? 'commonjs' : packageType(path.dirname(dir));
  types.set(dir, type);
  return type;
}
let out = '';
for (const file of process.argv.slice(1)) {
  try {
    const source = fs.readFileSync(file, 'utf8');
    const esm = file.endsWith('.mjs') || (!file.endsWith('.cjs') && packageType(path.dirname(file)) === 'module');
    if (esm) new vm.SourceTextModule(source, { identifier: file });
    else new vm.Script(wrap(source), { filename: file });
    out += 'ok ' + file + '\n';
  } catch {}
}
process.stdout.write(out);
