/**
 * Issue 13, part 1: a real QEMU guest driven through the remote driver and a private libvirtd
 * (TCG): define → start → getInfo → suspend → resume → console output → shutdown → start →
 * destroy → undefine, with the lifecycle event of each step, on
 * - qemu:///session of the unprivileged daemon, and
 * - qemu:///system of a root daemon in private namespaces, whose QEMU runs as the
 *   libvirt-qemu user Debian's build expects (given to it in the namespace's passwd).
 * Step times go to stderr (no timing asserts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain } from '../../lib/index.js';
import { connect } from '../../lib/index.js';
import { libvirtdSkipReason, privilegedLibvirtdSkipReason, type RunningLibvirtd, startLibvirtd } from '../helpers/libvirtd.js';
import { installTinyGuest, TICK, tinyGuestSkipReason, tinyGuestXML } from '../helpers/tiny-guest.js';
import { readConsoleUntil } from '../helpers/console-text.js';

const guestMissing = tinyGuestSkipReason();

interface SeenEvent {
  event: string;
  detail?: string;
}

const flavours = [
  { uri: 'qemu:///session', privileged: false, label: 'qemu:///session of the unprivileged daemon', skip: () => libvirtdSkipReason() },
  { uri: 'qemu:///system', privileged: true, label: 'qemu:///system of a root daemon in private namespaces', skip: () => privilegedLibvirtdSkipReason() },
];

// Outside CI a missing component skips with its reason in the title; under CI=true the
// reason functions throw, so a missing component fails the file instead.
for (const { uri, privileged, label, missing } of flavours.map((f) => ({ ...f, missing: f.skip() ?? guestMissing }))) {
describe.skipIf(missing !== undefined)(`QEMU guest through ${label}${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const NAME = 'xenvirt-tiny';
  let daemon: RunningLibvirtd;
  let conn: Connection;
  let dom: Domain;
  const seen: SeenEvent[] = [];
  const waiters: { match: (e: SeenEvent) => boolean; resolve: () => void }[] = [];
  const timings: string[] = [];

  /** Resolve when an event matching event/detail arrives (or has arrived since `from`). */
  function eventSeen(event: string, detail: string | undefined, from: number, timeoutMs = 120_000): Promise<void> {
    const match = (e: SeenEvent) => e.event === event && (detail === undefined || e.detail === detail);
    if (seen.slice(from).some(match)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${event}${detail ? `/${detail}` : ''}' event within ${timeoutMs} ms; seen: ${JSON.stringify(seen)}`)), timeoutMs);
      waiters.push({ match, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Run a step, wait for its lifecycle event, record how long both took. */
  async function step(label: string, action: () => Promise<unknown>, event: string, detail?: string): Promise<void> {
    const from = seen.length;
    const t0 = performance.now();
    await action();
    const t1 = performance.now();
    await eventSeen(event, detail, from);
    timings.push(`${label}: call ${(t1 - t0).toFixed(0)} ms, event ${event}${detail ? `/${detail}` : ''} after ${(performance.now() - t0).toFixed(0)} ms`);
  }

  beforeAll(async () => {
    daemon = await startLibvirtd(privileged ? { privileged: true } : { kvm: true });
    const files = await installTinyGuest(daemon.dir);
    conn = await connect(daemon.uri('unix', uri));
    conn.on('domain-event', (e) => {
      if (e.domain.name !== NAME) return;
      const ev: SeenEvent = e.detail === undefined ? { event: e.event } : { event: e.event, detail: e.detail };
      seen.push(ev);
      for (const w of [...waiters]) if (w.match(ev)) waiters.splice(waiters.indexOf(w), 1), w.resolve();
    });
    // Subscribing happens when the first listener is added; give it a round trip to settle.
    await conn.getHostname();
    await step('define', async () => (dom = await conn.defineXML(tinyGuestXML(NAME, files))), 'defined', 'added');
  }, 600_000);

  afterAll(async () => {
    try {
      if (dom) {
        await dom.destroy().catch(() => undefined);
        await dom.undefine().catch(() => undefined);
      }
      await conn?.close();
    } finally {
      await daemon?.stop();
      if (timings.length) console.error(`${label}: guest step times:\n  ${timings.join('\n  ')}`);
    }
  });

  it('starts the guest and reports it running', async () => {
    await step('start', () => dom.create(), 'started', 'booted');
    const info = await dom.getInfo();
    expect(info.state).toBe('running');
    expect(info.maxMem).toBe(128 * 1024);
    expect(info.nrVirtCpu).toBe(1);
  }, 180_000);

  it('suspends and resumes it', async () => {
    await step('suspend', () => dom.suspend(), 'suspended', 'paused');
    expect((await dom.getInfo()).state).toBe('paused');
    await step('resume', () => dom.resume(), 'resumed', 'unpaused');
    expect((await dom.getInfo()).state).toBe('running');
  }, 180_000);

  it("shows the guest's console output", async () => {
    const t0 = performance.now();
    const text = await readConsoleUntil(await dom.openConsole(), TICK, 120_000);
    timings.push(`console: first tick after ${(performance.now() - t0).toFixed(0)} ms`);
    expect(text).toMatch(TICK);
  }, 180_000);

  it('shuts it down through the ACPI power button, starts it again, destroys and undefines it', async () => {
    await step('shutdown', () => dom.shutdown(), 'stopped', 'shutdown');
    expect((await dom.getInfo()).state).toBe('shutoff');
    await step('start again', () => dom.create(), 'started', 'booted');
    await step('destroy', () => dom.destroy(), 'stopped', 'destroyed');
    expect((await dom.getInfo()).state).toBe('shutoff');
    await step('undefine', () => dom.undefine(), 'undefined', 'removed');
    await expect(conn.lookupDomainByName(NAME)).rejects.toMatchObject({ code: 'VIR_ERR_NO_DOMAIN' });
    dom = undefined as unknown as Domain;
  }, 300_000);
});
}
