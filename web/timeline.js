// The last 24 hours of each subsystem as an SVG band, drawn from its status_changed events. A daemon
// younger than that gets a band from its start (15 min at least), so a fresh history is not a sliver.

import { h, s } from './dom.js';
import { clock, duration, localTime, parseTime, plain } from './format.js';

const DAY_MS = 24 * 3600 * 1000;
const MIN_SPAN_MS = 15 * 60 * 1000;
const WIDTH = 1000;

// The start of the drawn window: 24 h ago, or shortly before the daemon started when that is later.
export function windowStart(daemonStartedAt, now) {
  const dayAgo = now.getTime() - DAY_MS;
  if (!daemonStartedAt || daemonStartedAt.getTime() <= dayAgo) return new Date(dayAgo);
  const span = Math.min(DAY_MS, Math.max(MIN_SPAN_MS, (now - daemonStartedAt) * 1.05));
  return new Date(now.getTime() - span);
}

// The state intervals of `subsystem` between `start` and now, oldest first: [{state, from, to}].
// The daemon records the first sight of a state unless it is healthy, so the time between its start
// and the first recorded change was healthy; before its start, or before the 24 h when older changes
// are not loaded, the state is not known.
export function segments(subsystem, eventList, currentStatus, daemonStartedAt, start, now) {
  const changes = eventList
    .filter((e) => e.subsystem === subsystem && !e.target && e.kind === 'status_changed' && e.data && typeof e.data.status === 'string')
    .map((e) => ({ at: parseTime(e.ts), state: e.data.status }))
    .filter((c) => c.at && c.at >= start && c.at <= now)
    .sort((a, b) => a.at - b.at);
  const started = daemonStartedAt && daemonStartedAt > start ? daemonStartedAt : null;
  const out = [];
  let from = start;
  let state;
  if (started) {
    out.push({ state: 'no data', from: start, to: started });
    from = started;
    state = changes.length ? 'healthy' : currentStatus;
  } else {
    state = changes.length ? 'not recorded' : currentStatus;
  }
  for (const c of changes) {
    if (c.at > from) out.push({ state, from, to: c.at });
    from = c.at > from ? c.at : from;
    state = c.state;
  }
  if (now > from) out.push({ state, from, to: now });
  return out.filter((seg) => seg.to > seg.from);
}

const KNOWN = new Set(['healthy', 'degraded', 'unhealthy', 'unknown', 'disabled', 'paused', 'starting']);

function stateClass(state) {
  return KNOWN.has(state) ? `t-${state}` : 't-none';
}

// Total time per state, longest first: "healthy 23 h, unhealthy 12 min".
function summary(segs) {
  const totals = new Map();
  for (const seg of segs) totals.set(seg.state, (totals.get(seg.state) || 0) + (seg.to - seg.from));
  return [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([state, ms]) => `${state} ${duration(ms / 1000)}`).join(', ');
}

// One <figure> for `subsystem`: the band, warning and error markers, hour labels, a text summary.
export function timeline({ key, title }, sub, eventList, daemonStartedAt, now) {
  const current = !sub ? 'disabled' : typeof sub.status === 'string' ? sub.status : 'unknown';
  const from = windowStart(daemonStartedAt, now);
  const segs = segments(key, eventList, current, daemonStartedAt, from, now);
  const start = from.getTime();
  const span = now.getTime() - start;
  const x = (d) => ((d.getTime() - start) / span) * WIDTH;
  const marks = eventList.filter((e) => e.subsystem === key && (e.severity === 'error' || e.severity === 'critical'))
    .map((e) => ({ e, at: parseTime(e.ts) })).filter((m) => m.at && m.at.getTime() >= start);
  const text = summary(segs);
  const svg = s('svg', { viewBox: `0 0 ${WIDTH} 40`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `${title}, last 24 hours: ${text}` },
    segs.map((seg) => s('rect', { x: x(seg.from).toFixed(2), y: 0, width: Math.max(0.5, x(seg.to) - x(seg.from)).toFixed(2), height: 28, class: stateClass(seg.state) },
      s('title', {}, `${seg.state}: ${localTime(seg.from)} – ${localTime(seg.to)} (${duration((seg.to - seg.from) / 1000)})`))),
    marks.map(({ e, at }) => s('rect', { x: (x(at) - 1).toFixed(2), y: 31, width: 2, height: 9, class: 'mark' },
      s('title', {}, `${localTime(at)}: ${plain(e.message)}`))));
  const labels = [4, 3, 2, 1, 0].map((quarter) => h('span', {}, quarter ? clock(new Date(now.getTime() - (quarter * span) / 4)) : 'now'));
  return h('figure', { className: 'timeline', 'data-subsystem': key },
    h('figcaption', {}, h('strong', {}, title), ': ', sub ? text || 'no data' : 'not enabled'),
    svg, h('div', { className: 'axis', 'aria-hidden': 'true' }, labels));
}

// The legend, after a line saying what span the bands cover when it is not the full 24 hours.
export function legend(daemonStartedAt, now) {
  const from = windowStart(daemonStartedAt, now);
  const note = now - from < DAY_MS - 1000
    ? h('p', { className: 'muted span-note' }, `The daemon started ${duration((now - daemonStartedAt) / 1000)} ago: the bands cover the last ${duration((now - from) / 1000)}.`)
    : null;
  return [note, h('ul', { className: 'legend' },
    ['healthy', 'degraded', 'unhealthy', 'unknown', 'paused', 'disabled'].map((st) =>
      h('li', {}, s('svg', { viewBox: '0 0 10 10', width: 12, height: 12, 'aria-hidden': 'true' }, s('rect', { width: 10, height: 10, class: stateClass(st) })), ` ${st}`)),
    h('li', {}, s('svg', { viewBox: '0 0 10 10', width: 12, height: 12, 'aria-hidden': 'true' }, s('rect', { width: 10, height: 10, class: 't-none' })), ' no data'),
    h('li', {}, s('svg', { viewBox: '0 0 4 10', width: 5, height: 12, 'aria-hidden': 'true' }, s('rect', { width: 4, height: 10, class: 'mark' })), ' error event'))];
}
