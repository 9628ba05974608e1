// The dashboard's entry: polls the daemon every 5 s, renders, and runs the actions people ask for.

import { NeedsToken, Unreachable, errorText, get, post, setToken, token } from './api.js';
import { askToken, confirmAction } from './dialogs.js';
import { h, replace } from './dom.js';
import { localTime, parseTime, relative } from './format.js';
import { SUBSYSTEMS, actionDetails, actionTitle, actions, badge, banner, card, events, targets } from './render.js';
import { legend, timeline } from './timeline.js';

const REFRESH_MS = 5000;
const ACTION_POLL_MS = 1000;
const TERMINAL = new Set(['succeeded', 'failed', 'interrupted']);

const $ = (id) => document.getElementById(id);

const state = {
  status: null,      // the last /api/status
  events: [],        // the last 24 h of events, newest first
  actions: [],       // the last actions, newest first
  unreachableSince: null,
  lastError: '',
  lastOk: null,
  tracked: new Map(), // action id -> {label, record, error}, the actions started from this page
};

// ---- refresh ----

let timer = null;
let refreshing = false;

async function refresh() {
  if (refreshing) return;
  refreshing = true;
  clearTimeout(timer);
  try {
    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    const [status, ev, act] = await Promise.all([
      get('/api/status'),
      get(`/api/events?since=${encodeURIComponent(since)}&limit=1000`),
      get('/api/actions?limit=20'),
    ]);
    state.status = status;
    state.events = Array.isArray(ev.events) ? ev.events : [];
    state.actions = Array.isArray(act.actions) ? act.actions : [];
    state.unreachableSince = null;
    state.lastError = '';
    state.lastOk = new Date();
  } catch (e) {
    if (e instanceof Unreachable) {
      state.unreachableSince ??= new Date();
      state.lastError = e.message;
    } else if (e instanceof NeedsToken) {
      state.lastError = e.message;
      askReadToken();
    } else {
      state.lastError = e.message;
    }
  } finally {
    refreshing = false;
    render();
    timer = setTimeout(refresh, REFRESH_MS);
  }
}

// Beyond loopback the daemon shows its state only with the token: asked for once, and again only
// when the one given is refused; after a cancel the page says why it shows nothing.
let askingToken = false;
let tokenDeclined = false;
async function askReadToken() {
  if (askingToken || tokenDeclined) return;
  askingToken = true;
  const hadToken = Boolean(token());
  setToken('');
  const entered = await askToken(hadToken
    ? 'The token kept for this tab was refused; enter the current one.'
    : 'This daemon listens beyond loopback: showing its state needs its token.');
  askingToken = false;
  if (!entered) {
    tokenDeclined = true;
    return;
  }
  setToken(entered);
  refresh();
}

function renderConnection(now) {
  const box = $('connection');
  if (state.unreachableSince) {
    box.hidden = false;
    box.className = 'connection down';
    replace(box, [
      h('strong', {}, badge('unreachable'), ' The daemon is unreachable'),
      ` since ${localTime(state.unreachableSince)} (${relative(state.unreachableSince, now)}): ${state.lastError || 'no answer'}. `,
      state.lastOk ? `What follows is the last state received, ${relative(state.lastOk, now)}. ` : 'Nothing has been received yet. ',
      'Retrying every 5 seconds.',
    ]);
    document.body.classList.add('stale');
  } else if (state.lastError) {
    box.hidden = false;
    box.className = 'connection warn';
    replace(box, [h('strong', {}, 'The daemon answered with an error: '), state.lastError]);
    document.body.classList.remove('stale');
  } else {
    box.hidden = true;
    replace(box, []);
    document.body.classList.remove('stale');
  }
}

function render() {
  const now = new Date();
  renderConnection(now);
  const st = state.status;
  if (!st) return;
  const subs = st.subsystems && typeof st.subsystems === 'object' ? st.subsystems : {};
  const daemon = st.daemon || {};
  $('daemon-info').textContent = daemon.version
    ? `version ${daemon.version}, pid ${daemon.pid}, up since ${localTime(parseTime(daemon.started_at))}`
    : '';
  replace($('banner'), banner(st, now));
  replace($('cards'), SUBSYSTEMS.map((meta) => card(meta, subs[meta.key], now)));
  const started = parseTime(daemon.started_at);
  replace($('timelines'), [SUBSYSTEMS.map((meta) => timeline(meta, subs[meta.key], state.events, started, now)), legend(started, now)]);
  replace($('targets'), SUBSYSTEMS.map((meta) => targets(meta, subs[meta.key], now)));
  replace($('events'), events(state.events, now));
  replace($('actions'), actions(state.actions, now));
  renderTracked(now);
}

