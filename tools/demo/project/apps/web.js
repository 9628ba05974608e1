// The healthy demo app: a small HTTP server on a free loopback port, written to out/web.port.
const fs = require('fs');
const http = require('http');
const path = require('path');

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(`demo-web: up for ${Math.round(process.uptime())} s\n`);
});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  fs.mkdirSync(path.join(__dirname, '..', 'out'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, '..', 'out', 'web.port'), `${port}\n`);
  console.log(`demo-web: listening on http://127.0.0.1:${port}/`);
});
