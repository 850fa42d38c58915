/**
 * test/xen/expect-tests.mjs, the CI gate that every test a suite declares ran and passed
 * in dom0, fed with simulated vitest JSON reports (the real ones come from dom0).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '../expect-tests.mjs');
const dir = mkdtempSync(join(tmpdir(), 'xenvirt-expect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const declared = [
  { name: 'Area > one', file: '/repo/test/xen/suites/area.xen.ts' },
  { name: 'Area > two', file: '/repo/test/xen/suites/area.xen.ts' },
  { name: 'Other > only', file: '/repo/test/xen/suites/other.xen.ts' },
];
writeFileSync(join(dir, 'declared.json'), JSON.stringify(declared));

function simulatedReport(suite: string, results: Array<[string, string, string]>): void {
  const assertionResults = results.map(([ancestor, title, status]) => ({ ancestorTitles: [ancestor], title, status }));
  writeFileSync(join(dir, `vitest-${suite}.json`), JSON.stringify({ testResults: [{ assertionResults }] }));
}

function gate(...suites: string[]) {
  const r = spawnSync(process.execPath, [script, join(dir, 'declared.json'), dir, ...suites], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout };
}

describe('expect-tests.mjs', () => {
  it('passes when every declared test passed', () => {
    simulatedReport('area', [['Area', 'one', 'passed'], ['Area', 'two', 'passed']]);
    expect(gate('area')).toEqual({ status: 0, out: 'tests area: 2/2 passed, 0 failed, 0 skipped\n' });
  });

  it('fails when a declared test was skipped in dom0', () => {
    simulatedReport('area', [['Area', 'one', 'passed'], ['Area', 'two', 'skipped']]);
    const r = gate('area');
    expect(r.status).toBe(1);
    expect(r.out).toContain('1/2 passed, 0 failed, 1 skipped');
  });

  it('fails when a declared test never ran', () => {
    simulatedReport('area', [['Area', 'one', 'passed']]);
    const r = gate('area');
    expect(r.status).toBe(1);
    expect(r.out).toContain('1 never ran (Area > two)');
  });

  it('fails when a suite left no report, and names it', () => {
    simulatedReport('area', [['Area', 'one', 'passed'], ['Area', 'two', 'passed']]);
    const r = gate('area', 'other');
    expect(r.status).toBe(1);
    expect(r.out).toContain('tests other: 0/1 passed (no report');
  });

  it('fails on a failed test even when the count matches', () => {
    simulatedReport('other', [['Other', 'only', 'failed']]);
    expect(gate('other').status).toBe(1);
  });
});
