// Turns API documents into DOM: the overall banner, one card per subsystem, the target tables,
// the event list and the action list. Unknown or missing keys are shown plainly, never fatal.

import { h } from './dom.js';
import { bytes, duration, localTime, parseTime, percent, plain, relative } from './format.js';

export const SUBSYSTEMS = [
  { key: 'pm2', title: 'PM2 apps', noun: 'app' },
  { key: 'github', title: 'GitHub Actions', noun: 'workflow' },
  { key: 'netlify', title: 'Netlify Functions', noun: 'function' },
];

// Each state has a word and a symbol, so colour is never the only sign.
const SYMBOLS = {
  healthy: '✓', degraded: '!', unhealthy: '✕', emergency: '✕', unknown: '?', disabled: '–', paused: '‖',
  starting: '…', queued: '…', running: '↻', succeeded: '✓', failed: '✕', interrupted: '!',
  info: 'i', warning: '!', error: '✕', critical: '✕', unreachable: '✕',
};

export function badge(state, label) {
  const word = typeof state === 'string' && state ? state : 'unknown';
  const cls = SYMBOLS[word] ? word : 'unknown';
  return h('span', { className: `badge s-${cls}` }, h('span', { 'aria-hidden': 'true', className: 'sym' }, SYMBOLS[cls] || '?'), ' ', label || word);
}

// A <time> with the relative age as text and the local time as its tooltip.
export function timeEl(text, now) {
  const d = parseTime(text);
  if (!d) return h('span', { className: 'muted' }, '—');
  return h('time', { datetime: text, title: localTime(d) }, relative(d, now));
}

function timeFull(text, now) {
  const d = parseTime(text);
  if (!d) return h('span', { className: 'muted' }, '—');
  return h('time', { datetime: text, title: relative(d, now) }, `${localTime(d)} (${relative(d, now)})`);
}

