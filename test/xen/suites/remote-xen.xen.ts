// xen-releases: 4.17
/**
 * Issue 13 part 3 on real Xen: a Xen host's libvirt daemon (Debian's libvirt 9.0.0, its libxl
 * driver) reached through xenvirt's remote driver, in the 4.17 dom0 where
 * test/xen/libvirt-in-dom0.sh runs it (with its CPU-model tweak: the emulated CPU has no VME,
 * so the `vme` feature is dropped from libvirt's 486 model, else the libxl driver finds no
 * CPU model). The 4.20 rootfs has no libvirt: this file names its release above.
 *
 * A tiny PV guest (the harness's kernel + busybox initramfs, as createTestGuest uses, here as
 * libvirt domain XML with <os><type>linux</type><kernel>… and a pty console) goes through
 * define → start → getInfo → suspend → resume → console shows its ticks → shutdown → start →
 * destroy → undefine, each step with its lifecycle event, over
 * - xen+unix:///system (libvirtd's socket, chosen as libvirt's client does), and
 * - xen+ssh://root@127.0.0.1:PORT/system through dom0's own sshd (test/helpers/sshd.ts),
 *   whose far side runs virt-ssh-helper.
 * Per-step timings go to the test output (no timing asserts).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Connection, type Domain } from '../../../lib/index.js';
import { startSshd, type RunningSshd } from '../../helpers/sshd.js';
import { readConsoleUntil } from '../../helpers/console-text.js';
import { inDom0, notInDom0Reason, pvGuestXML as guestXML, xl, xlList } from '../helpers.js';

const run = promisify(execFile);
const here = inDom0();
if (!here) console.warn(`remote-xen.xen: skipped (${notInDom0Reason})`);

const TICK = /XQ-DOMU tick \d+/;
let sshd: RunningSshd | undefined;

interface SeenEvent {
  event: string;
  detail?: string;
}

// The whole lifecycle over the unix socket; over ssh the steps that depend on the transport
// (open, calls, events, the console stream) without repeating the state changes unix covered,
// to keep this file's emulated run time (and CI's) down.
const flavours = [
  { label: 'xen+unix:///system', name: 'xv-remote-unix', full: true, uri: () => 'xen+unix:///system' },
  {
    label: "xen+ssh://root@127.0.0.1/system (dom0's own sshd, virt-ssh-helper on the far side)",
    name: 'xv-remote-ssh',
    full: false,
    uri: () => `xen+ssh://${sshd!.user}@127.0.0.1:${sshd!.port}/system?command=${sshd!.sshCommand}`,
  },
];

describe.skipIf(!here)("a Xen host's libvirtd (libxl driver) through the remote driver, in the 4.17 dom0", () => {
  beforeAll(async () => {
    const t0 = performance.now();
    [, sshd] = await Promise.all([
      run('bash', ['test/xen/libvirt-in-dom0.sh', 'start'], { timeout: 240_000 }),
      startSshd({ readyTimeoutMs: 120_000 }),
    ]);
    console.log(`remote-xen: libvirtd and sshd ready after ${(performance.now() - t0).toFixed(0)} ms`);
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  for (const flavour of flavours) {
    describe(`over ${flavour.label}`, () => {
      let conn: Connection;
      let dom: Domain | undefined;
      const seen: SeenEvent[] = [];
      const waiters: { match: (e: SeenEvent) => boolean; resolve: () => void }[] = [];
      const timings: string[] = [];

      function eventSeen(event: string, from: number, timeoutMs = 180_000): Promise<void> {
        const match = (e: SeenEvent) => e.event === event;
        if (seen.slice(from).some(match)) return Promise.resolve();
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no '${event}' event within ${timeoutMs} ms; seen: ${JSON.stringify(seen)}`)), timeoutMs);
          waiters.push({ match, resolve: () => (clearTimeout(timer), resolve()) });
        });
      }

      /** Run a step, wait for its lifecycle event, record how long both took. */
      async function step(label: string, action: () => Promise<unknown>, event: string): Promise<void> {
        const from = seen.length;
        const t0 = performance.now();
        await action();
        const t1 = performance.now();
        await eventSeen(event, from);
        const got = seen.slice(from).find((e) => e.event === event)!;
        timings.push(`${label}: call ${(t1 - t0).toFixed(0)} ms, event ${event}${got.detail ? `/${got.detail}` : ''} after ${(performance.now() - t0).toFixed(0)} ms`);
      }

      beforeAll(async () => {
        if (flavour.name === 'xv-remote-ssh') {
          // ssh alone first: a failure here is ssh's (with sshd's log), not the remote driver's
          const t0 = performance.now();
          try {
            await run(sshd!.sshCommand, ['-p', String(sshd!.port), '-l', sshd!.user, '127.0.0.1', 'virt-ssh-helper --version'], { timeout: 180_000 });
          } catch (e) {
            throw new Error(`ssh to dom0's own sshd failed: ${(e as Error).message}\nsshd log:\n${sshd!.log()}`);
          }
          timings.push(`ssh round trip running virt-ssh-helper --version: ${(performance.now() - t0).toFixed(0)} ms`);
        }
        const t0 = performance.now();
        // generous: under emulation an ssh login plus virt-ssh-helper's start take many seconds
        conn = await connect(flavour.uri(), { remote: { openTimeoutMs: 180_000 } });
        timings.push(`connect: ${(performance.now() - t0).toFixed(0)} ms`);
        expect(conn.getType()).toBe('Xen');
        conn.on('domain-event', (e) => {
          if (e.domain.name !== flavour.name) return;
          const ev: SeenEvent = e.detail === undefined ? { event: e.event } : { event: e.event, detail: e.detail };
          seen.push(ev);
          for (const w of [...waiters]) if (w.match(ev)) waiters.splice(waiters.indexOf(w), 1), w.resolve();
        });
        await conn.getHostname(); // the event subscription made on the first listener is in place
      });

      afterAll(async () => {
        try {
          if (dom) {
            await dom.destroy().catch(() => undefined);
            await dom.undefine().catch(() => undefined);
          }
          await conn?.close();
          // whatever libvirt left running must not disturb the next suites
          if ((await xlList()).some((r) => r.name === flavour.name)) await xl(['destroy', flavour.name]);
        } finally {
          if (timings.length) console.log(`remote-xen over ${flavour.label}: step times:\n  ${timings.join('\n  ')}`);
        }
      });

      it('defines and starts a PV guest; getInfo and xl agree it runs', async () => {
        await step('define', async () => (dom = await conn.defineXML(guestXML(flavour.name))), 'defined');
        await step('start', () => dom!.create(), 'started');
        const info = await dom!.getInfo();
        expect(info.state).toBe('running');
        expect(info.maxMem).toBe(128 * 1024);
        expect(info.nrVirtCpu).toBe(1);
        const row = (await xlList()).find((r) => r.name === flavour.name);
        expect(row?.id).toBe(dom!.id);
      });

      // tests a flavour does not run are not declared at all (a skipped one fails CI)
      if (flavour.full) it('suspends and resumes it', async () => {
        await step('suspend', () => dom!.suspend(), 'suspended');
        expect((await dom!.getInfo()).state).toBe('paused');
        expect((await xlList()).find((r) => r.name === flavour.name)?.state).toContain('p');
        await step('resume', () => dom!.resume(), 'resumed');
        expect((await dom!.getInfo()).state).toBe('running');
      });

      it("shows the guest's console output", async () => {
        const t0 = performance.now();
        const text = await readConsoleUntil(await dom!.openConsole(), TICK, 150_000);
        timings.push(`console: first tick after ${(performance.now() - t0).toFixed(0)} ms`);
        expect(text).toMatch(TICK);
      });

      if (!flavour.full) it('destroys and undefines it', async () => {
        await step('destroy', () => dom!.destroy(), 'stopped');
        expect((await dom!.getInfo()).state).toBe('shutoff');
        await step('undefine', () => dom!.undefine(), 'undefined');
        await expect(conn.lookupDomainByName(flavour.name)).rejects.toMatchObject({ code: 'VIR_ERR_NO_DOMAIN' });
        dom = undefined;
      });

      if (flavour.full) it('shuts it down, starts it again, destroys and undefines it', async () => {
        await step('shutdown', () => dom!.shutdown(), 'stopped');
        expect((await dom!.getInfo()).state).toBe('shutoff');
        await step('start again', () => dom!.create(), 'started');
        expect((await dom!.getInfo()).state).toBe('running');
        await step('destroy', () => dom!.destroy(), 'stopped');
        expect((await dom!.getInfo()).state).toBe('shutoff');
        expect((await xlList()).some((r) => r.name === flavour.name)).toBe(false);
        await step('undefine', () => dom!.undefine(), 'undefined');
        await expect(conn.lookupDomainByName(flavour.name)).rejects.toMatchObject({ code: 'VIR_ERR_NO_DOMAIN' });
        dom = undefined;
      }, 300_000);
    });
  }
});
