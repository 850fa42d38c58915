/**
 * The XenStore sub-driver's name cache on real Xen (inside the harness's dom0), through
 * connect('xen:///'): after a warm list, `xl create`, `xl rename` and `xl destroy`
 * (another process, through libxl) show in the very next list and lookup — no waiting
 * in between, because every call first passes one XenStore round trip that lets the
 * watch events of completed changes arrive (lib/drivers/xen/xenstore-subdriver-names.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, type Connection } from '../../../lib/index.js';
import { createTestGuest, inDom0, notInDom0Reason, xl, type TestGuest } from '../helpers.js';

const here = inDom0();
if (!here) console.warn(`unified-name-cache.xen: skipped (${notInDom0Reason})`);

describe.skipIf(!here)('xen:/// names after xl changes them (XenStore name cache)', () => {
  let conn: Connection;
  const guests: TestGuest[] = [];

  beforeAll(async () => {
    conn = await connect('xen:///');
  });
  afterAll(async () => {
    for (const g of guests) await g.destroy();
    await conn?.close();
  });

  const listed = async () => (await conn.listAllDomains()).map((d) => `${d.id}:${d.name}`);

  it('xl create, rename and destroy between calls show in the very next list and lookup', async () => {
    for (let i = 0; i < 3; i++) expect((await listed()).length).toBeGreaterThan(0); // warm
    const g = await createTestGuest();
    guests.push(g);
    expect(await listed()).toContain(`${g.domid}:${g.name}`);
    const created = await conn.lookupDomainByName(g.name);
    expect(created.id).toBe(g.domid);
    expect((await created.getInfo()).state).not.toBe('shutoff');

    const renamed = `${g.name}-renamed`;
    await xl(['rename', g.name, renamed]);
    const afterRename = await listed();
    expect(afterRename).toContain(`${g.domid}:${renamed}`);
    expect(afterRename).not.toContain(`${g.domid}:${g.name}`);
    expect((await conn.lookupDomainByName(renamed)).id).toBe(g.domid);
    await expect(conn.lookupDomainByName(g.name)).rejects.toMatchObject({ code: ErrorCode.NO_DOMAIN });

    await xl(['destroy', String(g.domid)]);
    expect((await listed()).some((d) => d.endsWith(`:${renamed}`))).toBe(false);
    await expect(conn.lookupDomainByName(renamed)).rejects.toMatchObject({ code: ErrorCode.NO_DOMAIN });
  }, 240_000); // one guest created under emulation: 30-90 s
});
