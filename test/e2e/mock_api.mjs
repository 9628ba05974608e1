// A stand-in for the daemon: serves web/ and canned API documents shaped like the real ones (see
// src/orchestrator/orchestrator.cpp and src/http/api.cpp), with a token, actions that finish after a
// moment, and a PM2 app that a restart brings back. `node mock_api.mjs [port]` runs it by hand.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

const iso = (msAgo) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');
const MIN = 60 * 1000;
const HOUR = 60 * MIN;

function initialState() {
  return {
    api: { status: 'unhealthy', reason: 'stopped: expected online', state: 'down', pid: 0, cpu_percent: 0, memory_bytes: 0, restarts: 3, uptime_seconds: 0, attempts_left: 2 },
    events: [
      { id: 1, ts: iso(20 * HOUR), subsystem: 'github', target: '', kind: 'status_changed', severity: 'warning', message: 'github is degraded: nightly.yml missed a tick', data: { status: 'degraded' } },
      { id: 2, ts: iso(19 * HOUR), subsystem: 'github', target: '', kind: 'status_changed', severity: 'info', message: 'github is healthy', data: { status: 'healthy' } },
      { id: 3, ts: iso(3 * HOUR), subsystem: 'netlify', target: '', kind: 'status_changed', severity: 'error', message: 'netlify is unhealthy: hello: syntax error', data: { status: 'unhealthy' } },
      { id: 4, ts: iso(2 * HOUR), subsystem: 'netlify', target: '', kind: 'status_changed', severity: 'info', message: 'netlify is healthy', data: { status: 'healthy' } },
      { id: 5, ts: iso(12 * MIN), subsystem: 'pm2', target: 'api', kind: 'status_changed', severity: 'error', message: 'pm2/api is unhealthy: stopped', data: { status: 'unhealthy' } },
      { id: 6, ts: iso(12 * MIN), subsystem: 'pm2', target: '', kind: 'status_changed', severity: 'error', message: 'pm2 is unhealthy: api: stopped', data: { status: 'unhealthy' } },
    ],
    actions: [
      { id: 1, kind: 'recover', subsystem: 'pm2', target: '', requested_by: 'auto', state: 'failed', created_at: iso(11 * MIN), started_at: iso(11 * MIN), finished_at: iso(10 * MIN), output_tail: '[PM2] Applying action restartProcessId on app [api]\n[PM2][ERROR] Process api exited\n', steps: [{ name: 'pm2 restart api', ok: false, detail: 'exit code 1' }], summary: 'could not restart api' },
    ],
    nextId: 2,
    startedAt: iso(22 * HOUR),
  };
}

function status(st) {
  const pm2Healthy = st.api.status === 'healthy';
  return {
    status: pm2Healthy ? 'degraded' : 'unhealthy',
    checked_at: iso(2000),
    emergency: { active: false, phase: 'normal', attempts: 0, max_attempts: 3, given_up: false },
    daemon: { version: '0.1.0-mock', pid: process.pid, started_at: st.startedAt, rss_bytes: 12345678 },
    subsystems: {
      pm2: {
        status: pm2Healthy ? 'healthy' : 'unhealthy', summary: pm2Healthy ? '2 apps online' : '1 of 2 apps down: api', checked_at: iso(2000), next_check_at: iso(-28000),
        consecutive_failures: pm2Healthy ? 0 : 2, last_check: { result: 'ok', duration_ms: 140 }, paused_until: null, running_action: null,
        targets: [
          { name: 'api', since: iso(12 * MIN), paused_until: null, kind: 'app', given_up: false, expected: true, ecosystem_file: '/srv/site/ecosystem.pm2.cjs', memory_percent: 0, ...st.api },
          { name: 'worker', status: 'healthy', reason: '', since: null, paused_until: null, kind: 'app', state: 'healthy', pid: 4242, cpu_percent: 1.5, memory_bytes: 73400320, memory_percent: 0.9, restarts: 0, uptime_seconds: 93784, attempts_left: 5, given_up: false, expected: true, ecosystem_file: null },
        ],
      },
      github: {
        status: 'degraded', summary: 'nightly.yml: last run failed', checked_at: iso(40000), next_check_at: iso(-20000), consecutive_failures: 0,
        last_check: { result: 'ok', duration_ms: 820 }, paused_until: null, running_action: null,
        targets: [
          { name: 'ci.yml', status: 'healthy', reason: '', since: null, paused_until: null, valid: true, problems: [], coverage: { runnable: 4, skipped: [] },
            last_runs: [{ status: 'completed', conclusion: 'success', started_at: iso(50 * MIN), url: 'https://github.com/example/site/actions/runs/1' }],
            consecutive_failures: 0, missed_ticks: 0, last_backup: null },
          { name: 'nightly.yml', status: 'degraded', reason: 'last run failed', since: iso(19 * HOUR), paused_until: null, valid: true, problems: [],
            coverage: { runnable: 2, skipped: ['actions/upload-artifact@v4 (needs GitHub)'] },
            last_runs: [{ status: 'completed', conclusion: 'failure', started_at: iso(7 * HOUR), url: 'https://github.com/example/site/actions/runs/2' },
              { status: 'completed', conclusion: 'success', started_at: iso(31 * HOUR), url: 'javascript:alert(1)' }],
            consecutive_failures: 1, missed_ticks: 0, last_backup: { at: iso(6 * HOUR), mode: 'local', ok: true, summary: 'ran 2 of 3 steps locally' }, future_key: { any: 'shape' } },
          { name: 'broken.yml', status: 'unhealthy', reason: 'invalid YAML', since: iso(3 * HOUR), paused_until: iso(-HOUR), valid: false,
            problems: ['jobs.build.steps[1]: "uses" and "run" both given'] },
        ],
      },
      netlify: {
        status: 'healthy', summary: '2 functions answering', checked_at: iso(70000), next_check_at: iso(-50000), consecutive_failures: 0,
        last_check: { result: 'ok', duration_ms: 2300 }, paused_until: null, running_action: null,
        targets: [
          { name: 'hello', status: 'healthy', reason: '', since: iso(2 * HOUR), paused_until: null, format: 'esm', path: 'netlify/functions/hello.mjs',
            checks: { present: { ok: true, reason: '' }, syntax: { ok: true, reason: '' }, dependencies: { ok: true, reason: '' }, invoke: { ok: true, reason: '200 in 40 ms' }, probe: { ok: true, reason: '' } },
            last_invocation: { status: 200, at: iso(5 * MIN) }, last_deploy: { at: iso(2 * HOUR), ok: true, output_tail: 'Deploy is live!\n' } },
          { name: 'legacy', status: 'healthy', reason: '', since: null, paused_until: null, format: 'cjs', path: 'netlify/functions/legacy.js', checks: { present: { ok: true }, syntax: { ok: true } } },
        ],
      },
    },
  };
}

