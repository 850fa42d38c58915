/**
 * The struct layouts and op numbers in native/hv_abi.h against Debian's libxen-dev
 * headers: a C program built from the real headers prints every offset, size and
 * constant the addon reports, and they must agree. Runs on any host (no Xen needed).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../../../lib/native.js';

const haveHeaders = existsSync('/usr/include/xen/domctl.h') && existsSync('/usr/include/xen/sysctl.h');
const haveCc = (() => {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const missing = !haveHeaders ? 'libxen-dev headers not installed' : !haveCc ? 'no C compiler' : '';
if (missing && process.env.CI !== 'true') console.warn(`hypervisor-abi: skipped (${missing})`);

/** C expression that yields the header's value for one key the addon reports. */
function cExpr(key: string): string {
  if (key.startsWith('sizeof ')) return `sizeof(struct ${key.slice(7)})`;
  const dot = key.indexOf('.');
  if (dot > 0) return `offsetof(struct ${key.slice(0, dot)}, ${key.slice(dot + 1)})`;
  return `(unsigned long long)(${key})`;
}

describe.skipIf(missing !== '' && process.env.CI !== 'true')('hypervisor ABI vs libxen-dev headers', () => {
  it('every offset, size and constant of native/hv_abi.h matches the public headers', () => {
    expect(missing, `CI must install libxen-dev and a compiler (${missing})`).toBe('');
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
      execFileSync('cc', ['-o', join(dir, 'abi'), join(dir, 'abi.c')], { stdio: 'pipe' });
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

  it('the interface version table includes the headers’ own versions', () => {
    expect(missing).toBe('');
    const hdr = (name: string, file: string) =>
      Number(/#define\s+\S+INTERFACE_VERSION\s+(0x[0-9a-fA-F]+)/.exec(
        execFileSync('grep', [`XEN_${name}_INTERFACE_VERSION`, file], { encoding: 'utf8' }),
      )![1]);
    const rows = (native() as unknown as { hvKnownVersions(): { sysctl: number; domctl: number }[] }).hvKnownVersions();
    expect(rows).toContainEqual(
      expect.objectContaining({ sysctl: hdr('SYSCTL', '/usr/include/xen/sysctl.h'), domctl: hdr('DOMCTL', '/usr/include/xen/domctl.h') }),
    );
  });
});
