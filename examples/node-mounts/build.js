'use strict';
// Renders src/ into dist/: collapses the whitespace of each HTML and CSS
// file. Each result is kept in a content-addressed cache (SITE_CACHE), so an
// unchanged file is not rendered again, as real site generators do. The
// cache must be writable by the user that builds.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const cache = process.env.SITE_CACHE;
if (!cache) throw new Error('set SITE_CACHE to the cache directory');

fs.mkdirSync('dist', { recursive: true });
let hits = 0;
const names = fs.readdirSync('src').sort();
for (const name of names) {
  const text = fs.readFileSync(path.join('src', name), 'utf8');
  const key = crypto.createHash('sha256').update(`${name}\0${text}`).digest('hex');
  const kept = path.join(cache, key);
  let out;
  if (fs.existsSync(kept)) {
    out = fs.readFileSync(kept, 'utf8');
    hits += 1;
  } else {
    out = `${text.replace(/\s+/g, ' ').trim()}\n`;
    fs.writeFileSync(kept, out);
  }
  fs.writeFileSync(path.join('dist', name), out);
}
console.log(`rendered ${names.length} files (${hits} from the cache)`);