function send(res, code, body) {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

// Starts the mock on 127.0.0.1:`port` (0: any free port). Resolves to {url, token, state, close()}.
export async function startMock({ port = 0, token = 'mock-token', webRoot = resolve(here, '../../web') } = {}) {
  const st = initialState();
  const root = resolve(webRoot);
  const later = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const path = url.pathname;
    let body = '';
    for await (const chunk of req) body += chunk;
    if (path.startsWith('/api/')) {
      if (req.method === 'GET') {
        if (path === '/api/status') return send(res, 200, status(st));
        if (path === '/api/events') return send(res, 200, { events: [...st.events].reverse() });
        if (path === '/api/actions') return send(res, 200, { actions: [...st.actions].reverse() });
        const m = path.match(/^\/api\/actions\/(\d+)$/);
        if (m) {
          const a = st.actions.find((x) => x.id === Number(m[1]));
          return a ? send(res, 200, a) : send(res, 404, { error: { code: 'not_found', message: 'no action' } });
        }
        return send(res, 404, { error: { code: 'not_found', message: 'no route' } });
      }
      if (req.headers.authorization !== `Bearer ${token}`)
        return send(res, 401, { error: { code: 'unauthorized', message: 'a valid token is required' } });
      let payload = {};
      try {
        payload = body ? JSON.parse(body) : {};
      } catch {
        return send(res, 400, { error: { code: 'bad_request', message: 'bad JSON' } });
      }
      if (path === '/api/pause' || path === '/api/resume')
        return send(res, 200, { target: payload.target, paused_until: path === '/api/pause' ? iso(-HOUR) : null });
      const id = st.nextId++;
      const action = { id, kind: path.split('/').pop(), subsystem: path.split('/')[2], target: payload.app || payload.workflow || '', requested_by: 'api', state: 'queued', created_at: iso(0), started_at: null, finished_at: null, output_tail: '', steps: [], summary: '' };
      st.actions.push(action);
      later.push(setTimeout(() => Object.assign(action, { state: 'running', started_at: iso(0) }), 300));
      later.push(setTimeout(() => {
        Object.assign(action, { state: 'succeeded', finished_at: iso(0), output_tail: `[PM2] Applying action restartProcessId on app [${action.target}]\n`, steps: [{ name: `pm2 restart ${action.target}`, ok: true, detail: 'exit code 0' }], summary: `restarted ${action.target}` });
        if (action.kind === 'restart' && (action.target === 'api' || !action.target))
          Object.assign(st.api, { status: 'healthy', reason: '', state: 'healthy', pid: 5151, cpu_percent: 0.3, memory_bytes: 50331648, uptime_seconds: 1, restarts: st.api.restarts + 1, attempts_left: 5 });
      }, 1500));
      return send(res, 202, { action_id: id });
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep)) return send(res, 404, { error: { code: 'not_found', message: 'no such file' } });
    try {
      const content = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
      res.end(content);
    } catch {
      send(res, 404, { error: { code: 'not_found', message: 'no such file' } });
    }
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}/`,
    token,
    state: st,
    close: () => new Promise((ok) => {
      for (const t of later) clearTimeout(t);
      server.closeAllConnections();
      server.close(ok);
    }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const mock = await startMock({ port: Number(process.argv[2] || 0) });
  console.log(`mock daemon at ${mock.url} (token ${mock.token})`);
}
