/**
 * The XenStore sub-driver's name cache (lib/drivers/xen/xenstore-subdriver-names.ts)
 * against Debian's real C xenstored and oxenstored: a warm list is served from the
 * cache, and no answer is ever stale — a rename, a destroy, an id reused by a new
 * domain, a release or an introduce done by another connection shows in the very next
 * call, with no waiting in between (the barrier request makes the watch events arrive
 * first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { connect, ErrorCode, XenStore } from '../../lib/index.js';
import { XenStoreSubDriver, xenstoreSubDriverFactory } from '../../lib/drivers/xen/xenstore-subdriver.js';
import { DomainNameCache } from '../../lib/drivers/xen/xenstore-subdriver-names.js';
import type { SubDriverContext } from '../../lib/drivers/xen/subdriver.js';
import { DAEMON_KINDS, DAEMON_NAMES, skipReason, startXenstored, type RunningXenstored } from '../helpers/xenstored.js';
import { rejection } from '../helpers/rejection.js';

const DOM0 = { name: 'Domain-0', uuid: '00000000-0000-0000-0000-000000000000', id: 0 };
const uuidOf = (n: number) => `5eed0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

async function createDomain(xs: XenStore, id: number, name: string, uuid: string): Promise<void> {
  // As a toolstack does: the nodes in one transaction, then the introduction.
  await xs.transaction(async (tx) => {
    await tx.write(`/local/domain/${id}/name`, name);
    await tx.write(`/local/domain/${id}/vm`, `/vm/${uuid}`);
  });
  await xs.introduceDomain(id, 0x1000 + id, 10 + id);
}

async function destroyDomain(xs: XenStore, id: number): Promise<void> {
  await xs.releaseDomain(id);
  await xs.rm(`/local/domain/${id}`);
}

describe('DomainNameCache rules', () => {
  it('drops an id on a change of its node, name or vm; ignores deeper paths; refuses fills from an older generation', () => {
    const c = new DomainNameCache();
    const ref = { name: 'a', uuid: uuidOf(1), id: 1 };
    c.store(c.generation, 1, { ref, alive: true });
    expect(c.get(1)).toBeUndefined(); // off until enabled
    c.enable();
    c.store(c.generation, 1, { ref, alive: true });
    c.store(c.generation, 2, { ref: { ...ref, id: 2 }, alive: true });
    c.storeChanged('/local/domain/1/device/vbd/51712/state');
    c.storeChanged('/local/domain/1/memory/target');
    expect(c.get(1)?.ref).toEqual(ref);
    const before = c.generation;
    c.storeChanged('/local/domain/1/name');
    expect(c.get(1)).toBeUndefined();
    expect(c.get(2)?.alive).toBe(true);
    c.store(before, 1, { ref, alive: true }); // read before the change: not kept
    expect(c.get(1)).toBeUndefined();
    c.storeChanged('/local/domain/2');
    expect(c.get(2)).toBeUndefined();
    c.store(c.generation, 3, { ref: { ...ref, id: 3 }, alive: true });
    c.livenessChanged();
    expect(c.get(3)).toEqual({ ref: { ...ref, id: 3 }, alive: undefined });
    c.disable();
    c.store(c.generation, 3, { ref, alive: true });
    expect(c.get(3)).toBeUndefined();
  });
});

for (const kind of DAEMON_KINDS) {
  describe.skipIf(skipReason(kind))(`XenStore name cache against ${DAEMON_NAMES[kind]}`, () => {
    let daemon: RunningXenstored;
    let xs: XenStore; // another connection: the toolstack changing things
    let sub: XenStoreSubDriver;
    const logs: string[] = [];
    let ctx: SubDriverContext;

    beforeAll(async () => {
      daemon = await startXenstored(kind);
      xs = await XenStore.open({ path: daemon.socket });
      await xs.write('/local/domain/0/name', 'Domain-0');
      for (const id of [1, 2, 3]) await createDomain(xs, id, `guest${id}`, uuidOf(id));
      ctx = { uri: new URL('xen:///'), options: { xenstorePath: daemon.socket }, privileged: true, readOnly: false, events: new EventEmitter(), log: (m) => logs.push(m) };
      sub = (await xenstoreSubDriverFactory.open(ctx)) as XenStoreSubDriver;
    });
    afterAll(async () => {
      await sub?.close();
      await xs?.close();
      await daemon?.stop();
    });

    const names = async () => (await sub.listAllDomains({})).map((d) => `${d.id}:${d.name}`);

    it('is on after the open, and a warm list is served from it', async () => {
      expect(sub.nameCache.live).toBe(true);
      await sub.listAllDomains({});
      const { hits, fills } = sub.nameCache;
      expect(await names()).toEqual(['0:Domain-0', '1:guest1', '2:guest2', '3:guest3']);
      // (a background rescan from the watches' first firing may hit it too)
      expect(sub.nameCache.hits - hits).toBeGreaterThanOrEqual(4);
      expect(sub.nameCache.fills).toBe(fills); // nothing was read again
    });

    it('a rename shows in the next list and lookup, with no wait in between', async () => {
      await sub.listAllDomains({});
      await xs.write('/local/domain/2/name', 'renamed2');
      expect(await names()).toEqual(['0:Domain-0', '1:guest1', '2:renamed2', '3:guest3']);
      expect(await sub.lookupDomainByName('renamed2')).toEqual({ name: 'renamed2', uuid: uuidOf(2), id: 2 });
      expect((await rejection(sub.lookupDomainByName('guest2'))).code).toBe(ErrorCode.NO_DOMAIN);
      // renamed in a transaction, as xl does
      await xs.transaction(async (tx) => tx.write('/local/domain/2/name', 'guest2'));
      expect((await sub.lookupDomainById(2)).name).toBe('guest2');
    });

    it('back-to-back renames between calls: every call sees the last completed one', async () => {
      for (let i = 0; i < 30; i++) {
        await xs.write('/local/domain/3/name', `flip${i}`);
        const call = i % 3 === 0 ? names().then((n) => n[3]) : i % 3 === 1 ? sub.lookupDomainByName(`flip${i}`).then((d) => `${d.id}:${d.name}`) : sub.lookupDomainById(3).then((d) => `${d.id}:${d.name}`);
        expect(await call).toBe(`3:flip${i}`);
      }
      await xs.write('/local/domain/3/name', 'guest3');
    });

    it('a destroyed domain is gone from the next list; its id reused by a new domain shows the new one', async () => {
      await sub.listAllDomains({});
      await destroyDomain(xs, 1);
      expect(await names()).toEqual(['0:Domain-0', '2:guest2', '3:guest3']);
      expect((await rejection(sub.lookupDomainByName('guest1'))).code).toBe(ErrorCode.NO_DOMAIN);
      expect((await rejection(sub.lookupDomainById(1))).code).toBe(ErrorCode.NO_DOMAIN);
      await createDomain(xs, 1, 'reborn', uuidOf(101));
      expect(await sub.listAllDomains({})).toContainEqual({ name: 'reborn', uuid: uuidOf(101), id: 1 });
      expect(await sub.lookupDomainByUUID(uuidOf(101))).toEqual({ name: 'reborn', uuid: uuidOf(101), id: 1 });
      expect((await rejection(sub.lookupDomainByUUID(uuidOf(1)))).code).toBe(ErrorCode.NO_DOMAIN);
    });

    it('released but not yet removed: gone at once; introduced again: back at once', async () => {
      await sub.listAllDomains({});
      await xs.releaseDomain(2);
      expect(await names()).toEqual(['0:Domain-0', '1:reborn', '3:guest3']);
      await xs.introduceDomain(2, 0x1002, 12);
      expect(await names()).toEqual(['0:Domain-0', '1:reborn', '2:guest2', '3:guest3']);
    });

    it('a new vm path (another UUID) shows at once; a UUID read through <vm>/uuid is never cached', async () => {
      await xs.write('/local/domain/3/vm', `/vm/${uuidOf(303)}`);
      expect((await sub.lookupDomainById(3)).uuid).toBe(uuidOf(303));
      await xs.write('/vm/by-name-3/uuid', uuidOf(304));
      await xs.write('/local/domain/3/vm', '/vm/by-name-3');
      expect((await sub.lookupDomainById(3)).uuid).toBe(uuidOf(304));
      await xs.write('/vm/by-name-3/uuid', uuidOf(305)); // not under /local/domain: no watch fires for it
      expect((await sub.lookupDomainByName('guest3')).uuid).toBe(uuidOf(305));
      await xs.write('/local/domain/3/vm', `/vm/${uuidOf(3)}`);
    });

    it('a half-built domain appears as soon as it is named and has its vm path', async () => {
      await xs.write('/local/domain/7/name', 'building');
      await xs.introduceDomain(7, 0x1007, 17);
      expect(await names()).not.toContain('7:building');
      await xs.write('/local/domain/7/vm', `/vm/${uuidOf(7)}`);
      expect(await names()).toContain('7:building');
      await destroyDomain(xs, 7);
      expect(await names()).not.toContain('7:building');
    });

    it('through connect("xen:///"): lookups and lists after a rename by another connection', async () => {
      const c = await connect('xen:///', { xen: { privileged: true, xenstorePath: daemon.socket, disable: ['hypervisor', 'configfiles', 'toolstack', 'xend', 'proxy'] } });
      try {
        expect((await c.lookupDomainByName('guest2')).id).toBe(2);
        await xs.write('/local/domain/2/name', 'via-connect');
        expect((await c.lookupDomainByName('via-connect')).id).toBe(2);
        expect((await rejection(c.lookupDomainByName('guest2'))).code).toBe(ErrorCode.NO_DOMAIN);
        expect((await c.listAllDomains()).map((d) => d.name)).toContain('via-connect');
      } finally {
        await c.close();
        await xs.write('/local/domain/2/name', 'guest2');
      }
    });

    it('after close the cache is off and calls fail clearly', async () => {
      const s = (await xenstoreSubDriverFactory.open(ctx)) as XenStoreSubDriver;
      expect(s.nameCache.live).toBe(true);
      await s.close();
      expect(s.nameCache.live).toBe(false);
      expect((await rejection(s.listAllDomains({}))).message).toMatch(/closed/);
    });
  });
}
