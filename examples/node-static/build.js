'use strict';
// Builds src/ into dist/ with Node's standard library only: fills the
// page template and minifies the stylesheet. Same input, same output.

const fs = require('node:fs');
const path = require('node:path');

const root = __dirname;
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');
const { name, version } = require('./package.json');

function minifyCss(css) {
  return css
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{}:;,])\s*/g, '$1')
    .replace(/;}/g, '}')
    .trim();
}

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist, { recursive: true });

const template = fs.readFileSync(path.join(src, 'index.html'), 'utf8');
const html = template.replaceAll('{{name}}', name).replaceAll('{{version}}', version);
fs.writeFileSync(path.join(dist, 'index.html'), html);

const css = minifyCss(fs.readFileSync(path.join(src, 'style.css'), 'utf8'));
fs.writeFileSync(path.join(dist, 'style.css'), css + '\n');

for (const file of fs.readdirSync(dist).sort()) {
  console.log(`dist/${file}`);
}
