/**
 * The struct layouts and op numbers in native/hv_abi.h against Debian's libxen-dev
 * headers of every release we test on: bookworm's (Xen 4.17, installed on the host) and
 * trixie's (Xen 4.20, unpacked into .cache/xen-headers/trixie by
 * .ci/setup.d/35-xen-trixie.sh). For each set a C program built from the real headers
 * prints every offset, size and constant the addon reports, and they must agree; the
 * headers' own interface versions must be a row of the table that selects the layout
 * checked here. Runs on any host (no Xen needed).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../../../lib/native.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const HEADER_SETS = [
  { name: 'bookworm (Xen 4.17)', include: '/usr/include', setup: '.ci/setup.d/30-xen-qemu.sh (libxen-dev)' },
  { name: 'trixie (Xen 4.20)', include: join(repo, '.cache/xen-headers/trixie/usr/include'), setup: '.ci/setup.d/35-xen-trixie.sh' },
];
const haveCc = (() => {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const ci = process.env.CI === 'true';
/** C expression that yields the header's value for one key the addon reports. */
function cExpr(key: string): string {
  if (key.startsWith('sizeof ')) return `sizeof(struct ${key.slice(7)})`;
  const dot = key.indexOf('.');
  if (dot > 0) return `offsetof(struct ${key.slice(0, dot)}, ${key.slice(dot + 1)})`;
  return `(unsigned long long)(${key})`;
}

const rows = () =>
  (native() as unknown as { hvKnownVersions(): { xen: string; sysctl: number; domctl: number; layout: string }[] }).hvKnownVersions();

for (const set of HEADER_SETS) {
  const haveHeaders = existsSync(join(set.include, 'xen/domctl.h')) && existsSync(join(set.include, 'xen/sysctl.h'));
  const missing = !haveHeaders ? `${set.name} libxen-dev headers missing in ${set.include} (run ${set.setup})` : !haveCc ? 'no C compiler' : '';
  if (missing && !ci) console.warn(`hypervisor-abi: skipped (${missing})`);

  describe.skipIf(missing !== '' && !ci)(`hypervisor ABI vs ${set.name} libxen-dev headers`, () => {
    it('every offset, size and constant of native/hv_abi.h matches the public headers', () => {
      expect(missing, `CI must provide the headers and a compiler (${missing})`).toBe('');
      const ours = (native() as unknown as { hvAbiLayout(): Record<string, number> }).hvAbiLayout();
      const keys = Object.keys(ours);
      expect(keys.length).toBeGreaterThan(50);
      const dir = mkdtempSync(join(tmpdir(), 'xenvirt-abi-'));
      try {
        const src = [
          '#define __XEN_TOOLS__ 1',
          '#include <stddef.h>',
          '#include <stdio.h>',
          '#include <stdint.h>',
          '#include <xen/xen.h>',
          '#include <xen/version.h>',
          '#include <xen/domctl.h>',
          '#include <xen/sysctl.h>',
          'int main(void) {',
          ...keys.map((k) => `  printf("%s=%llu\\n", ${JSON.stringify(k)}, (unsigned long long)(${cExpr(k)}));`),
          '  return 0;',
          '}',
        ].join('\n');
        writeFileSync(join(dir, 'abi.c'), src);
        // -I before the system directories: this set's <xen/*.h> win over the host's
        execFileSync('cc', ['-I', set.include, '-o', join(dir, 'abi'), join(dir, 'abi.c')], { stdio: 'pipe' });
        const theirs = Object.fromEntries(
          execFileSync(join(dir, 'abi'), { encoding: 'utf8' })
            .trim()
            .split('\n')
            .map((l) => {
              const i = l.lastIndexOf('=');
              return [l.slice(0, i), Number(l.slice(i + 1))];
            }),
        );
        expect(ours).toEqual(theirs);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('the headers’ interface versions are a row of the table, with the layout checked above', () => {
      expect(missing).toBe('');
      const hdr = (name: string, file: string) =>
        Number(/#define\s+\S+INTERFACE_VERSION\s+(0x[0-9a-fA-F]+)/.exec(
          execFileSync('grep', [`XEN_${name}_INTERFACE_VERSION`, join(set.include, 'xen', file)], { encoding: 'utf8' }),
        )![1]);
      const pair = { sysctl: hdr('SYSCTL', 'sysctl.h'), domctl: hdr('DOMCTL', 'domctl.h') };
      // hvAbiLayout() reports the newest layout ('v17'): the header set must select it
      expect(rows()).toContainEqual(expect.objectContaining({ ...pair, layout: 'v17' }));
    });
  });
}

describe('interface version table', () => {
  it('has one row per version pair, newest first, covering Xen 4.13 to the newest Debian release', () => {
    const table = rows();
    const pairs = table.map((r) => `${r.sysctl}/${r.domctl}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    const domctls = table.map((r) => r.domctl);
    expect([...domctls].sort((a, b) => b - a)).toEqual(domctls);
    const releases = table.flatMap((r) => r.xen.split('/'));
    for (const v of ['4.13', '4.14', '4.15', '4.16', '4.17', '4.18', '4.19', '4.20']) expect(releases).toContain(v);
  });
});
