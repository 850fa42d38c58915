/**
 * test/xen/suite-releases.sh: which Xen releases run (and count) a suite, read from its
 * `// xen-releases:` line — checked on temp files and on the real suites that use it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const xenDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'xenvirt-suite-releases-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Source the helper and run one of its functions; returns [exit status, stdout]. */
function helper(fn: string, ...args: string[]): [number | null, string] {
  const r = spawnSync('bash', ['-c', `. "$0" && "$@"`, join(xenDir, 'suite-releases.sh'), fn, ...args], { encoding: 'utf8' });
  return [r.status, r.stdout.trim()];
}
function suite(name: string, text: string): string {
  const p = join(dir, `${name}.xen.ts`);
  writeFileSync(p, text);
  return p;
}

describe('suite-releases.sh', () => {
  it('a suite without the line runs on every release', () => {
    const f = suite('plain', "import { it } from 'vitest';\n// xen-releases in prose is not the line\n");
    expect(helper('suite_releases', f)).toEqual([0, '']);
    expect(helper('suite_runs_on', f, '4.17')[0]).toBe(0);
    expect(helper('suite_runs_on', f, '4.20')[0]).toBe(0);
  });

  it('the line names the releases (spaces or commas); others neither run nor count it', () => {
    const one = suite('one', '// xen-releases: 4.17\n/** doc */\n');
    expect(helper('suite_releases', one)).toEqual([0, '4.17']);
    expect(helper('suite_runs_on', one, '4.17')[0]).toBe(0);
    expect(helper('suite_runs_on', one, '4.20')[0]).toBe(1);
    expect(helper('suite_runs_on', one, '4.1')[0]).toBe(1);
    const two = suite('two', '/** doc */\n// xen-releases: 4.17,4.20  \n');
    expect(helper('suite_releases', two)).toEqual([0, '4.17 4.20']);
    expect(helper('suite_runs_on', two, '4.20')[0]).toBe(0);
  });

  it('the libvirt suites run on 4.17 only (the 4.20 rootfs has no libvirt)', () => {
    for (const name of ['xen-networks', 'remote-xen']) {
      const f = join(xenDir, 'suites', `${name}.xen.ts`);
      expect(helper('suite_runs_on', f, '4.17')[0]).toBe(0);
      expect(helper('suite_runs_on', f, '4.20')[0]).toBe(1);
    }
  });
});
