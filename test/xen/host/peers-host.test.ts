/**
 * The host-side pieces of the `peers` benchmark, checked where no Xen runs:
 * - its libvirt C client (benchmarks/peers/libvirt-peer.c) builds against Debian's
 *   libvirt-dev and reports one sample per call and the listed domain count, run against
 *   libvirt's own embedded test driver (test:///default: one domain, 'test');
 * - test/xen/libvirt-in-dom0.sh refuses to touch a machine that is not a Xen dom0 (it
 *   edits files under /usr, which only dom0's RAM overlay may take).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const haveLibvirt = existsSync('/usr/include/libvirt/libvirt.h');
if (!haveLibvirt && process.env.CI !== 'true') console.warn('peers-host: C client check skipped (libvirt-dev not installed; .ci/setup.d/35-libvirt-xen.sh)');

describe('peers benchmark, host side', () => {
  it.skipIf(!haveLibvirt && process.env.CI !== 'true')('libvirt-peer builds and reports per-call samples for every operation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenvirt-peer-'));
    try {
      const bin = join(dir, 'libvirt-peer');
      execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', bin, resolve(root, 'benchmarks/peers/libvirt-peer.c'), '-lvirt']);
      const out = JSON.parse(execFileSync(bin, ['test:///default', 'test', '7'], { encoding: 'utf8' })) as Record<string, unknown>;
      expect(out.domains).toBe(1);
      for (const k of ['getinfo', 'list', 'listinfo', 'lookup']) {
        const s = out[k] as number[];
        expect(s).toHaveLength(7);
        for (const v of s) expect(v).toBeGreaterThan(0);
      }
      const missing = spawnSync(bin, ['test:///default', 'no-such-domain', '3'], { encoding: 'utf8' });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/virDomainLookupByName failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(existsSync('/dev/xen/privcmd'))('libvirt-in-dom0.sh refuses to run outside a Xen dom0 and changes nothing', () => {
    const cpuMap = '/usr/share/libvirt/cpu_map/x86_486.xml';
    const before = existsSync(cpuMap) ? readFileSync(cpuMap, 'utf8') : undefined;
    const r = spawnSync('bash', [resolve(root, 'test/xen/libvirt-in-dom0.sh'), 'start', join(tmpdir(), 'never-used')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not in a Xen dom0/);
    if (before !== undefined) expect(readFileSync(cpuMap, 'utf8')).toBe(before);
  });
});
