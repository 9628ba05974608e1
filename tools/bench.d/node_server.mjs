// The bench's minimal Node.js server: answers GET /api/health and GET /metrics with the same bytes as
// the daemon (files written by tools/bench), like a status endpoint a user might write instead.
//   node node_server.mjs PORT FOLDER
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [port, folder] = process.argv.slice(2);
const health = readFileSync(join(folder, 'health.json'));
const metrics = readFileSync(join(folder, 'metrics.txt'));
createServer((req, res) => {
  if (req.url === '/api/health') res.writeHead(200, { 'content-type': 'application/json' }).end(health);
  else if (req.url === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics);
  else res.writeHead(404).end();
}).listen(Number(port), '127.0.0.1');
