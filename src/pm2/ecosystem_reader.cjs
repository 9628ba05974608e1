// Run by read_ecosystem (src/pm2/ecosystem.cpp) as `node -e <this text> FILE`, so process.argv[1] is FILE.
// Loads the module the way PM2 does (require) and prints the part of each app we need: env keys only,
// never their values. Exit 2: the file does not load; 3: it exports no apps.
const path = require('path');
const file = path.resolve(process.argv[1]);
let m;
try { m = require(file); } catch (e) {
  process.stderr.write(String((e && e.message) || e).split('\n')[0].slice(0, 300));
  process.exit(2);
}
if (m && m.__esModule && m.default) m = m.default;
let apps = Array.isArray(m) ? m : (m && m.apps);
if (apps && !Array.isArray(apps)) apps = [apps];
if (!Array.isArray(apps)) { process.stderr.write('exports no "apps" array'); process.exit(3); }
const str = v => (v === undefined || v === null) ? null : String(v);
const out = apps.map(a => {
  if (!a || typeof a !== 'object') return null;
  const script = str(a.script);
  const name = str(a.name) || (script ? path.basename(script, path.extname(script)) : null);
  return { name, script, cwd: str(a.cwd),
           args: Array.isArray(a.args) ? a.args.map(String) : (a.args == null ? [] : String(a.args).split(' ').filter(Boolean)),
           exec_mode: str(a.exec_mode), instances: str(a.instances), max_memory_restart: str(a.max_memory_restart),
           env_keys: Object.keys((a.env && typeof a.env === 'object') ? a.env : {}) };
});
process.stdout.write('\n' + JSON.stringify(out));
