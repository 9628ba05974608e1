// The dashboard in headless chromium against the real daemon watching a real PM2 (pinned, from
// <build>/npm): the cards show what /api/status says, an app that died shows down and comes back
// online through "Restart" with the token typed into the prompt, a wrong token is refused visibly,
// and a stopped daemon makes the page say it is unreachable. Screenshots go to <build>/e2e/.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { binary, buildDir, openBrowser, screenshot, screenshotsAtBothWidths, sourceDir } from './browser.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const APP = 'e2e-app';
const pm2Bin = join(buildDir, 'npm', 'node_modules', '.bin', 'pm2');

const dir = mkdtempSync(join(tmpdir(), 'redundancy-e2e-'));
// PM2 puts unix sockets in its home: a short path keeps them under the 108-byte limit.
const pm2Home = mkdtempSync('/tmp/rpm2-');
const token = randomBytes(16).toString('hex');
// The daemon reads every REDUNDANCY_* variable as a config override: it gets none but its token.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REDUNDANCY_') && k !== 'PM2_HOME'));
Object.assign(env, { PM2_HOME: pm2Home, REDUNDANCY_TOKEN: token });

let daemon = null;       // the ChildProcess of the redundancy daemon
let daemonExited = null; // resolves when it exits
let baseUrl = '';
let browser = null;
let page = null;

function pm2(...args) {
  return run(pm2Bin, args, { env, cwd: join(dir, 'project'), timeout: 60000 });
}

async function until(what, fn, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      if (e.fatal) throw e;
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

async function api(path) {
  const res = await fetch(new URL(path, baseUrl));
  return res.json();
}

function daemonLog() {
  try {
    return readFileSync(join(dir, 'daemon.log'), 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '';
  }
}

function writeFixture() {
  const project = join(dir, 'project');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'app.js'), "setInterval(() => {}, 1000); console.log('e2e app up');\n");
  writeFileSync(join(project, 'ecosystem.config.cjs'),
    `module.exports = { apps: [{ name: '${APP}', script: 'app.js', cwd: ${JSON.stringify(project)}, autorestart: false }] };\n`);
  const config = {
    project_dir: project,
    state_dir: join(dir, 'state'),
    log_dir: join(dir, 'logs'),
    http: { listen: '127.0.0.1:0', web_root: join(sourceDir, 'web') },
    pm2: { command: pm2Bin, home: pm2Home, interval: '2s', timeout: '30s', ecosystem_files: ['ecosystem.config.cjs'] },
    // Nothing leaves the machine: GitHub's API is a closed loopback port, no dispatch, no deploys.
    github: { api_url: 'http://127.0.0.1:9', dispatch: { enabled: false }, interval: '1h' },
    netlify: { auto_deploy: false, interval: '1h' },
    // Nothing repairs the app behind the test's back: only the dashboard's Restart brings it back.
    orchestrator: { auto_recovery: false },
  };
  writeFileSync(join(dir, 'redundancy.json'), JSON.stringify(config, null, 2));
}

async function startDaemon() {
  const log = openSync(join(dir, 'daemon.log'), 'a');
  daemon = spawn(binary, ['--config', join(dir, 'redundancy.json'), 'run'], { env, stdio: ['ignore', log, log] });
  daemonExited = new Promise((resolve) => daemon.once('exit', (code, signal) => resolve({ code, signal })));
  const addrFile = join(dir, 'state', 'http.addr');
  const addr = await until('the daemon to write http.addr', async () => {
    if (daemon.exitCode !== null) {
      throw Object.assign(new Error(`the daemon exited with ${daemon.exitCode}:\n${daemonLog()}`), { fatal: true });
    }
    return existsSync(addrFile) && readFileSync(addrFile, 'utf8').trim();
  }, 30000);
  baseUrl = `http://${addr}/`;
}

async function stopDaemon() {
  if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
  daemon.kill('SIGTERM');
  const done = await Promise.race([daemonExited, sleep(10000).then(() => null)]);
  if (!done) {
    daemon.kill('SIGKILL');
    await daemonExited;
  }
}

async function stopPm2() {
  await pm2('kill').catch(() => {});
  try {
    const pid = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8').trim());
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    // No pid file or no such process: PM2 is gone.
  }
}

before(async () => {
  assert.ok(existsSync(binary), `the daemon binary ${binary} is missing`);
  assert.ok(existsSync(pm2Bin), `${pm2Bin} is missing: tools/bootstrap installs the npm packages into ${join(buildDir, 'npm')}`);
  writeFixture();
  await pm2('start', 'ecosystem.config.cjs');
  await startDaemon();
  browser = await openBrowser();
  page = browser.page;
});

