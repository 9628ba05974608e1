// The daemon's HTTP API: reads and POSTs, carrying the token kept for this tab in sessionStorage.

const TOKEN_KEY = 'redundancy.token';

// Thrown when the daemon cannot be reached at all (connection refused, reset, timeout).
export class Unreachable extends Error {}

async function request(path, options = {}, timeoutMs = 8000) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(path, { ...options, signal: controller.signal, cache: 'no-store' });
  } catch (e) {
    throw new Unreachable(e.name === 'AbortError' ? `no answer in ${timeoutMs / 1000} s` : e.message);
  } finally {
    clearTimeout(timer);
  }
  let body = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: { code: 'bad_json', message: text.slice(0, 200) } };
    }
  }
  return { status: res.status, body };
}

// Thrown by get() on 401: a daemon listening beyond loopback needs the token for reads too.
export class NeedsToken extends Error {}

// GET a JSON document with the stored token, if any; /api/health answers 503 with a body, so any
// status with a JSON body counts.
export async function get(path) {
  const t = token();
  const { status, body } = await request(path, t ? { headers: { Authorization: `Bearer ${t}` } } : {});
  if (status === 401) throw new NeedsToken(`${path}: the daemon needs its token to show its state (HTTP 401)`);
  if (!body) throw new Error(`${path}: HTTP ${status} without a body`);
  if (status >= 400 && status !== 503) throw new Error(`${path}: ${errorText(body, status)}`);
  return body;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// POST a JSON body with the stored token, if any. Returns {status, body}; never throws for HTTP errors.
export async function post(path, payload = {}) {
  const headers = { 'Content-Type': 'application/json' };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  return request(path, { method: 'POST', headers, body: JSON.stringify(payload) });
}

// The message of an API error body, or a fallback naming the status.
export function errorText(body, status) {
  const e = body && body.error;
  if (e && typeof e === 'object') return `${e.message || e.code || 'error'} (HTTP ${status})`;
  return `HTTP ${status}`;
}