// ---- actions started here ----

function renderTracked(now) {
  const items = [...state.tracked.entries()].sort((a, b) => b[1].order - a[1].order).slice(0, 5);
  replace($('progress'), items.map(([id, t]) => {
    if (t.error) return h('li', { className: 'refused', role: 'alert', 'data-outcome': 'refused' }, badge('failed', 'refused'), ' ', h('strong', {}, t.label), ': ', t.error);
    if (t.note) return h('li', { 'data-outcome': 'unknown' }, badge('unknown', 'no progress'), ' ', h('strong', {}, t.label), ': ', t.note);
    const a = t.record || { id, state: 'queued' };
    const done = TERMINAL.has(a.state);
    return h('li', { 'data-action-id': id, 'data-state': a.state, 'data-outcome': done ? a.state : 'pending' },
      badge(a.state), ' ', h('strong', {}, t.label), ` (action #${id}) `,
      done ? `${a.state}${a.summary ? `: ${a.summary}` : ''}` : `${a.state}…`,
      actionDetails(a, now));
  }));
}

let order = 0;

async function follow(id, label) {
  const entry = { label, record: null, order: ++order };
  state.tracked.set(id, entry);
  renderTracked(new Date());
  if (!(Number(id) > 0)) {
    // The daemon could not record it (its history is unavailable): it runs, but has no progress to ask for.
    entry.note = `accepted as action ${id}, which the daemon could not record: watch its card for the outcome.`;
    renderTracked(new Date());
    return;
  }
  let missing = 0;
  for (;;) {
    try {
      const a = await get(`/api/actions/${encodeURIComponent(id)}`);
      entry.record = a;
      renderTracked(new Date());
      if (TERMINAL.has(a.state)) break;
    } catch (e) {
      // Unreachable: keep asking, the connection banner says what is wrong. Unknown to the daemon
      // several times over (it restarted with another history): stop and say so.
      if (!(e instanceof Unreachable) && ++missing >= 5) {
        entry.note = `the daemon no longer knows action #${id}: ${e.message}`;
        renderTracked(new Date());
        break;
      }
    }
    await new Promise((r) => setTimeout(r, ACTION_POLL_MS));
  }
  refresh();
}

function refuse(label, message) {
  state.tracked.set(`refused-${++order}`, { label, error: message, order });
  renderTracked(new Date());
}

// POSTs, asking for the token on the first 401; a token refused is forgotten and said so.
async function send(label, path, payload) {
  let res;
  try {
    res = await post(path, payload);
    if (res.status === 401) {
      const hadToken = Boolean(token());
      setToken('');
      const entered = await askToken(hadToken
        ? 'The token kept for this tab was refused; enter the current one.'
        : 'This action needs the daemon\'s token.');
      if (!entered) return refuse(label, 'cancelled: no token given, nothing was done.');
      setToken(entered);
      res = await post(path, payload);
      if (res.status === 401) {
        setToken('');
        return refuse(label, 'the daemon refused the token (401 Unauthorized); nothing was done. The token is in the daemon\'s state_dir/token file.');
      }
    }
  } catch (e) {
    return refuse(label, `not sent: ${e.message}`);
  }
  const body = res.body || {};
  if (res.status === 202 && body.action_id != null) return follow(body.action_id, label);
  if (res.status === 409 && body.action_id != null) {
    follow(body.action_id, `${label} (already running)`);
    return undefined;
  }
  if (res.status === 200) {
    const until = parseTime(body.paused_until);
    state.tracked.set(`done-${++order}`, {
      label, order,
      record: { id: '', state: 'succeeded', summary: until ? `paused until ${localTime(until)}` : 'done' },
    });
    renderTracked(new Date());
    return refresh();
  }
  return refuse(label, errorText(body, res.status));
}

const DURATIONS = [
  { value: '15m', label: '15 minutes' }, { value: '30m', label: '30 minutes' }, { value: '1h', label: '1 hour' },
  { value: '4h', label: '4 hours' }, { value: '24h', label: '24 hours' },
];