after(async () => {
  if (browser) await browser.close();
  await stopDaemon();
  await stopPm2();
  rmSync(dir, { recursive: true, force: true });
  rmSync(pm2Home, { recursive: true, force: true });
});

// The app's row in the PM2 table once the daemon reports `status` for it, in the API and on the page.
async function appRow(status) {
  await until(`the API to report ${APP} ${status}`, async () => {
    const s = await api('/api/status');
    const t = s.subsystems?.pm2?.targets?.find((x) => x.name === APP);
    return t && t.status === status;
  });
  const row = page.locator(`.targets[data-subsystem="pm2"] tr[data-target="${APP}"][data-status="${status}"]`);
  await row.waitFor({ timeout: 30000 });
  return row;
}

test('the page loads without console errors and its cards show what the API reports', async () => {
  await until('every subsystem to be checked once', async () => (await api('/api/status')).status !== 'starting');
  await page.goto(baseUrl);
  await page.locator('#overall-status').waitFor();
  const status = await api('/api/status');
  assert.ok(status.subsystems.pm2, `the daemon reports no pm2 subsystem:\n${daemonLog()}`);
  for (const key of ['pm2', 'github', 'netlify']) {
    const card = page.locator(`.card[data-subsystem="${key}"]`);
    const sub = status.subsystems[key];
    if (sub) {
      await page.locator(`.card[data-subsystem="${key}"][data-status="${sub.status}"]`).waitFor({ timeout: 15000 });
      assert.match(await card.locator('header .badge').innerText(), new RegExp(sub.status));
    } else {
      assert.match(await card.innerText(), /not enabled/);
    }
  }
  await appRow('healthy');
  assert.deepEqual(browser.consoleErrors, []);
});

test('an app that died shows down, and Restart with the token brings it back online', async () => {
  // Killed by its pid, not `pm2 stop` (an app a person stopped is left stopped on purpose): with
  // autorestart false PM2 leaves it stopped, and one interval later it is down.
  const { stdout: before } = await pm2('jlist');
  const pid = JSON.parse(before.slice(before.indexOf('['))).find((p) => p.name === APP)?.pid;
  assert.ok(pid > 0, `no pid for ${APP}`);
  process.kill(pid, 'SIGKILL');
  const down = await appRow('unhealthy');
  assert.match(await down.locator('td[data-label="Health"]').innerText(), /unhealthy/);
  assert.equal(await page.locator('.card[data-subsystem="pm2"]').getAttribute('data-status'), 'unhealthy');
  await page.locator('figure.timeline[data-subsystem="pm2"] rect.t-unhealthy').waitFor({ timeout: 15000 });
  await screenshot(page, 'dashboard-app-down-1280');

  // A wrong token: refused, visibly, and nothing restarted.
  await down.locator('button', { hasText: 'Restart' }).click();
  await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
  assert.match(await page.locator('#confirm-text').innerText(), new RegExp(`pm2 restart ${APP}`));
  await page.locator('#confirm-ok').click();
  await page.locator('#token-dialog').waitFor({ state: 'visible' });
  await page.locator('#token-input').fill('not-the-token');
  await page.locator('#token-ok').click();
  const refusal = page.locator('#progress li.refused');
  await refusal.waitFor({ timeout: 15000 });
  assert.match(await refusal.innerText(), /refused the token/);
  assert.equal((await api('/api/actions')).actions.filter((a) => a.kind === 'restart').length, 0);

  // The right token: the action runs to the end and the app is online again.
  await page.locator(`tr[data-target="${APP}"] button`, { hasText: 'Restart' }).click();
  await page.locator('#confirm-ok').click();
  await page.locator('#token-dialog').waitFor({ state: 'visible' });
  await page.locator('#token-input').fill(token);
  await page.locator('#token-ok').click();
  const outcome = page.locator('#progress li[data-action-id]');
  await outcome.waitFor({ timeout: 15000 });
  await page.locator('#progress li[data-action-id][data-outcome="succeeded"]').waitFor({ timeout: 90000 });
  await appRow('healthy');
  const { stdout } = await pm2('jlist');
  const listed = JSON.parse(stdout.slice(stdout.indexOf('['))).find((p) => p.name === APP);
  assert.equal(listed?.pm2_env?.status, 'online');
});

test('screenshots at 1280 and 375 px', async () => {
  await screenshotsAtBothWidths(page, 'dashboard', assert);
});

test('the console had no errors but the expected 401', () => {
  const unexpected = browser.consoleErrors.filter((m) => !/status of 401/.test(m));
  assert.deepEqual(unexpected, []);
});

test('a stopped daemon makes the page say it is unreachable', async () => {
  await stopDaemon();
  const banner = page.locator('#connection');
  await banner.waitFor({ state: 'visible', timeout: 30000 });
  assert.match(await banner.innerText(), /unreachable/);
});
