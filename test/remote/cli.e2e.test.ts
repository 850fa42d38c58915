/**
 * The CLI over the remote driver, spawned as a user runs it (bin/xenvirt.js → dist/cli.js),
 * against the real libvirtd; answers cross-checked with virsh on the same daemon.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libvirtdSkipReason, type RunningLibvirtd, startLibvirtd } from '../helpers/libvirtd.js';
import { installTinyGuest, tinyGuestUnavailable, tinyGuestXML, TICK } from '../helpers/tiny-guest.js';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const bin = join(root, 'bin', 'xenvirt.js');
const xenvirt = async (...args: string[]) => (await run(process.execPath, [bin, ...args], { cwd: root, timeout: 60_000 })).stdout;
const virsh = async (...args: string[]) => (await run('virsh', args, { timeout: 60_000 })).stdout;
const value = (out: string, key: string) => out.match(new RegExp(`^${key}:\\s*(.*)$`, 'm'))?.[1]?.trim();

describe.skipIf(libvirtdSkipReason())('xenvirt CLI over the remote driver', () => {
  let daemon: RunningLibvirtd;
  beforeAll(async () => {
    if (!existsSync(join(root, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build:ts` (npm test does)');
    daemon = await startLibvirtd();
  });
  afterAll(() => daemon?.stop());

  it('list, dominfo and net-list answer as virsh does, over unix and TCP', async () => {
    for (const uri of [daemon.uri('unix'), daemon.uri('tcp')]) {
      expect(await xenvirt('-c', uri, 'list', '--all')).toMatch(/^ 1\s+test\s+running$/m);
      const mine = await xenvirt('-c', uri, 'dominfo', 'test');
      const theirs = await virsh('-c', uri, 'dominfo', 'test');
      for (const key of ['Id', 'Name', 'UUID', 'State', 'CPU(s)', 'Max memory', 'Used memory', 'Autostart']) expect(value(mine, key), key).toBe(value(theirs, key));
      expect(await xenvirt('-c', uri, 'net-list')).toMatch(/^ default\s+active/m);
    }
  });

  it('prints a clear error and exits 1 for a domain the daemon does not have', async () => {
    const e = await xenvirt('-c', daemon.uri('unix'), 'dominfo', 'nope').catch((x: { code: number; stderr: string }) => x);
    expect((e as { code: number }).code).toBe(1);
    expect((e as { stderr: string }).stderr).toMatch(/VIR_ERR_NO_DOMAIN/);
  });

  it('sends a URI no local driver claims (qemu:///session) to the local session daemon, as libvirt does', async () => {
    // The session daemon's socket is $XDG_RUNTIME_DIR/libvirt/libvirt-sock for a non-root user:
    // point a private runtime dir at the test daemon and run the CLI as that user.
    const runtime = mkdtempSync(join(tmpdir(), 'xenvirt-runtime-'));
    try {
      chmodSync(runtime, 0o755);
      mkdirSync(join(runtime, 'libvirt'));
      symlinkSync(daemon.socket, join(runtime, 'libvirt', 'libvirt-sock'));
      const env = [`XDG_RUNTIME_DIR=${runtime}`, `HOME=${runtime}`, `PATH=${process.env.PATH}`];
      const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', '-i', ...env] : ['env', ...env];
      const { stdout } = await run(asUser[0]!, [...asUser.slice(1), process.execPath, bin, '-c', 'qemu:///session', 'version'], { cwd: root, timeout: 60_000 });
      const theirs = await virsh('-c', daemon.uri('unix', 'qemu:///session'), 'version');
      expect(value(stdout, 'Running hypervisor')).toBe(value(theirs, 'Running hypervisor'));
      expect(value(stdout, 'Running hypervisor')).toMatch(/^QEMU \d/);
    } finally {
      rmSync(runtime, { recursive: true, force: true });
    }
  });

  it.skipIf(tinyGuestUnavailable() && process.env.CI !== 'true')('console DOMAIN shows the guest output and leaves on Ctrl-]', async () => {
    const uri = daemon.uri('unix', 'qemu:///session');
    const files = await installTinyGuest(daemon.dir);
    const { writeFileSync } = await import('node:fs');
    const xmlFile = join(daemon.dir, 'cli-console.xml');
    writeFileSync(xmlFile, tinyGuestXML('cli-console', files));
    await virsh('-c', uri, 'create', xmlFile);
    try {
      const child = spawn(process.execPath, [bin, '-c', uri, 'console', 'cli-console'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no tick within 240 s: ${out.slice(-300)}`)), 240_000);
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString('latin1');
          if (TICK.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.stdin.write(Buffer.from([0x1d])); // Ctrl-]
      expect(await exited).toBe(0);
      expect(out).toMatch(TICK);
    } finally {
      await virsh('-c', uri, 'destroy', 'cli-console');
    }
  }, 300_000);
});
