// The unref-when-idle rule: a script that opened XenStore and has nothing pending exits
// by itself; an active watch keeps it alive until closed.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XenStore } from '../../lib/index.js';
import { skipReason, startXenstored, type RunningXenstored } from '../helpers/xenstored.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

function runFixture(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures/idle-exit.mts'), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const sawLine = (line: string, ms = 45000) =>
    new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`fixture never printed ${line}; stdout=${out} stderr=${err}`)), ms);
      const check = () => {
        if (out.includes(line)) {
          clearTimeout(t);
          res();
        } else setTimeout(check, 20);
      };
      check();
    });
  return { child, exited, sawLine, output: () => ({ out, err }) };
}

describe.skipIf(skipReason('c'))('XenStore and process lifetime', () => {
  let daemon: RunningXenstored;
  let xs: XenStore;
  beforeAll(async () => {
    daemon = await startXenstored('c');
    xs = await XenStore.open({ path: daemon.socket });
    await xs.write('/t/exit/key', 'k');
  });
  afterAll(async () => {
    await xs?.close();
    await daemon?.stop();
  });

  it('lets a script with nothing pending exit without close()', async () => {
    const f = runFixture([daemon.socket]);
    const timer = setTimeout(() => f.child.kill('SIGKILL'), 45000);
    const code = await f.exited;
    clearTimeout(timer);
    expect(f.output().out).toContain('read k');
    expect(code).toBe(0);
  }, 60000);

  it('keeps a script with an active watch alive until the watch closes', async () => {
    const f = runFixture([daemon.socket, 'watch']);
    try {
      await f.sawLine('watching');
      const early = await Promise.race([f.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('alive'), 1000))]);
      expect(early).toBe('alive');
      await xs.write('/t/exit/go/now', '1');
      await f.sawLine('fired');
      expect(await f.exited).toBe(0);
    } finally {
      f.child.kill('SIGKILL');
    }
  }, 60000);
});
