/**
 * The libvirtd test helper itself, checked with libvirt's own client (virsh) so the remote
 * driver's suites can trust the daemon they get.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libvirtdSkipReason, type RunningLibvirtd, startLibvirtd } from './libvirtd.js';
import { installTinyGuest, tinyGuestSkipReason, tinyGuestXML } from './tiny-guest.js';

/** Processes whose command line names a path under dir. */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'latin1').includes(`${dir}/`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const run = promisify(execFile);
const virsh = async (uri: string, ...args: string[]) => (await run('virsh', ['-c', uri, ...args], { timeout: 30_000 })).stdout;

describe.skipIf(libvirtdSkipReason())('libvirtd test helper', () => {
  let daemon: RunningLibvirtd;
  beforeAll(async () => {
    daemon = await startLibvirtd();
  });
  afterAll(() => daemon?.stop());

  it.each(['unix', 'tcp', 'tls'] as const)('serves test:///default over %s to virsh', async (transport) => {
    const out = await virsh(daemon.uri(transport), 'list', '--all');
    expect(out).toMatch(/^\s*1\s+test\s+running\s*$/m);
  });

  it('lets a SIGSTOPped daemon be continued, then stops it and removes its files', async () => {
    const other = await startLibvirtd();
    other.kill('SIGSTOP');
    other.kill('SIGCONT');
    expect(await virsh(other.uri('unix'), 'list')).toMatch(/\btest\s+running/);
    other.kill('SIGSTOP');
    await other.stop(); // must not hang on the stopped daemon
    expect(existsSync(other.dir)).toBe(false);
    expect(() => process.kill(other.pid, 0)).toThrow();
  });

  it('reports a SIGKILLed daemon through exited, and stop() still cleans up', async () => {
    const other = await startLibvirtd();
    other.kill('SIGKILL');
    await other.exited;
    await other.stop();
    expect(existsSync(other.dir)).toBe(false);
  });

  it.skipIf(tinyGuestSkipReason())('ends the QEMU guests the daemon detached when it stops', async () => {
    const other = await startLibvirtd();
    try {
      const files = await installTinyGuest(other.dir);
      writeFileSync(`${other.dir}/guest.xml`, tinyGuestXML('left-running', files));
      const uri = other.uri('unix', 'qemu:///session');
      await virsh(uri, 'define', `${other.dir}/guest.xml`);
      await virsh(uri, 'start', 'left-running');
      expect(processesNaming(other.dir).length).toBeGreaterThan(1); // the daemon's QEMU, at least
      other.kill('SIGKILL'); // the daemon dies; its guest would run on
    } finally {
      await other.stop();
    }
    expect(processesNaming(other.dir)).toEqual([]);
  }, 180_000);
});
