/**
 * listAllDomains({ withInfo: true }): each Domain's FIRST getInfo() answers from the info
 * read with the list, without a driver call; later calls ask the driver again. Proved with
 * the real test driver wrapped so that its domainGetInfo calls are counted.
 */
import { describe, it, expect, beforeAll, beforeEach, afterEach } from 'vitest';
import { connect, registerDriver, VirError, type Connection, type DomainRef, type HypervisorDriver } from '../../lib/index.js';
import { testDriverRegistration } from '../../lib/drivers/test/index.js';

let getInfoCalls = 0;
let listFlagsSeen: unknown[] = [];

/** The test driver with its domainGetInfo and listAllDomains calls recorded; `strip` drops attached info. */
function registerCountingTestDriver(scheme: string, strip: boolean): void {
  registerDriver({
    name: `counting-${scheme}`,
    uriSchemes: [scheme],
    async open(_uri, ctx) {
      const opened = await testDriverRegistration.open(new URL('test:///default'), ctx);
      if (opened === 'declined') return opened;
      const real = opened.driver;
      const driver: HypervisorDriver = {
        ...real,
        name: real.name,
        close: () => real.close(),
        async listAllDomains(flags) {
          listFlagsSeen.push({ ...flags });
          const refs = (await real.listAllDomains!(flags)) as DomainRef[];
          return strip ? refs.map(({ name, uuid, id }) => ({ name, uuid, id })) : refs;
        },
        async domainGetInfo(dom) {
          getInfoCalls++;
          return real.domainGetInfo!(dom);
        },
      };
      return { driver, networkDriver: opened.networkDriver };
    },
  });
}

beforeAll(() => {
  registerCountingTestDriver('countingtest', false);
  registerCountingTestDriver('countingbare', true);
});

let conn: Connection;
beforeEach(async () => {
  getInfoCalls = 0;
  listFlagsSeen = [];
  conn = await connect('countingtest:///default');
  // a second domain, shut off, so the list has more than one kind of entry
  await conn.defineXML(`<domain type='test'><name>off1</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`);
});
afterEach(async () => {
  await conn.close();
});

describe('Connection.listAllDomains({ withInfo: true })', () => {
  it('hands the flag to the driver', async () => {
    await conn.listAllDomains({ withInfo: true, active: true });
    expect(listFlagsSeen).toEqual([{ withInfo: true, active: true }]);
  });

  it("answers each Domain's first getInfo() without a driver call, and later ones through the driver", async () => {
    const doms = await conn.listAllDomains({ withInfo: true });
    expect(doms.map((d) => d.name).sort()).toEqual(['off1', 'test']);
    const first = await Promise.all(doms.map((d) => d.getInfo()));
    expect(getInfoCalls).toBe(0);
    expect(first.map((i) => i.state).sort()).toEqual(['running', 'shutoff']);
    const test = doms.find((d) => d.name === 'test')!;
    const listed = first[doms.indexOf(test)]!;
    const second = await test.getInfo();
    expect(getInfoCalls).toBe(1);
    // the listed info is the driver's own answer, not made up by the connection
    expect({ ...listed, cpuTime: 0 }).toEqual({ ...second, cpuTime: 0 });
    expect(listed).toMatchObject({ state: 'running', maxMem: expect.any(Number), nrVirtCpu: expect.any(Number) });
  });

  it('reflects changes made after the list only from the second getInfo() on', async () => {
    const [test] = await conn.listAllDomains({ withInfo: true, active: true });
    await (await conn.lookupDomainByName('test')).suspend();
    expect((await test!.getInfo()).state).toBe('running'); // read with the list
    expect((await test!.getInfo()).state).toBe('paused'); // asked again
    expect(getInfoCalls).toBe(1);
  });

  it('without withInfo, every getInfo() asks the driver', async () => {
    const doms = await conn.listAllDomains();
    await Promise.all(doms.map((d) => d.getInfo()));
    expect(getInfoCalls).toBe(doms.length);
  });

  it('works with a driver that attaches no info: getInfo() then asks the driver', async () => {
    const bare = await connect('countingbare:///default');
    try {
      const doms = await bare.listAllDomains({ withInfo: true });
      expect(getInfoCalls).toBe(0); // nothing fetched until asked
      const infos = await Promise.all(doms.map((d) => d.getInfo()));
      expect(infos.map((i) => i.state)).toEqual(['running']);
      expect(getInfoCalls).toBe(1);
    } finally {
      await bare.close();
    }
  });

  it('still refuses getInfo() once the connection is closed', async () => {
    const doms = await conn.listAllDomains({ withInfo: true });
    await conn.close();
    await expect(doms[0]!.getInfo()).rejects.toMatchObject({ code: 'VIR_ERR_INVALID_CONN' });
  });

  it('rejects a withInfo that is not a boolean with VIR_ERR_INVALID_ARG', async () => {
    const e = await conn.listAllDomains({ withInfo: 'yes' } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VirError);
    expect((e as VirError).code).toBe('VIR_ERR_INVALID_ARG');
    expect((e as VirError).message).toMatch(/withInfo/);
  });
});

describe('test driver listAllDomains({ withInfo: true })', () => {
  it('attaches info equal to domainGetInfo for every listed domain', async () => {
    const c = await connect('test:///default');
    try {
      const doms = await c.listAllDomains({ withInfo: true });
      for (const d of doms) {
        const listed = await d.getInfo();
        const asked = await d.getInfo();
        expect({ ...listed, cpuTime: 0 }).toEqual({ ...asked, cpuTime: 0 });
        expect(asked.cpuTime).toBeGreaterThanOrEqual(listed.cpuTime);
      }
      expect(doms.length).toBe(1);
    } finally {
      await c.close();
    }
  });
});
