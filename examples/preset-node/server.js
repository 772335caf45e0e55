'use strict';
// A tiny HTTP server with Node's standard library only (Node 18+).
//   GET /         a greeting
//   GET /healthz  "ok", for probes and the image's HEALTHCHECK

const http = require('node:http');

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://localhost');
  const body = pathname === '/' ? 'Olá do preset node!\n' : pathname === '/healthz' ? 'ok\n' : null;
  res.writeHead(body === null ? 404 : 200, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body ?? 'not found\n');
});

const port = Number(process.env.PORT || 3000);
server.listen(port, () => console.log(`listening on :${port}`));
// As PID 1, node has no default SIGTERM handler: stop cleanly on it.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
