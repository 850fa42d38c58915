/**
 * The libvirtd test helper itself, checked with libvirt's own client (virsh) so the remote
 * driver's suites can trust the daemon they get.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libvirtdSkipReason, type RunningLibvirtd, startLibvirtd } from './libvirtd.js';

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
});