// What each button does: the confirmation text names exactly that.
function plan(spec) {
  const t = spec.target;
  switch (spec.kind) {
    case 'check':
      return { label: `Check ${spec.subsystem}`, path: '/api/check', payload: { subsystem: spec.subsystem },
        title: `Check ${spec.subsystem} now?`, text: `Runs the ${spec.subsystem} check now. Nothing is changed; the result shows on its card.` };
    case 'check-all':
      return { label: 'Check everything', path: '/api/check', payload: {},
        title: 'Check every subsystem now?', text: 'Runs the PM2, GitHub and Netlify checks now. Nothing is changed.' };
    case 'pm2-restart':
      return { label: `Restart ${t}`, path: '/api/pm2/restart', payload: { app: t }, confirmLabel: `Restart ${t}`,
        title: `Restart the PM2 app “${t}”?`, text: `Runs “pm2 restart ${t}” (or starts it from its ecosystem file if PM2 does not list it). The app is briefly unavailable.` };
    case 'pm2-restart-all':
      return { label: 'Restart all PM2 apps', path: '/api/pm2/restart', payload: {}, danger: true, confirmLabel: 'Restart all apps',
        title: 'Run PM2\'s emergency restart?', text: 'Restarts PM2 and every app it runs (no single app given). Every app is briefly unavailable.' };
    case 'github-trigger': {
      const where = spec.mode === 'dispatch' ? 'on GitHub (workflow_dispatch)' : 'on this machine with the local runner';
      const what = t ? `the workflow “${t}”` : 'every watched workflow';
      const payload = { mode: spec.mode };
      if (t) payload.workflow = t;
      return { label: `${spec.mode === 'dispatch' ? 'Dispatch' : 'Run locally'} ${t || 'all workflows'}`, path: '/api/github/trigger', payload,
        title: `Run ${what} ${spec.mode === 'dispatch' ? 'on GitHub' : 'locally'}?`, text: `Runs ${what} ${where}.` };
    }
    case 'netlify-regenerate':
      return { label: 'Regenerate the functions manifest', path: '/api/netlify/regenerate', payload: {},
        title: 'Regenerate the functions manifest?', text: 'Rewrites the Netlify functions manifest from the functions folder.' };
    case 'netlify-deploy':
      return { label: 'Deploy to Netlify', path: '/api/netlify/deploy', payload: {}, danger: true, confirmLabel: 'Deploy',
        title: 'Deploy the site to Netlify?', text: 'Runs the configured deploy (command or build hook): the live site is replaced by the current build.' };
    case 'pause':
      return { label: `Pause ${t}`, path: '/api/pause', payload: { target: t }, confirmLabel: `Pause ${t}`,
        title: `Pause ${t}?`, text: `While paused, ${t} is not counted as unhealthy and nothing repairs it automatically.`,
        fields: [{ name: 'for', label: 'For', type: 'select', options: DURATIONS, value: '1h' }, { name: 'reason', label: 'Reason (optional)', type: 'text' }] };
    case 'resume':
      return { label: `Resume ${t}`, path: '/api/resume', payload: { target: t }, confirmLabel: `Resume ${t}`,
        title: `Resume ${t}?`, text: `Ends the pause of ${t} now and checks it again.` };
    case 'emergency':
      return { label: 'Emergency recovery', path: '/api/emergency', payload: {}, danger: true, confirmLabel: 'Start emergency recovery',
        title: 'Start an emergency recovery?', text: 'Runs every subsystem\'s emergency step in turn: PM2 restarts its daemon and apps, GitHub re-runs workflows locally, Netlify redeploys.' };
    default:
      return null;
  }
}

async function onAction(spec) {
  const p = plan(spec);
  if (!p) return;
  const values = await confirmAction({ title: p.title, text: p.text, confirmLabel: p.confirmLabel || 'Confirm', danger: p.danger, fields: p.fields || [] });
  if (!values) return;
  const payload = { ...p.payload };
  if (values.for) payload.for = values.for;
  if (values.reason) payload.reason = values.reason;
  await send(p.label, p.path, payload);
}

document.addEventListener('click', async (ev) => {
  const button = ev.target.closest('button[data-act]');
  if (!button) return;
  let spec;
  try {
    spec = JSON.parse(button.dataset.act);
  } catch {
    return;
  }
  const focusKey = button.dataset.focus;
  await onAction(spec);
  // A refresh may have replaced the button while the dialog was open: give the focus back to its successor.
  if (focusKey && (document.activeElement === document.body || !document.activeElement)) {
    const again = document.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`);
    if (again) again.focus();
  }
});

// Relative ages stay right between refreshes, and a hidden tab catches up when shown again.
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refresh();
});

refresh();
