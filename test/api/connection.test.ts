import { describe, it, expect, afterEach } from 'vitest';
import { connect, registerDriver, VirError, type Connection, type HypervisorDriver } from '../../lib/index.js';

// A deliberately bare driver: only name and close, and no network driver. It stands in
// for "a driver that lacks a method" — what the dispatch path must answer for.
let bareClosed = 0;
registerDriver({
  name: 'bare-fake',
  uriSchemes: ['bare'],
  async open(uri) {
    if (uri.pathname === '/decline') return 'declined';
    const driver: HypervisorDriver = {
      name: 'bare-fake',
      async close() {
        bareClosed++;
      },
    };
    return { driver };
  },
});

async function rejectsWith(p: Promise<unknown>, code: string): Promise<VirError> {
  const e = await p.then(
    () => {
      throw new Error(`expected rejection with ${code}`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VirError);
  expect((e as VirError).code).toBe(code);
  expect((e as VirError).message.length).toBeGreaterThan(10);
  return e as VirError;
}

describe('connect', () => {
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  it('opens the test driver by scheme and reports type and URI', async () => {
    const c = await connect('test:///default');
    open.push(c);
    expect(c.getType()).toBe('Test');
    expect(c.getURI()).toBe('test:///default');
    expect(await c.getVersion()).toBe(2);
    expect(typeof (await c.getHostname())).toBe('string');
  });

  it('rejects a malformed URI with VIR_ERR_INVALID_ARG', async () => {
    await rejectsWith(connect('not a uri'), 'VIR_ERR_INVALID_ARG');
    await rejectsWith(connect(''), 'VIR_ERR_INVALID_ARG');
  });

  it('rejects a scheme no driver handles with VIR_ERR_NO_CONNECT', async () => {
    await rejectsWith(connect('nosuch:///x'), 'VIR_ERR_NO_CONNECT');
  });

  it('treats a declining driver as absent', async () => {
    await rejectsWith(connect('bare:///decline'), 'VIR_ERR_NO_CONNECT');
  });

  it('rejects test:/// without a path with VIR_ERR_INVALID_ARG', async () => {
    await rejectsWith(connect('test:///'), 'VIR_ERR_INVALID_ARG');
  });
});

describe('dispatch', () => {
  it('answers VIR_ERR_NO_SUPPORT for every method a driver lacks, never a TypeError', async () => {
    const c = await connect('bare:///');
    try {
      await rejectsWith(c.getVersion(), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.nodeGetInfo(), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.getCapabilities(), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.listAllDomains(), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.lookupDomainByName('x'), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.defineXML('<domain/>'), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.restore('/tmp/x'), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.lookupDomainByName('x'), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.domainXMLFromNative('xen-xl', 'name="x"'), 'VIR_ERR_NO_SUPPORT');
      // getType falls back to the driver's name.
      expect(c.getType()).toBe('bare-fake');
    } finally {
      await c.close();
    }
  });

  it('answers VIR_ERR_NO_SUPPORT for every network call on an empty network slot', async () => {
    const c = await connect('bare:///');
    try {
      const e = await rejectsWith(c.listAllNetworks(), 'VIR_ERR_NO_SUPPORT');
      expect(e.message).toMatch(/no network driver/);
      await rejectsWith(c.lookupNetworkByName('default'), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.lookupNetworkByUUID('dd8fe884-6c02-601e-7551-cca97df1c5df'), 'VIR_ERR_NO_SUPPORT');
      await rejectsWith(c.networkDefineXML('<network><name>n</name></network>'), 'VIR_ERR_NO_SUPPORT');
    } finally {
      await c.close();
    }
  });

  it('checks arguments before reaching the driver (VIR_ERR_INVALID_ARG)', async () => {
    const c = await connect('test:///default');
    try {
      await rejectsWith(c.lookupDomainByName(''), 'VIR_ERR_INVALID_ARG');
      await rejectsWith(c.lookupDomainById(-1), 'VIR_ERR_INVALID_ARG');
      await rejectsWith(c.lookupDomainById(1.5), 'VIR_ERR_INVALID_ARG');
      await rejectsWith(c.lookupDomainByUUID('not-a-uuid'), 'VIR_ERR_INVALID_ARG');
      await rejectsWith(c.listAllDomains({ running: true } as never), 'VIR_ERR_INVALID_ARG');
      await rejectsWith(c.domainXMLFromNative('qemu-argv' as never, 'x'), 'VIR_ERR_INVALID_ARG');
      const d = await c.lookupDomainByName('test');
      await rejectsWith(d.setMemory(0), 'VIR_ERR_INVALID_ARG');
      await rejectsWith(d.setVcpus(-2), 'VIR_ERR_INVALID_ARG');
      await rejectsWith(d.pinVcpu(0, []), 'VIR_ERR_INVALID_ARG');
      await rejectsWith(d.setAutostart('yes' as never), 'VIR_ERR_INVALID_ARG');
    } finally {
      await c.close();
    }
  });
});

describe('read-only connections', () => {
  it('refuse every mutating call with VIR_ERR_OPERATION_DENIED and allow reads', async () => {
    const c = await connect('test:///default', { readOnly: true });
    try {
      expect(c.readOnly).toBe(true);
      const d = await c.lookupDomainByName('test');
      expect((await d.getInfo()).state).toBe('running');
      expect(await d.getXMLDesc()).toContain('<name>test</name>');
      const denied: Promise<unknown>[] = [
        c.defineXML('<domain/>'),
        c.createXML('<domain/>'),
        c.restore('/tmp/nothing'),
        d.suspend(),
        d.resume(),
        d.shutdown(),
        d.reboot(),
        d.destroy(),
        d.create(),
        d.undefine(),
        d.setMemory(1024),
        d.setMaxMemory(1024),
        d.setVcpus(1),
        d.pinVcpu(0, [0]),
        d.setAutostart(true),
        d.save('/tmp/nothing'),
        d.coreDump('/tmp/nothing'),
        c.networkDefineXML('<network/>'),
      ];
      for (const p of denied) await rejectsWith(p, 'VIR_ERR_OPERATION_DENIED');
      const n = await c.lookupNetworkByName('default');
      for (const p of [n.create(), n.destroy(), n.undefine()]) await rejectsWith(p, 'VIR_ERR_OPERATION_DENIED');
      // Nothing changed.
      expect((await d.getInfo()).state).toBe('running');
      expect(await n.isActive()).toBe(true);
    } finally {
      await c.close();
    }
  });
});

describe('close', () => {
  it('is idempotent, closes the driver once, and later calls reject with VIR_ERR_INVALID_CONN', async () => {
    const before = bareClosed;
    const c = await connect('bare:///');
    const first = c.close();
    const second = c.close();
    expect(second).toBe(first);
    await first;
    await c.close();
    expect(bareClosed - before).toBe(1);
    await rejectsWith(c.getVersion(), 'VIR_ERR_INVALID_CONN');
    expect(() => c.getType()).toThrow(VirError);
    expect(() => c.getURI()).toThrow(/closed/);
  });

  it('is safe with calls in flight', async () => {
    const c = await connect('test:///default');
    const d = await c.lookupDomainByName('test');
    const inflight = [d.getInfo(), c.listAllDomains(), d.getXMLDesc(), c.nodeGetInfo()];
    const closing = c.close();
    const settled = await Promise.allSettled(inflight);
    await closing;
    // Each call either finished or failed with a VirError; nothing crashed or hung.
    for (const s of settled) {
      if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(VirError);
    }
    await rejectsWith(d.getInfo(), 'VIR_ERR_INVALID_CONN');
  });
});

describe('VirError', () => {
  it('carries code, domain and name, and instanceof works across module copies', () => {
    const e = new VirError('boom', { code: 'VIR_ERR_NO_DOMAIN', domain: 'VIR_FROM_TEST', errno: 2, syscall: 'ENOENT' });
    expect(e.name).toBe('VirError');
    expect(e.code).toBe('VIR_ERR_NO_DOMAIN');
    expect(e.domain).toBe('VIR_FROM_TEST');
    expect(e.errno).toBe(2);
    expect(e).toBeInstanceOf(Error);
    // An object branded by another copy of the module is still a VirError.
    const foreign = Object.create(Error.prototype) as object;
    Object.defineProperty(foreign, Symbol.for('xenvirt.VirError'), { value: true });
    expect(foreign instanceof VirError).toBe(true);
    expect(new Error('plain') instanceof VirError).toBe(false);
  });
});
