#!/usr/bin/env node
// Measures PM2's fast path against `pm2 jlist` with a real pm2 (build/npm) under a private PM2_HOME:
//  1. CPU per PM2 check with 10, 100 and 1,000 apps inside our running daemon (pm2.interval 1s, checks
//     counted by /metrics): ours (with the `pm2 jlist` children it reaps) plus the PM2 daemon's, over
//     rpc.sock (pm2.transport "socket") vs `pm2 jlist` (pm2.transport "cli").
//  2. Time from an expected app turning `errored` (PM2's `restart overlimit` broadcast, max_restarts
//     reached) to the start of our daemon's recovery that runs `pm2 restart`, with pm2.transport "auto"
//     (events) and "cli" (polling only, pm2.interval 30s).
// Usage: tools/bench.d/pm2_transport.mjs [--apps 10,100,1000] [--rounds 5] [--json FILE]   (BUILD_DIR, default build/)
// Each CPU figure of a round is the mean over a 10 s window of checks (/proc counts in 10 ms ticks);
// each latency round is one errored app. Prints one line per figure (the median of the rounds) and, with --json, writes
// every round's values for tools/bench. Everything it starts is killed at the end (pm2 kill, the
// daemon's process group).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const build = path.resolve(root, process.env.BUILD_DIR || 'build');
const pm2Bin = path.join(build, 'npm/node_modules/.bin/pm2');
const ours = path.join(build, 'redundancy');
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const appCounts = arg('--apps', '10,100,1000').split(',').map(Number);
const rounds = Number(arg('--rounds', '5'));
const jsonOut = arg('--json', '');
const windowMs = 10000;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const tick = 100;  // USER_HZ: /proc times are in clock ticks
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const figures = { cpu: {}, latency: {} };
const home = fs.mkdtempSync('/tmp/rpb-');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpb-project-'));
const env = { ...process.env, PM2_HOME: home, PM2_SILENT: 'true' };
const pm2 = (...args) => spawnSync(pm2Bin, args, { env, cwd: dir, encoding: 'utf8', timeout: 600000, maxBuffer: 1 << 30 });
const cpuOf = (pid) => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / tick; };
const cpuWithChildren = (pid) => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / tick; };
const daemonPid = () => Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8'));

function writeConfig(file, pm2Section) {
  fs.writeFileSync(file, JSON.stringify({
    project_dir: dir, state_dir: path.join(dir, 'state'), log_dir: path.join(dir, 'logs'),
    http: { listen: '127.0.0.1:0' },
    pm2: { command: pm2Bin, home, ecosystem_files: [], ...pm2Section },
    github: { enabled: false }, netlify: { enabled: false },
  }));
}

// Our daemon on `cfg`, in a process group of its own; resolves once it has written its address.
async function startDaemon(cfg) {
  fs.rmSync(path.join(dir, 'state'), { recursive: true, force: true });
  const proc = spawn(ours, ['run', '--config', cfg], { env, detached: true, stdio: 'ignore' });
  let addr;
  for (let i = 0; i < 300 && !addr; i++) { await sleep(100); try { addr = fs.readFileSync(path.join(dir, 'state/http.addr'), 'utf8').trim(); } catch {} }
  if (!addr) throw new Error('our daemon wrote no address');
  return { proc, addr };
}

async function stopDaemon(d) {
  try { process.kill(-d.proc.pid, 'SIGTERM'); } catch {}
  await sleep(1500);
  try { process.kill(-d.proc.pid, 'SIGKILL'); } catch {}
}

