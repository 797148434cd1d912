// Prints the gzipped weight of the built console (every JS and CSS file in dist/assets) and fails
// when it is over the budget: the console must load quickly on a ward office's connection.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 400;
const dir = new URL("../dist/assets/", import.meta.url).pathname;
let total = 0;
const rows = [];
for (const name of readdirSync(dir).sort()) {
  if (!/\.(m?js|css)$/.test(name)) continue;
  const raw = readFileSync(join(dir, name));
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  rows.push(`  ${name.padEnd(40)} ${(raw.length / 1024).toFixed(1).padStart(8)} KB ${(gz / 1024).toFixed(1).padStart(8)} KB gz`);
}
console.log("console weight (JS + CSS, the map's worker included):");
for (const r of rows) console.log(r);
const kb = total / 1024;
console.log(`  total ${kb.toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB)`);
if (kb > BUDGET_KB) {
  console.error(`console weight ${kb.toFixed(1)} KB gzipped is over the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
