// node test/xen/expect-tests.mjs LIST.json RESULTS_DIR SUITE…
// Compares what ran in dom0 (vitest-<suite>.json, vitest's JSON reporter) with what the
// suite files declare (LIST.json: `vitest list --json` on the host, with every dom0 guard
// open, see helpers.ts inDom0). Prints one line per suite; exits 1 unless every declared
// test ran and passed, and none was skipped, todo or missing: a suite that skips itself
// in dom0 cannot turn a run green.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [listFile, dir, ...suites] = process.argv.slice(2);
const declared = JSON.parse(readFileSync(listFile, 'utf8'));
let bad = 0;
for (const suite of suites) {
  const want = declared.filter((t) => basename(t.file) === `${suite}.xen.ts`).map((t) => t.name);
  const report = join(dir, `vitest-${suite}.json`);
  if (!existsSync(report)) {
    console.log(`tests ${suite}: 0/${want.length} passed (no report: the suite never finished)`);
    bad++;
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const results = (r.testResults ?? []).flatMap((f) => f.assertionResults ?? []);
  const count = (s) => results.filter((a) => a.status === s).length;
  const passed = count('passed');
  const failed = count('failed');
  const skipped = results.length - passed - failed;
  const names = new Set(results.map((a) => [...(a.ancestorTitles ?? []), a.title].join(' > ')));
  const missing = want.filter((n) => !names.has(n));
  const ok = want.length > 0 && passed === want.length && failed === 0 && skipped === 0 && missing.length === 0;
  if (!ok) bad++;
  console.log(
    `tests ${suite}: ${passed}/${want.length} passed, ${failed} failed, ${skipped} skipped` +
      (missing.length ? `, ${missing.length} never ran (${missing.slice(0, 3).join('; ')}${missing.length > 3 ? '; …' : ''})` : '') +
      (ok ? '' : '  <- expected every declared test to run and pass'),
  );
}
process.exit(bad ? 1 : 0);