// Finished PM2 checks, from /metrics.
async function pm2Checks(addr) {
  const text = await (await fetch(`http://${addr}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('redundancy_checks_total{') && l.includes('subsystem="pm2"'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

// CPU seconds per PM2 check inside our running daemon (pm2.interval 1s): ours, with the children it
// reaped (each `pm2 jlist`), and the PM2 daemon's; one value per round, each a window of checks.
async function cpuPerCheck(transport) {
  const cfg = path.join(dir, `check-${transport}.json`);
  writeConfig(cfg, { transport, interval: '1s', processes: [] });
  const d = await startDaemon(cfg);
  const ours = [], daemon = [];
  try {
    while ((await pm2Checks(d.addr)) < 2) await sleep(100);
    for (let r = 0; r < rounds; r++) {
      const n0 = await pm2Checks(d.addr), o0 = cpuWithChildren(d.proc.pid), p0 = cpuOf(daemonPid());
      await sleep(windowMs);
      const n1 = await pm2Checks(d.addr), o1 = cpuWithChildren(d.proc.pid), p1 = cpuOf(daemonPid());
      ours.push((o1 - o0) / (n1 - n0));
      daemon.push((p1 - p0) / (n1 - n0));
    }
  } finally {
    await stopDaemon(d);
  }
  return { ours, daemon, total: ours.map((x, i) => x + daemon[i]) };
}

async function cpuFigures() {
  // Cheap apps: `sleep` itself, no Node per app, so 1,000 fit on a small machine.
  let started = 0;
  for (const n of appCounts) {
    const eco = path.join(dir, `sleepers-${n}.config.json`);
    const apps = [];
    for (let i = started; i < n; i++) apps.push({ name: `s${i}`, script: 'sleep', args: '100000', interpreter: 'none', autorestart: false });
    if (apps.length) { fs.writeFileSync(eco, JSON.stringify({ apps })); pm2('start', eco); }
    started = n;
    await sleep(2000);
    const rpc = await cpuPerCheck('socket');
    const cli = await cpuPerCheck('cli');
    figures.cpu[n] = { rpc, jlist: cli };
    const m = (x) => median(x).toFixed(3);
    console.log(`pm2 check cpu, ${n} apps: rpc ${m(rpc.total)} s (ours ${m(rpc.ours)} + pm2 ${m(rpc.daemon)}), ` +
                `jlist ${m(cli.total)} s (ours ${m(cli.ours)} + pm2 ${m(cli.daemon)}), ` +
                `rpc/jlist ${(median(rpc.total) / median(cli.total)).toFixed(3)}`);
  }
  pm2('delete', 'all');
}

// Waits for PM2's `restart overlimit` of `app` on pub.sock; resolves with its wall-clock time.
function overlimitAt(app) {
  return new Promise((resolve) => {
    const sock = net.connect(path.join(home, 'pub.sock'));
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.includes('"restart overlimit"') && buf.includes(`"name":"${app}"`)) { resolve(Date.now()); sock.destroy(); }
    });
  });
}

async function latency(transport, interval) {
  const counter = path.join(dir, 'count');
  fs.writeFileSync(counter, '0');
  fs.copyFileSync(path.join(root, 'test/fixtures/pm2/apps/crash_count.js'), path.join(dir, 'crash_count.js'));
  const eco = path.join(dir, 'flaky.config.json');
  fs.writeFileSync(eco, JSON.stringify({ apps: [{ name: 'flaky', script: path.join(dir, 'crash_count.js'), max_restarts: 3, min_uptime: 60000, env: { COUNTER: counter } }] }));
  pm2('start', eco);
  pm2('save');  // without a dump.pm2 the check warns (degraded), and only a healthy start is timed
  const cfg = path.join(dir, `daemon-${transport}.json`);
  writeConfig(cfg, { transport, interval, restart_delay: '1s', ecosystem_files: [eco] });
  const daemon = await startDaemon(cfg);
  try {
    const addr = daemon.addr;
    const get = async (p) => (await fetch(`http://${addr}${p}`)).json();
    for (let i = 0; i < 300; i++) { const s = await get('/api/subsystems/pm2'); if (s.status === 'healthy') break; await sleep(100); }
    await sleep(1000);
    fs.writeFileSync(counter, '3');
    const errored = overlimitAt('flaky');
    const list = JSON.parse(pm2('jlist').stdout.split('\n').pop());
    process.kill(list.find((a) => a.name === 'flaky').pid, 'SIGKILL');
    const t0 = await errored;
    for (let i = 0; i < 1200; i++) {
      const { actions } = await get('/api/actions');
      const a = actions.find((x) => x.kind === 'recover' && JSON.stringify(x.steps || []).includes('pm2 restart flaky'));
      if (a) return Date.parse(a.started_at) - t0;
      await sleep(100);
    }
    return NaN;
  } finally {
    await stopDaemon(daemon);
    pm2('delete', 'all');
  }
}

try {
  if (!fs.existsSync(pm2Bin) || !fs.existsSync(ours)) throw new Error(`need ${pm2Bin} and ${ours}: run tools/bootstrap`);
  pm2('ping');
  await cpuFigures();
  for (const [key, transport, interval, how] of [['events', 'auto', '60s', 'events (pm2.transport auto, interval 60s)'],
                                                 ['polling', 'cli', '30s', 'polling only (pm2.transport cli, interval 30s)']]) {
    figures.latency[key] = [];
    for (let r = 0; r < rounds; r++) figures.latency[key].push(await latency(transport, interval));
    console.log(`errored -> restart started, ${how}: ${median(figures.latency[key])} ms`);
  }
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(figures));
} finally {
  pm2('kill');
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
}
