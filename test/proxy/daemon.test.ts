/** The built `xenvirt-proxy` command: arguments, serving, and a clean stop on SIGTERM. */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDaemonArgs } from '../../lib/proxy/daemon.js';
import { ProxyClient } from '../../lib/proxy/client.js';
import { isVirError } from '../../lib/errors.js';

const root = resolve(__dirname, '../..');
const built = existsSync(join(root, 'dist/proxy-daemon.js'));
const isRoot = process.getuid?.() === 0;

describe('xenvirt-proxy arguments', () => {
  it('parses its options and refuses bad ones with a usage line', () => {
    expect(parseDaemonArgs(['--socket', '/run/x.sock', '--max-clients', '4', '--allow-uid', '1000', '--allow-gid', '50'])).toMatchObject({
      socket: '/run/x.sock',
      uri: 'xen:///',
      maxClients: 4,
      allowUids: [1000],
      allowGids: [50],
    });
    for (const bad of [['--socket', 'relative'], ['--max-clients', '0'], ['--max-clients', 'x'], ['--bogus'], ['--uri']]) {
      let err: unknown;
      try {
        parseDaemonArgs(bad);
      } catch (e) {
        err = e;
      }
      expect(isVirError(err)).toBe(true);
      expect((err as { code: string }).code).toBe('VIR_ERR_INVALID_ARG');
      expect((err as Error).message).toMatch(/usage: xenvirt-proxy/);
    }
  });
});

// CI builds dist/ before the tests (npm test's pretest); locally it may not be built yet.
describe.skipIf(!built && process.env.CI !== 'true')('the built xenvirt-proxy command (needs `npm run build:ts`)', () => {
  it.skipIf(!isRoot && process.env.CI !== 'true')('serves until SIGTERM, then removes its socket (run as root)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenvirt-proxyd-'));
    const sock = join(dir, 'run', 'proxy.sock');
    const child = spawn(process.execPath, [join(root, 'bin/xenvirt-proxy.js'), '--uri', 'test:///default', '--socket', sock], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    try {
      const t0 = Date.now();
      while (!existsSync(sock)) {
        if (Date.now() - t0 > 15_000 || child.exitCode !== null) throw new Error(`daemon did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const c = await ProxyClient.connect(sock);
      expect(await c.call('lookupDomainByName', ['test'])).toMatchObject({ name: 'test' });
      await c.close();
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(sock)).toBe(false);
      expect(stderr).toMatch(/serving test:\/\/\/default read-only/);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
