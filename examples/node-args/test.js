'use strict';
// Starts the handler on a free port and checks both routes.
const assert = require('node:assert');
const http = require('node:http');
const { handler, GREETING } = require('./server');

function get(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

const server = http.createServer(handler).listen(0, async () => {
  const { port } = server.address();
  try {
    assert.deepStrictEqual(await get(port, '/'), { status: 200, body: GREETING });
    assert.deepStrictEqual(await get(port, '/healthz'), { status: 200, body: 'ok\n' });
    assert.strictEqual((await get(port, '/nope')).status, 404);
    console.log('ok');
  } finally {
    server.close();
  }
});
