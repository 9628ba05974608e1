// Formatting for people: local times with relative ages, sizes, durations, percentages.

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'long' });
const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const tf = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

// A Date from an RFC 3339 string, or null when missing or unparseable.
export function parseTime(text) {
  if (typeof text !== 'string' || text === '') return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

// "3 min ago" / "in 20 sec", relative to `now`.
export function relative(date, now = new Date()) {
  if (!date) return '';
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return 'just now';
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

// The full local time, for titles and <time> text.
export function localTime(date) {
  return date ? dtf.format(date) : '';
}

// Hours and minutes only, for axis labels.
export function clock(date) {
  return tf.format(date);
}

// 1536 -> "1.5 KiB".
export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

// 3725 seconds -> "1 h 2 min".
export function duration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function percent(n) {
  return typeof n === 'number' && Number.isFinite(n) ? `${Math.round(n * 10) / 10} %` : '—';
}

// Any JSON value as short text: what unknown detail keys show.
export function plain(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
