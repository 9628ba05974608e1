// Run by write_json_ecosystem (src/pm2/ecosystem.cpp) as `node -e <this text> FILE OUT`.
// Writes every app with an absolute cwd (against the file's folder) and, when it names a file that
// exists, an absolute script; keeps every other setting. Mode 0600: the env values are secrets.
const fs = require('fs'), path = require('path');
const file = path.resolve(process.argv[1]), out = path.resolve(process.argv[2]);
let m;
try { m = require(file); } catch (e) {
  process.stderr.write(String((e && e.message) || e).split('\n')[0].slice(0, 300));
  process.exit(2);
}
if (m && m.__esModule && m.default) m = m.default;
let apps = Array.isArray(m) ? m : (m && m.apps);
if (apps && !Array.isArray(apps)) apps = [apps];
if (!Array.isArray(apps)) { process.stderr.write('exports no "apps" array'); process.exit(3); }
const dir = path.dirname(file);
const res = apps.filter(a => a && typeof a === 'object').map(a => {
  const c = Object.assign({}, a);
  c.cwd = path.resolve(dir, typeof a.cwd === 'string' ? a.cwd : '.');
  if (typeof a.script === 'string') {
    const s = path.resolve(c.cwd, a.script);
    if (fs.existsSync(s)) c.script = s;
    if (!c.name) c.name = path.basename(a.script, path.extname(a.script));
  }
  return c;
});
fs.mkdirSync(path.dirname(out), { recursive: true, mode: 0o700 });
const tmp = out + '.tmp';
fs.writeFileSync(tmp, JSON.stringify({ apps: res }, null, 2), { mode: 0o600 });
fs.chmodSync(tmp, 0o600);
fs.renameSync(tmp, out);
process.stdout.write(out);
