/**
 * The XenStore sub-driver against Debian's real C xenstored and oxenstored, started
 * as ordinary processes on private sockets (test/helpers/xenstored.ts): domain list and
 * lookups from /local/domain, the info fallback, memory target, shutdown/reboot
 * requests, live XML facts and lifecycle events from the special watches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, ErrorCode, XenStore } from '../../lib/index.js';
import { XenStoreSubDriver, xenstoreSubDriverFactory } from '../../lib/drivers/xen/xenstore-subdriver.js';
import type { SubDriverContext } from '../../lib/drivers/xen/subdriver.js';
import { DAEMON_KINDS, DAEMON_NAMES, skipReason, startXenstored, type RunningXenstored } from '../helpers/xenstored.js';
import { rejection } from '../helpers/rejection.js';
import { cuttable } from '../helpers/cuttable-socket.js';

const WEB = { name: 'web', uuid: '4d3b6f38-3c1e-4b0c-9f0e-1f2a3b4c5d6e', id: 3 };
const NEW = { name: 'newcomer', uuid: '9a8b7c6d-0000-4000-8000-00000000abcd', id: 5 };

const FAKE_XL = join(dirname(fileURLToPath(import.meta.url)), 'fake-xl.sh');


type DomainEvent = { domain: { name: string; uuid: string; id: number }; event: string };

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function writeDomain(xs: XenStore, d: typeof WEB, extra: Record<string, string> = {}): Promise<void> {
  const base = `/local/domain/${d.id}`;
  await xs.write(`${base}/name`, d.name);
  await xs.write(`${base}/vm`, `/vm/${d.uuid}`);
  for (const [k, v] of Object.entries(extra)) await xs.write(`${base}/${k}`, v);
}

for (const kind of DAEMON_KINDS) {
  describe.skipIf(skipReason(kind))(`XenStore sub-driver against ${DAEMON_NAMES[kind]}`, () => {
    let daemon: RunningXenstored;
    let xs: XenStore; // the test's own view, to set up and check the store
    let sub: XenStoreSubDriver;
    const events = new EventEmitter();
    const seen: DomainEvent[] = [];
    const logs: string[] = [];
    let ctx: SubDriverContext;

    beforeAll(async () => {
      daemon = await startXenstored(kind);
      xs = await XenStore.open({ path: daemon.socket });
      await xs.write('/local/domain/0/name', 'Domain-0');
      await writeDomain(xs, WEB, {
        'memory/target': '131072',
        'memory/static-max': '262144',
        'cpu/0/availability': 'online',
        'cpu/1/availability': 'offline',
        'console/tty': '/dev/pts/4',
        'console/vnc-port': '5901',
      });
      await xs.write('/local/domain/4/name', 'half-built'); // no vm path yet: not listed
      // entries left behind by a domain xenstored no longer has (never introduced here): not listed
      await writeDomain(xs, { name: 'leftover', uuid: '6e6e6e6e-0000-4000-8000-000000000006', id: 6 });
      await xs.introduceDomain(WEB.id, 0x1000, 7);
      events.on('domain-event', (e: DomainEvent) => seen.push(e));
      ctx = { uri: new URL('xen:///'), options: { xenstorePath: daemon.socket }, privileged: true, readOnly: false, events, log: (m) => logs.push(m) };
      sub = (await xenstoreSubDriverFactory.open(ctx)) as XenStoreSubDriver;
    });
    afterAll(async () => {
      await sub?.close();
      await xs?.close();
      await daemon?.stop();
    });

    it('lists running domains named in /local/domain, skipping half-built and released ones', async () => {
      expect(await sub.listAllDomains({})).toEqual([
        { name: 'Domain-0', uuid: '00000000-0000-0000-0000-000000000000', id: 0 },
        WEB,
      ]);
      expect(await sub.listAllDomains({ inactive: true })).toEqual([]);
    });

    it('looks domains up by name, id and UUID; unknown ones are VIR_ERR_NO_DOMAIN', async () => {
      expect(await sub.lookupDomainByName('web')).toEqual(WEB);
      expect(await sub.lookupDomainById(3)).toEqual(WEB);
      expect(await sub.lookupDomainByUUID(WEB.uuid.toUpperCase())).toEqual(WEB);
      for (const call of [() => sub.lookupDomainByName('nope'), () => sub.lookupDomainByName('leftover'), () => sub.lookupDomainById(6), () => sub.lookupDomainById(42), () => sub.lookupDomainByUUID(NEW.uuid)]) {
        expect((await rejection(call())).code).toBe(ErrorCode.NO_DOMAIN);
      }
    });

    it('info fallback: memory target, static max and online vcpus', async () => {
      expect(await sub.domainGetInfo(WEB)).toEqual({ state: 'running', maxMem: 262144, memory: 131072, nrVirtCpu: 1, cpuTime: 0 });
    });

    it('refuses refs that are not running or whose id now names another domain', async () => {
      expect((await rejection(sub.domainGetInfo({ ...WEB, id: -1 }))).code).toBe(ErrorCode.OPERATION_INVALID);
      expect((await rejection(sub.domainShutdown({ ...WEB, uuid: NEW.uuid }))).code).toBe(ErrorCode.NO_DOMAIN);
      expect((await rejection(sub.domainShutdown({ ...WEB, id: 42 }))).code).toBe(ErrorCode.NO_DOMAIN);
    });

    it('sets the balloon target in memory/target, within the static maximum', async () => {
      await sub.domainSetMemory(WEB, 98304);
      expect(await xs.read('/local/domain/3/memory/target')).toBe('98304');
      const e = await rejection(sub.domainSetMemory(WEB, 300000));
      expect(e.code).toBe(ErrorCode.INVALID_ARG);
      expect(await xs.read('/local/domain/3/memory/target')).toBe('98304');
    });

    it('asks the guest to power off or reboot through control/shutdown; never Domain-0', async () => {
      await sub.domainShutdown(WEB);
      expect(await xs.read('/local/domain/3/control/shutdown')).toBe('poweroff');
      await sub.domainReboot(WEB);
      expect(await xs.read('/local/domain/3/control/shutdown')).toBe('reboot');
      const e = await rejection(sub.domainShutdown({ name: 'Domain-0', uuid: '00000000-0000-0000-0000-000000000000', id: 0 }));
      expect(e.code).toBe(ErrorCode.OPERATION_INVALID);
    });

    it('live XML carries the id, console tty and VNC port; no inactive XML', async () => {
      const xml = await sub.domainGetXMLDesc(WEB, {});
      expect(xml).toContain("<domain type='xen' id='3'>");
      expect(xml).toContain(`<uuid>${WEB.uuid}</uuid>`);
      expect(xml).toContain("tty='/dev/pts/4'");
      expect(xml).toContain("port='5901'");
      expect((await rejection(sub.domainGetXMLDesc(WEB, { inactive: true }))).code).toBe(ErrorCode.NO_SUPPORT);
    });

    it('emits started and stopped from @introduceDomain / @releaseDomain', async () => {
      seen.length = 0;
      await writeDomain(xs, NEW);
      await xs.introduceDomain(NEW.id, 0x2000, 9);
      await until(() => seen.some((e) => e.event === 'started'));
      expect(seen).toEqual([{ domain: NEW, event: 'started' }]);
      await xs.releaseDomain(NEW.id);
      await xs.rm(`/local/domain/${NEW.id}`);
      await until(() => seen.some((e) => e.event === 'stopped'));
      expect(seen[1]).toEqual({ domain: { ...NEW, id: -1 }, event: 'stopped' });
    });

    it('through connect("xen:///"): list, and domain events on the connection', async () => {
      const c = await connect('xen:///', { xen: { privileged: true, xenstorePath: daemon.socket, disable: ['hypervisor', 'configfiles', 'toolstack', 'xend', 'proxy'] } });
      try {
        const got: DomainEvent[] = [];
        c.on('domain-event', (e: DomainEvent) => got.push(e));
        expect((await c.listAllDomains()).map((d) => d.name)).toEqual(['Domain-0', 'web']);
        const d = await c.lookupDomainByName('web');
        expect(d.id).toBe(3);
        expect((await d.getInfo()).memory).toBe(98304);
        await writeDomain(xs, NEW);
        await xs.introduceDomain(NEW.id, 0x2000, 9);
        await until(() => got.length > 0);
        expect(got[0]).toEqual({ domain: NEW, event: 'started' });
        await xs.releaseDomain(NEW.id);
        await xs.rm(`/local/domain/${NEW.id}`);
      } finally {
        await c.close();
      }
    });

    it('XenStore lost mid-connection: shutdown falls to the toolstack (fake xl), lookups to the next source', async () => {
      const work = mkdtempSync(join(tmpdir(), 'xenvirt-xs-cut-'));
      const pass = await cuttable(daemon.socket, work);
      process.env.FAKE_XL_LOG = join(work, 'argv.log');
      const c = await connect('xen:///', { xen: { privileged: true, xenstorePath: pass.path, xlPath: FAKE_XL, disable: ['hypervisor', 'configfiles', 'xend', 'proxy'] } });
      try {
        const d = await c.lookupDomainByName('web');
        await pass.cut();
        await d.shutdown();
        expect(readFileSync(join(work, 'argv.log'), 'utf8')).toContain('arg=shutdown\narg=web\n');
        const e = await rejection(c.lookupDomainByName('web'));
        expect(e.message).toMatch(/closed|connection/i);
      } finally {
        await c.close();
        delete process.env.FAKE_XL_LOG;
        rmSync(work, { recursive: true, force: true });
      }
    });

    it('a XenStore that is not there fails the open (required as root)', async () => {
      const missing = `${daemon.rundir}/no-such-socket`;
      const e = await rejection(connect('xen:///', { xen: { privileged: true, xenstorePath: missing, disable: ['hypervisor'] } }));
      expect(e.message).toContain('xenstore sub-driver is required');
    });

    it('XenStore lost: the domain event stream ends with domain-event-error on the connection (and a warning), not silence', async () => {
      const work = mkdtempSync(join(tmpdir(), 'xenvirt-xs-events-'));
      const pass = await cuttable(daemon.socket, work);
      const c = await connect('xen:///', { xen: { privileged: true, xenstorePath: pass.path, disable: ['hypervisor', 'configfiles', 'toolstack', 'xend', 'proxy'] } });
      try {
        const ended: Error[] = [];
        const warned: Error[] = [];
        c.on('domain-event-error', (e: Error) => ended.push(e));
        c.on('warning', (e: Error) => warned.push(e));
        await pass.cut();
        await until(() => ended.length > 0);
        expect(ended).toHaveLength(1);
        expect(ended[0]!.message).toMatch(/XenStore domain events stopped/);
        expect(warned).toEqual(ended);
        expect(c.warnings).toEqual(ended);
      } finally {
        await c.close();
        rmSync(work, { recursive: true, force: true });
      }
    });

    it('after close, calls fail with a clear error and no more events come', async () => {
      const s = (await xenstoreSubDriverFactory.open(ctx)) as XenStoreSubDriver;
      await s.close();
      await s.close();
      const e = await rejection(s.listAllDomains({}));
      expect(e.message).toMatch(/closed/);
    });
  });
}
