// Builds the site: src/index.html with its version filled in, into dist/.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const { version } = JSON.parse(readFileSync("package.json", "utf8"));
const page = readFileSync("src/index.html", "utf8").replaceAll("{{version}}", version);
mkdirSync("dist", { recursive: true });
writeFileSync("dist/index.html", page);
console.log(`built dist/index.html (${version})`);
