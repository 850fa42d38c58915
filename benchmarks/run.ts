/**
 * `npm run bench [suite…]`: runs every benchmarks/cases/*.bench.ts (or only the named
 * suites), prints one table and writes benchmarks/results/<suite>.json per suite.
 */
import { readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printRows, writeResults, type BenchCase, type BenchRow } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = new Set(process.argv.slice(2));
const files = readdirSync(resolve(here, 'cases')).filter((f) => f.endsWith('.bench.ts')).sort();
const all: BenchRow[] = [];
let failed = false;
for (const f of files) {
  // Cases are named <suite>.bench.ts, so unwanted suites are not even loaded.
  if (wanted.size && !wanted.has(f.replace(/\.bench\.ts$/, ''))) continue;
  console.error(`bench: running ${f}`);
  try {
    const mod = (await import(pathToFileURL(resolve(here, 'cases', f)).href)) as { default: BenchCase };
    const c = mod.default;
    const out = await c.run();
    if ('skipped' in out) {
      console.error(`bench: ${c.suite} skipped: ${out.skipped}`);
      continue;
    }
    all.push(...out);
    console.error(`bench: wrote ${writeResults(c.suite, out)}`);
  } catch (e) {
    failed = true;
    console.error(`bench: ${f} failed: ${(e as Error).stack ?? e}`);
  }
}
printRows(all);
process.exitCode = failed ? 1 : 0;
