'use strict';
// A tiny HTTP server with Node's standard library only (Node 18+).
//   GET /         a fixed greeting
//   GET /healthz  "ok", for probes and the image's HEALTHCHECK

const http = require('node:http');

const GREETING = 'Olá, Multistage Build com Node e stowplan!\n';

function handler(req, res) {
  const { pathname } = new URL(req.url, 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  if (pathname === '/') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(GREETING);
  } else if (pathname === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('ok\n');
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  }
}

function main() {
  const port = Number(process.env.PORT || 3000);
  const server = http.createServer(handler);
  server.listen(port, () => console.log(`listening on :${port}`));
  // As PID 1 in a container, node gets no default SIGTERM handler: stop
  // cleanly so `docker stop` does not wait for its timeout.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => server.close(() => process.exit(0)));
  }
}

if (require.main === module) {
  main();
}

module.exports = { handler, GREETING };
