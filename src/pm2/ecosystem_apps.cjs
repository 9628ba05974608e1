// Run by src/pm2/ecosystem.cpp as `node -e <this text> MODE FILE [OUT]`, so process.argv[1] is MODE.
// Loads the ecosystem module the way PM2 does (require); exit 2: the file does not load; 3: it exports
// no apps.
//   read FILE        prints the part of each app we need (read_ecosystem): env keys only, never their values
//   write FILE OUT   writes every app with an absolute cwd (against the file's folder) and, when it names a
//                    file that exists, an absolute script, keeping every other setting (write_json_ecosystem);
//                    mode 0600: the env values are secrets
const fs = require('fs'), path = require('path');
const mode = process.argv[1];
const file = path.resolve(process.argv[2]);
let m;
try { m = require(file); } catch (e) {
  process.stderr.write(String((e && e.message) || e).split('\n')[0].slice(0, 300));
  process.exit(2);
}
if (m && m.__esModule && m.default) m = m.default;
let apps = Array.isArray(m) ? m : (m && m.apps);
if (apps && !Array.isArray(apps)) apps = [apps];
if (!Array.isArray(apps)) { process.stderr.write('exports no "apps" array'); process.exit(3); }

function read() {
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
}

function write(out) {
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
}

if (mode === 'read') read();
else if (mode === 'write') write(path.resolve(process.argv[3]));
else { process.stderr.write('unknown mode ' + mode); process.exit(4); }
