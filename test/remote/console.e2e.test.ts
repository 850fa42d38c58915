/**
 * dom.openConsole() over the real libvirtd: a tiny QEMU guest (software emulation, started
 * through qemu:///session on the private daemon) prints a tick on its serial console every
 * second; we read it through libvirt's stream packets as a Node Duplex.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libvirtdSkipReason, type RunningLibvirtd, startLibvirtd } from '../helpers/libvirtd.js';
import { installTinyGuest, tinyGuestUnavailable, tinyGuestXML, TICK } from '../helpers/tiny-guest.js';
import { connect, type Connection, VirError } from '../../lib/index.js';

function skipReason(): string | undefined {
  const why = libvirtdSkipReason() ?? tinyGuestUnavailable();
  if (why && process.env.CI === 'true') throw new Error(`CI=true but the console test cannot run: ${why}`);
  return why;
}

describe.skipIf(skipReason())('domain console over the remote driver', () => {
  let daemon: RunningLibvirtd;
  let conn: Connection;
  beforeAll(async () => {
    daemon = await startLibvirtd();
    conn = await connect(daemon.uri('unix', 'qemu:///session'));
  }, 600_000);
  afterAll(async () => {
    await conn?.close();
    await daemon?.stop();
  });

  it('reads the guest serial console output through dom.openConsole()', async () => {
    const files = await installTinyGuest(daemon.dir);
    const dom = await conn.createXML(tinyGuestXML('console-e2e', files));
    try {
      const console = await dom.openConsole();
      let text = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no tick on the console within 240 s; got: ${text.slice(-500)}`)), 240_000);
        console.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
          if (TICK.test(text)) {
            clearTimeout(timer);
            resolve();
          }
        });
        console.on('error', reject);
      });
      expect(text).toMatch(TICK);
      const closed = new Promise((r) => console.once('close', r));
      console.destroy();
      await closed;
    } finally {
      await dom.destroy();
    }
  }, 300_000);

  it('refuses a console for a device the domain does not have, with a VirError', async () => {
    const files = await installTinyGuest(daemon.dir);
    const dom = await conn.createXML(tinyGuestXML('console-e2e-2', files));
    try {
      const e = await dom.openConsole('no-such-device').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(VirError);
      expect((e as VirError).code).toMatch(/^VIR_ERR_/);
      expect((e as VirError).message).toMatch(/no-such-device|character device|console/i);
    } finally {
      await dom.destroy();
    }
  }, 300_000);
});
