'use strict';
// Serves the site that the image holds gzip-compressed only (/srv/site/NAME.gz),
// with Node's standard library (Node 18+).
//   GET /, /NAME  the file, Content-Encoding: gzip
//   GET /healthz  "ok", for probes and the image's HEALTHCHECK

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const ROOT = '/srv/site';
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8' };

function handler(req, res) {
  const { pathname } = new URL(req.url, 'http://localhost');
  if (pathname === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('ok\n');
    return;
  }
  // basename: a request never leaves the site's folder.
  const name = pathname === '/' ? 'index.html' : path.basename(pathname);
  fs.readFile(path.join(ROOT, `${name}.gz`), (err, body) => {
    if (err) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(name)] || 'application/octet-stream',
      'Content-Encoding': 'gzip',
    });
    res.end(body);
  });
}

const port = Number(process.env.PORT || 8080);
const server = http.createServer(handler);
server.listen(port, () => console.log(`listening on :${port}`));
// As PID 1 in a container, node gets no default SIGTERM handler.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
