// Invokes one Netlify function once with a synthetic GET request and prints one result line.
// Usage: node invoke_harness.mjs <absolute entry file> <function name> <v1|v2|unknown> <timeout ms>
// The last stdout line starting with the marker is {"ok", "status", "error"}; the exit code is 0 when
// the call returned without throwing and with a status below 500.
import { pathToFileURL } from 'node:url';

const MARKER = '@@redundancy-invoke@@ ';
const [file, name, format, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg) > 0 ? Number(timeoutArg) : 30000;

let reported = false;
function report(result) {
  if (reported) return;
  reported = true;
  process.stdout.write('\n' + MARKER + JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}
function describe(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `threw ${typeof error === 'string' ? error : JSON.stringify(error)}`;
}

// A function that never settles keeps this timer alive, so the harness reports the timeout itself.
const timer = setTimeout(() => report({ ok: false, status: null, error: `timed out after ${timeoutMs} ms` }),
                         timeoutMs);
process.on('uncaughtException', (e) => report({ ok: false, status: null, error: describe(e) }));
process.on('unhandledRejection', (e) => report({ ok: false, status: null, error: describe(e) }));

const path = `/.netlify/functions/${name}`;
const url = `http://localhost${path}`;

function v1Event() {
  return {
    path, httpMethod: 'GET', headers: { host: 'localhost', 'user-agent': 'redundancy-invoke' },
    multiValueHeaders: { host: ['localhost'], 'user-agent': ['redundancy-invoke'] },
    queryStringParameters: {}, multiValueQueryStringParameters: {}, body: null, isBase64Encoded: false,
    rawUrl: url, rawQuery: '',
  };
}

function v1Context() {
  return {
    functionName: name, functionVersion: '$LATEST', awsRequestId: 'redundancy-invoke',
    callbackWaitsForEmptyEventLoop: true, clientContext: {},
    getRemainingTimeInMillis: () => timeoutMs,
  };
}

function v2Context() {
  return {
    account: { id: '' }, cookies: { get: () => undefined, set: () => {}, delete: () => {} },
    deploy: { context: 'dev', id: '', published: false }, geo: {}, ip: '127.0.0.1', params: {},
    requestId: 'redundancy-invoke', server: { region: 'local' }, site: { id: '', name: '', url: 'http://localhost' },
    json: (value, init) => Response.json(value, init), next: async () => new Response(null, { status: 404 }),
    waitUntil: () => {},
  };
}

async function callV1(handler) {
  // Old handlers take a callback as the third argument; either way of answering counts.
  const result = await new Promise((resolve, reject) => {
    const callback = (error, value) => (error ? reject(error) : resolve(value));
    Promise.resolve(handler(v1Event(), v1Context(), callback)).then((value) => {
      if (value !== undefined || handler.length < 3) resolve(value);
    }, reject);
  });
  if (result === null || typeof result !== 'object' || typeof result.statusCode !== 'number')
    return { ok: false, status: null, error: 'the handler returned no statusCode' };
  return { ok: result.statusCode < 500, status: result.statusCode,
           error: result.statusCode < 500 ? null : `answered ${result.statusCode}` };
}

async function callV2(fn) {
  const result = await fn(new Request(url, { method: 'GET', headers: { 'user-agent': 'redundancy-invoke' } }),
                          v2Context());
  if (!(result instanceof Response)) return { ok: false, status: null, error: 'the function returned no Response' };
  await result.arrayBuffer().catch(() => undefined);
  return { ok: result.status < 500, status: result.status,
           error: result.status < 500 ? null : `answered ${result.status}` };
}

try {
  const mod = await import(pathToFileURL(file).href);
  // A CommonJS module's exports arrive as `default`; its named exports only when Node can see them.
  const handler = mod.handler ?? mod.default?.handler;
  let result;
  if (typeof handler === 'function' && format !== 'v2') result = await callV1(handler);
  else if (typeof mod.default === 'function') result = await callV2(mod.default);
  else result = { ok: false, status: null, error: 'exports neither a handler nor a default function' };
  clearTimeout(timer);
  report(result);
} catch (error) {
  clearTimeout(timer);
  report({ ok: false, status: null, error: describe(error) });
}