function safeUrl(text) {
  try {
    const u = new URL(text, location.href);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

// An action button: `spec` is read by app.js when clicked, through the data-act attribute.
function actButton(label, spec, { danger = false, focus } = {}) {
  return h('button', {
    type: 'button',
    className: danger ? 'act danger' : 'act',
    'data-act': JSON.stringify(spec),
    'data-focus': focus || `${spec.kind}:${spec.target || spec.subsystem || ''}:${spec.mode || ''}`,
  }, label);
}

const OVERALL_TEXT = {
  starting: 'Starting: not every subsystem has been checked yet',
  healthy: 'Healthy: everything watched is working',
  degraded: 'Degraded: working, with warnings',
  unhealthy: 'Unhealthy: something is down',
  emergency: 'Emergency',
};

export function banner(status, now) {
  const overall = typeof status.status === 'string' ? status.status : 'unknown';
  const e = status.emergency || {};
  const lines = [];
  if (e.active) {
    const phase = e.given_up ? 'given up: waiting for a person' : e.phase || 'active';
    lines.push(h('p', {}, `Emergency recovery ${phase}: attempt ${plain(e.attempts)} of ${plain(e.max_attempts)}.`));
  } else if (typeof e.attempts === 'number' && e.attempts > 0) {
    lines.push(h('p', {}, `Emergency attempts so far: ${e.attempts} of ${plain(e.max_attempts)}.`));
  }
  const down = [];
  for (const { key, title } of SUBSYSTEMS) {
    const sub = status.subsystems && status.subsystems[key];
    if (sub && sub.status === 'unhealthy') down.push(title);
  }
  if (down.length) lines.push(h('p', {}, `Down: ${down.join(', ')}.`));
  return [
    h('div', { className: `banner s-${SYMBOLS[overall] ? overall : 'unknown'}` },
      h('p', { className: 'overall', id: 'overall-status', 'data-status': overall },
        h('span', { 'aria-hidden': 'true', className: 'sym' }, SYMBOLS[overall] || '?'), ' ',
        OVERALL_TEXT[overall] || `Status: ${overall}`),
      lines,
      h('p', { className: 'muted' }, 'Last check ', timeEl(status.checked_at, now), '.')),
  ];
}

function row(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

const SUBSYSTEM_ACTIONS = {
  pm2: () => [actButton('Restart all apps', { kind: 'pm2-restart-all', subsystem: 'pm2' }, { danger: true })],
  github: () => [
    actButton('Run all locally', { kind: 'github-trigger', subsystem: 'github', mode: 'local' }),
    actButton('Dispatch all', { kind: 'github-trigger', subsystem: 'github', mode: 'dispatch' }),
  ],
  netlify: () => [
    actButton('Regenerate manifest', { kind: 'netlify-regenerate', subsystem: 'netlify' }),
    actButton('Deploy', { kind: 'netlify-deploy', subsystem: 'netlify' }, { danger: true }),
  ],
};

function pauseButton(target, pausedUntil) {
  return pausedUntil
    ? actButton('Resume', { kind: 'resume', target }, { focus: `pause:${target}` })
    : actButton('Pause…', { kind: 'pause', target }, { focus: `pause:${target}` });
}

export function card({ key, title }, sub, now) {
  if (!sub) {
    return h('article', { className: 'card s-disabled', 'data-subsystem': key, 'aria-labelledby': `card-${key}` },
      h('header', {}, h('h3', { id: `card-${key}` }, title), badge('disabled', 'not enabled')),
      h('p', { className: 'summary' }, 'This subsystem is not enabled in the daemon\'s config.'));
  }
  const last = sub.last_check || {};
  const lastText = last.result ? ` — ${last.result}${typeof last.duration_ms === 'number' ? `, ${last.duration_ms} ms` : ''}` : '';
  const status = sub.status || 'unknown';
  return h('article', { className: `card s-${SYMBOLS[status] ? status : 'unknown'}`, 'data-subsystem': key, 'data-status': status, 'aria-labelledby': `card-${key}` },
    h('header', {}, h('h3', { id: `card-${key}` }, title), badge(status)),
    h('p', { className: 'summary' }, sub.summary || h('span', { className: 'muted' }, 'no summary')),
    h('dl', {},
      row('Last check', timeEl(sub.checked_at, now), lastText),
      row('Next check', timeEl(sub.next_check_at, now)),
      row('Failures in a row', plain(sub.consecutive_failures ?? 0)),
      sub.paused_until ? row('Paused until', timeFull(sub.paused_until, now), sub.paused_reason ? ` — ${sub.paused_reason}` : '') : null,
      sub.running_action != null ? row('Running', `action #${sub.running_action}`) : null),
    h('div', { className: 'buttons' },
      actButton('Check now', { kind: 'check', subsystem: key }),
      (SUBSYSTEM_ACTIONS[key] || (() => []))(),
      pauseButton(key, sub.paused_until)));
}

// ---- target tables ----

function cell(label, ...content) {
  return h('td', { 'data-label': label }, ...content);
}

function healthCell(t, now) {
  return cell('Health', badge(t.status),
    t.reason ? h('div', { className: 'reason' }, t.reason) : null,
    t.since ? h('div', { className: 'muted' }, 'since ', timeEl(t.since, now)) : null,
    t.paused_until ? h('div', { className: 'muted' }, 'paused until ', timeFull(t.paused_until, now)) : null);
}

// Detail keys no column shows, in a closed <details> so nothing the daemon sends is hidden.
function extras(sub, t, known) {
  const rest = Object.entries(t).filter(([k]) => !known.has(k));
  if (!rest.length) return null;
  return h('details', { 'data-key': `extra:${sub}:${t.name}` }, h('summary', {}, 'More'),
    h('dl', { className: 'kv' }, rest.map(([k, v]) => [h('dt', {}, k), h('dd', {}, plain(v))])));
}

const COMMON = ['name', 'status', 'reason', 'since', 'paused_until'];

function pm2Row(t, now) {
  const known = new Set([...COMMON, 'kind', 'state', 'pm2_status', 'pid', 'cpu_percent', 'memory_bytes', 'memory_percent', 'restarts', 'uptime_seconds', 'attempts_left', 'given_up', 'expected', 'ecosystem_file']);
  const memory = bytes(t.memory_bytes) + (typeof t.memory_percent === 'number' ? ` (${percent(t.memory_percent)})` : '');
  return h('tr', { 'data-target': t.name, 'data-status': t.status },
    h('th', { scope: 'row' }, t.name, t.expected === false ? h('div', { className: 'muted' }, 'not expected') : null,
      t.ecosystem_file ? h('div', { className: 'muted path' }, t.ecosystem_file) : null),
    healthCell(t, now),
    cell('State', plain(t.pm2_status ?? t.state)),
    cell('PID', plain(t.pid)),
    cell('CPU', percent(t.cpu_percent)),
    cell('Memory', memory),
    cell('Restarts', plain(t.restarts)),
    cell('Uptime', duration(t.uptime_seconds)),
    cell('Attempts left', t.given_up ? 'given up' : plain(t.attempts_left)),
    cell('', h('div', { className: 'buttons' },
      actButton('Restart', { kind: 'pm2-restart', subsystem: 'pm2', target: t.name }),
      pauseButton(`pm2/${t.name}`, t.paused_until)), extras('pm2', t, known)));
}

function githubRow(t, now) {
  const known = new Set([...COMMON, 'kind', 'valid', 'problems', 'coverage', 'last_runs', 'consecutive_failures', 'missed_ticks', 'last_backup']);
  const problems = Array.isArray(t.problems) ? t.problems : [];
  const cov = t.coverage && typeof t.coverage === 'object' ? t.coverage : null;
  const skipped = cov && Array.isArray(cov.skipped) ? cov.skipped : [];
  const runs = Array.isArray(t.last_runs) ? t.last_runs : [];
  const b = t.last_backup && typeof t.last_backup === 'object' ? t.last_backup : null;
  return h('tr', { 'data-target': t.name, 'data-status': t.status },
    h('th', { scope: 'row' }, t.name),
    healthCell(t, now),
    cell('Valid', t.valid === undefined ? '—' : badge(t.valid ? 'healthy' : 'unhealthy', t.valid ? 'valid' : 'invalid'),
      problems.length ? h('ul', { className: 'problems' }, problems.map((p) => h('li', {}, plain(p)))) : null),
    cell('Local coverage', cov ? [cov.runnable === undefined ? '' : `${plain(cov.runnable)} runnable`,
      skipped.length ? h('details', { 'data-key': `skip:${t.name}` }, h('summary', {}, `${skipped.length} skipped`),
        h('ul', {}, skipped.map((x) => h('li', {}, plain(x))))) : null] : '—'),
    cell('Last runs', runs.length ? h('ul', { className: 'runs' }, runs.slice(0, 5).map((r) => {
      const state = r.conclusion === 'success' ? 'succeeded' : r.conclusion ? 'failed' : r.status === 'completed' ? 'unknown' : 'running';
      const text = `${r.conclusion || r.status || 'unknown'}`;
      const url = safeUrl(r.url);
      return h('li', {}, badge(state, text), ' ', url ? h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, timeEl(r.started_at, now)) : timeEl(r.started_at, now));
    })) : h('span', { className: 'muted' }, 'none')),
    cell('Failures', `${plain(t.consecutive_failures ?? 0)} in a row`, t.missed_ticks ? h('div', {}, `${t.missed_ticks} missed schedule ticks`) : null),
    cell('Last backup', b ? [badge(b.ok ? 'succeeded' : 'failed', `${b.mode || 'backup'} ${b.ok ? 'ok' : 'failed'}`), ' ', timeEl(b.at, now),
      b.summary ? h('div', { className: 'reason' }, b.summary) : null] : h('span', { className: 'muted' }, 'none')),
    cell('', h('div', { className: 'buttons' },
      actButton('Run locally', { kind: 'github-trigger', subsystem: 'github', target: t.name, mode: 'local' }),
      actButton('Dispatch', { kind: 'github-trigger', subsystem: 'github', target: t.name, mode: 'dispatch' }),
      pauseButton(`github/${t.name}`, t.paused_until)), extras('github', t, known)));
}

const CHECKS = ['present', 'syntax', 'dependencies', 'invoke', 'probe'];

function netlifyRow(t, now) {
  const known = new Set([...COMMON, 'kind', 'format', 'path', 'checks', 'last_invocation', 'last_deploy']);
  const checks = t.checks && typeof t.checks === 'object' ? t.checks : {};
  const names = [...CHECKS.filter((c) => c in checks), ...Object.keys(checks).filter((c) => !CHECKS.includes(c))];
  const inv = t.last_invocation && typeof t.last_invocation === 'object' ? t.last_invocation : null;
  const dep = t.last_deploy && typeof t.last_deploy === 'object' ? t.last_deploy : null;
  return h('tr', { 'data-target': t.name, 'data-status': t.status },
    h('th', { scope: 'row' }, t.name, t.path ? h('div', { className: 'muted path' }, t.path) : null),
    healthCell(t, now),
    cell('Format', plain(t.format)),
    cell('Checks', names.length ? h('ul', { className: 'checks' }, names.map((c) => {
      const r = checks[c] && typeof checks[c] === 'object' ? checks[c] : {};
      const state = r.ok === true ? 'healthy' : r.ok === false ? 'unhealthy' : 'unknown';
      return h('li', {}, badge(state, c), r.reason ? h('span', { className: 'reason' }, ` ${r.reason}`) : null);
    })) : '—'),
    cell('Last invocation', inv ? [plain(inv.status), ' ', timeEl(inv.at, now)] : h('span', { className: 'muted' }, 'none')),
    cell('Last deploy', dep ? [badge(dep.ok ? 'succeeded' : 'failed', dep.ok ? 'ok' : 'failed'), ' ', timeEl(dep.at, now),
      dep.output_tail ? h('details', { 'data-key': `deploy:${t.name}` }, h('summary', {}, 'Output'), h('pre', {}, dep.output_tail)) : null]
      : h('span', { className: 'muted' }, 'none')),
    cell('', h('div', { className: 'buttons' }, pauseButton(`netlify/${t.name}`, t.paused_until)), extras('netlify', t, known)));
}

function genericRow(sub, t, now) {
  return h('tr', { 'data-target': t.name, 'data-status': t.status },
    h('th', { scope: 'row' }, plain(t.name)), healthCell(t, now),
    cell('', extras(sub, t, new Set(COMMON))));
}

const HEADS = {
  pm2: ['App', 'Health', 'State', 'PID', 'CPU', 'Memory', 'Restarts', 'Uptime', 'Attempts left', 'Actions'],
  github: ['Workflow', 'Health', 'Valid', 'Local coverage', 'Last runs', 'Failures', 'Last backup', 'Actions'],
  netlify: ['Function', 'Health', 'Format', 'Checks', 'Last invocation', 'Last deploy', 'Actions'],
};
const ROWS = { pm2: pm2Row, github: githubRow, netlify: netlifyRow };

export function targets({ key, title, noun }, sub, now) {
  const list = sub && Array.isArray(sub.targets) ? sub.targets.filter((t) => t && typeof t === 'object') : [];
  const heading = h('h3', { id: `targets-${key}` }, `${title}: ${list.length} ${noun}${list.length === 1 ? '' : 's'}`);
  if (!sub) return h('section', { className: 'targets', 'aria-labelledby': `targets-${key}` }, heading, h('p', { className: 'muted' }, 'Not enabled.'));
  if (!list.length) return h('section', { className: 'targets', 'aria-labelledby': `targets-${key}` }, heading, h('p', { className: 'muted' }, `No ${noun}s reported yet.`));
  const make = ROWS[key] || ((t, n) => genericRow(key, t, n));
  const heads = HEADS[key] || ['Name', 'Health', 'Details'];
  return h('section', { className: 'targets', 'aria-labelledby': `targets-${key}`, 'data-subsystem': key }, heading,
    h('table', { className: 'stack' },
      h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, list.map((t) => make(t, now)))));
}

// ---- events and actions ----

export function events(list, now) {
  if (!list.length) return [h('p', { className: 'muted' }, 'No events in the last 24 hours.')];
  return [h('ol', { className: 'events' }, list.slice(0, 50).map((e) =>
    h('li', { className: `sev-${e.severity}` },
      badge(e.severity === 'critical' || e.severity === 'error' ? 'unhealthy' : e.severity === 'warning' ? 'degraded' : 'healthy', plain(e.severity)),
      ' ', timeEl(e.ts, now), ' ',
      h('strong', {}, e.target ? `${e.subsystem}/${e.target}` : plain(e.subsystem)), ' ',
      h('span', {}, plain(e.message)))))];
}

export function actionDetails(a, now) {
  const steps = Array.isArray(a.steps) ? a.steps : [];
  const parts = [];
  if (steps.length) {
    parts.push(h('ol', { className: 'steps' }, steps.map((st) => h('li', {}, badge(st.ok ? 'succeeded' : 'failed', st.ok ? 'ok' : 'failed'), ' ',
      plain(st.name), st.detail ? h('span', { className: 'reason' }, `: ${st.detail}`) : null))));
  }
  if (a.output_tail) parts.push(h('pre', {}, a.output_tail));
  if (!parts.length) return null;
  return h('details', { 'data-key': `action:${a.id}` }, h('summary', {}, 'Steps and output'), parts,
    h('p', { className: 'muted' }, 'started ', timeEl(a.started_at, now), ', finished ', timeEl(a.finished_at, now)));
}

export function actionTitle(a) {
  const where = a.target ? `${a.subsystem}/${a.target}` : plain(a.subsystem);
  return `#${a.id} ${plain(a.kind)} ${where}`;
}

export function actions(list, now) {
  if (!list.length) return [h('p', { className: 'muted' }, 'No actions yet.')];
  return [h('ol', { className: 'actions' }, list.slice(0, 20).map((a) =>
    h('li', { 'data-action-id': a.id, 'data-state': a.state },
      badge(a.state), ' ', h('strong', {}, actionTitle(a)), ' ',
      h('span', { className: 'muted' }, `by ${plain(a.requested_by)}, `, timeEl(a.finished_at || a.started_at || a.created_at, now)),
      a.summary ? h('div', { className: 'reason' }, a.summary) : null,
      actionDetails(a, now))))];
}
