/**
 * The open rules of xen:/// and the connection-level behaviour of the Xen driver
 * (read-only, network slot, close), through connect() with fake sub-driver factories.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { existsSync } from 'node:fs';
import { connect, registerDriver, ErrorCode, VirError, type Connection } from '../../lib/index.js';
import { openXen, checkXenOptions } from '../../lib/drivers/xen/index.js';
import { ROUTES } from '../../lib/drivers/xen/routing.js';
import { MUTATING_METHODS } from '../../lib/dispatch.js';
import type { SubDriverFactory, SubDriverName } from '../../lib/drivers/xen/subdriver.js';
import { failure, fakeFactory, fakeSubDriver, type FakeFactory } from './fake-subdrivers.js';
import { rejection } from '../helpers/rejection.js';

const REF = { name: 'g', uuid: '11111111-2222-3333-4444-555555555555', id: 2 };

// The factories the 'xenfake' scheme opens with, set per test. Same open path as
// xen:/// (openXen), only the sub-drivers are fakes.
let factories: SubDriverFactory[] = [];
registerDriver({ name: 'xen-with-fake-subdrivers', uriSchemes: ['xenfake'], open: (uri, ctx) => openXen(uri, ctx, factories) });

function everyMethodFake(name: SubDriverName) {
  const methods: Record<string, { answer: unknown }> = {};
  for (const [m, r] of Object.entries(ROUTES)) if (r.order.includes(name)) methods[m] = { answer: m === 'listAllDomains' ? [] : REF };
  return fakeSubDriver(name, methods);
}

function standardFactories(fail: Partial<Record<SubDriverName, VirError>> = {}): FakeFactory[] {
  return (['hypervisor', 'xenstore', 'configfiles', 'toolstack'] as const).map((n) => fakeFactory(n, () => everyMethodFake(n), fail[n]));
}

const conns: Connection[] = [];
afterEach(async () => {
  await Promise.all(conns.splice(0).map((c) => c.close()));
});

async function open(uri: string, xen: object, extra: object = {}): Promise<Connection> {
  const c = await connect(uri, { xen, ...extra });
  conns.push(c);
  return c;
}

describe('no dead connection: the hypervisor speaks an interface this build does not know', () => {
  // The native probe's own words (native/hv_session.cc), on a Xen newer than the build.
  const unsupported = () =>
    new VirError('Xen 4.20 refuses every domctl interface version tried (0x15); this xenvirt build knows 0x15 (Xen 4.17): add the new version\'s row to native/hv_abi.h', {
      code: ErrorCode.XEN_CALL,
      errno: 13,
    });

  it('opens without the hypervisor sub-driver; the other sub-drivers answer; the reason is in conn.warnings', async () => {
    factories = standardFactories({ hypervisor: unsupported() });
    const c = await open('xenfake:///', { privileged: true });
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]!.code).toBe(ErrorCode.XEN_CALL);
    expect(c.warnings[0]!.message).toMatch(/opened without the hypervisor sub-driver.*refuses every domctl interface version/);
    const fakes = factories as FakeFactory[];
    const d = await c.lookupDomainByName('g');
    await d.getInfo(); // the hypervisor's route goes on to XenStore
    expect(fakes[1]!.opened[0]!.calls.map((x) => x.method)).toContain('domainGetInfo');
    await d.suspend(); // hypervisor-last: the toolstack
    expect(fakes[3]!.opened[0]!.calls.map((x) => x.method)).toContain('domainSuspend');
  });

  it('a reason given by lib/hypervisor (reason: interface-unsupported) is recognised too', async () => {
    factories = standardFactories({ hypervisor: Object.assign(new VirError('domctl 0x18 unknown', { code: ErrorCode.XEN_CALL }), { reason: 'interface-unsupported' }) });
    expect((await open('xenfake:///', { privileged: true })).warnings).toHaveLength(1);
  });

  it('a sub-driver\'s warning during the open lands in conn.warnings; one after the open is a warning event too', async () => {
    let warnLater: ((w: VirError) => void) | undefined;
    const warning: SubDriverFactory = {
      name: 'configfiles',
      async open(ctx) {
        ctx.warn!(new VirError('events unavailable (during open)', { code: ErrorCode.NO_XENSTORE }));
        warnLater = (w) => ctx.warn!(w);
        return fakeSubDriver('configfiles', {});
      },
    };
    factories = [...standardFactories().filter((f) => f.name !== 'configfiles'), warning];
    const c = await open('xenfake:///', { privileged: true });
    expect(c.warnings.map((w) => w.message)).toEqual(['events unavailable (during open)']);
    const seen: VirError[] = [];
    c.on('warning', (w: VirError) => seen.push(w));
    warnLater!(new VirError('later trouble', { code: ErrorCode.OPERATION_FAILED }));
    expect(seen.map((w) => w.message)).toEqual(['later trouble']);
    expect(c.warnings).toHaveLength(2);
  });

  it('any other hypervisor failure still fails the open (a healthy connection has no warnings)', async () => {
    factories = standardFactories({ hypervisor: new VirError('xen_version hypercall failed: EFAULT', { code: ErrorCode.XEN_CALL }) });
    expect((await rejection(connect('xenfake:///', { xen: { privileged: true } }))).message).toContain('the hypervisor sub-driver is required');
    factories = standardFactories();
    expect((await open('xenfake:///', { privileged: true })).warnings).toEqual([]);
  });
});

describe('xen:/// open rules as root', () => {
  it('opens every sub-driver; the connection reports type Xen', async () => {
    factories = standardFactories();
    const c = await open('xenfake:///', { privileged: true });
    expect(c.getType()).toBe('Xen');
    expect(factories.map((f) => (f as FakeFactory).opens)).toEqual([1, 1, 1, 1]);
  });

  it.each(['hypervisor', 'xenstore'] as const)('%s is required: its failure fails the open, and what opened is closed once', async (name) => {
    const fs = standardFactories({ [name]: failure(ErrorCode.NO_XEN, `${name} unavailable here`) });
    factories = fs;
    const e = await rejection(connect('xenfake:///', { xen: { privileged: true } }));
    expect(e.code).toBe(ErrorCode.NO_XEN);
    expect(e.message).toContain(`the ${name} sub-driver is required`);
    expect(e.message).toContain(`${name} unavailable here`);
    for (const f of fs) for (const s of f.opened) expect(s.closes).toBe(1);
  });

  it.each(['configfiles', 'toolstack'] as const)('%s may fail: logged and skipped, its methods fall to others or NO_SUPPORT', async (name) => {
    factories = standardFactories({ [name]: failure(ErrorCode.NO_SUPPORT, `${name} missing`) });
    const c = await open('xenfake:///', { privileged: true });
    if (name === 'configfiles') {
      await expect(c.defineXML('<domain/>')).rejects.toMatchObject({ code: ErrorCode.NO_SUPPORT });
    } else {
      // suspend still works: the hypervisor is the next sub-driver on its route
      const d = await c.lookupDomainByName('g');
      await d.suspend();
      expect(factories[0]! as FakeFactory).toBeDefined();
      expect((factories[0] as FakeFactory).opened[0]!.calls.some((x) => x.method === 'domainSuspend')).toBe(true);
    }
  });

  it('a required sub-driver that is disabled by option is not required', async () => {
    factories = standardFactories({ hypervisor: failure(ErrorCode.NO_XEN, 'no privcmd') });
    const c = await open('xenfake:///system', { privileged: true, disable: ['hypervisor'] });
    expect((factories[0] as FakeFactory).opens).toBe(0);
    await expect(c.nodeGetInfo()).rejects.toMatchObject({ code: ErrorCode.NO_SUPPORT });
  });

  it('every sub-driver disabled: VIR_ERR_NO_XEN', async () => {
    factories = standardFactories();
    const e = await rejection(connect('xenfake:///', { xen: { privileged: true, disable: ['hypervisor', 'xenstore', 'configfiles', 'toolstack'] } }));
    expect(e.code).toBe(ErrorCode.NO_XEN);
  });
});

describe('xen:/// open rules as non-root', () => {
  it('without a proxy sub-driver: VIR_ERR_NO_XEN saying so, nothing opened', async () => {
    const fs = standardFactories();
    factories = fs;
    const e = await rejection(connect('xenfake:///', { xen: { privileged: false } }));
    expect(e.code).toBe(ErrorCode.NO_XEN);
    expect(e.message).toMatch(/non-root.*proxy/);
    expect(fs.every((f) => f.opens === 0)).toBe(true);
  });

  it('with a proxy: every other sub-driver may fail, the proxy may not', async () => {
    const all = { hypervisor: failure(ErrorCode.NO_XEN, 'EACCES'), xenstore: failure(ErrorCode.NO_XENSTORE, 'EACCES'), xm: failure(ErrorCode.SYSTEM_ERROR, 'EACCES'), toolstack: failure(ErrorCode.OPERATION_DENIED, 'root') };
    const proxy = fakeFactory('proxy', () => fakeSubDriver('proxy', { nodeGetInfo: { answer: { model: 'x86_64' } } }));
    factories = [...standardFactories(all), proxy];
    const c = await open('xenfake:///', { privileged: false });
    expect(await c.nodeGetInfo()).toEqual({ model: 'x86_64' });

    factories = [...standardFactories(all), fakeFactory('proxy', () => fakeSubDriver('proxy', {}), failure(ErrorCode.NO_CONNECT, 'proxy socket missing'))];
    const e = await rejection(connect('xenfake:///', { xen: { privileged: false } }));
    expect(e.code).toBe(ErrorCode.NO_CONNECT);
    expect(e.message).toContain('proxy socket missing');
  });
});

describe('xen URIs and options', () => {
  it('declines other hosts, refuses unknown paths, accepts /, /system and localhost', async () => {
    factories = standardFactories();
    await expect(connect('xenfake://otherhost/', { xen: { privileged: true } })).rejects.toMatchObject({ code: ErrorCode.NO_CONNECT });
    await expect(connect('xenfake:///session', { xen: { privileged: true } })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARG });
    for (const u of ['xenfake:///', 'xenfake:///system', 'xenfake://localhost/']) expect((await open(u, { privileged: true })).getType()).toBe('Xen');
  });

  it('checks options.xen field by field', () => {
    expect(() => checkXenOptions('x')).toThrow(/must be an object/);
    expect(() => checkXenOptions({ confDir: '/etc/xen' })).toThrow(/unknown option options.xen.confDir/);
    expect(() => checkXenOptions({ configDir: '' })).toThrow(/configDir/);
    expect(() => checkXenOptions({ privileged: 'yes' })).toThrow(/boolean/);
    expect(() => checkXenOptions({ disable: ['xenstore', 'libxl'] })).toThrow(/sub-driver names/);
    expect(checkXenOptions({ configDir: '/x', disable: ['configfiles'] })).toEqual({ configDir: '/x', disable: ['configfiles'] });
  });
});

describe('a Xen connection', () => {
  it('read-only refuses every routed mutation with OPERATION_DENIED, before any sub-driver sees it', async () => {
    const fs = standardFactories();
    factories = fs;
    const c = await open('xenfake:///', { privileged: true }, { readOnly: true });
    const d = await c.lookupDomainByName('g');
    await expect(c.defineXML('<domain/>')).rejects.toMatchObject({ code: ErrorCode.OPERATION_DENIED });
    await expect(c.createXML('<domain/>')).rejects.toMatchObject({ code: ErrorCode.OPERATION_DENIED });
    await expect(c.restore('/tmp/x')).rejects.toMatchObject({ code: ErrorCode.OPERATION_DENIED });
    for (const call of [() => d.suspend(), () => d.resume(), () => d.shutdown(), () => d.reboot(), () => d.destroy(), () => d.create(), () => d.undefine(), () => d.setMemory(1024), () => d.setMaxMemory(1024), () => d.setVcpus(1), () => d.pinVcpu(0, [0]), () => d.setAutostart(true), () => d.save('/tmp/x')]) {
      await expect(call()).rejects.toMatchObject({ code: ErrorCode.OPERATION_DENIED });
    }
    const mutatingCalls = fs.flatMap((f) => f.opened.flatMap((s) => s.calls)).filter((x) => MUTATING_METHODS.has(x.method));
    expect(mutatingCalls).toEqual([]);
  });

  it('network calls: VIR_ERR_NO_SUPPORT (the network slot is empty)', async () => {
    factories = standardFactories();
    const c = await open('xenfake:///', { privileged: true });
    await expect(c.listAllNetworks()).rejects.toMatchObject({ code: ErrorCode.NO_SUPPORT });
    await expect(c.lookupNetworkByName('default')).rejects.toMatchObject({ code: ErrorCode.NO_SUPPORT });
  });

  it('answers type, host name and native conversions itself', async () => {
    factories = standardFactories();
    const c = await open('xenfake:///', { privileged: true });
    expect(c.getType()).toBe('Xen');
    expect(typeof (await c.getHostname())).toBe('string');
    const xml = await c.domainXMLFromNative('xen-xl', 'name = "a"\nuuid = "11111111-2222-3333-4444-555555555555"\nmemory = 128\nkernel = "/k"\n');
    expect(xml).toContain('<name>a</name>');
  });

  it('close() closes each sub-driver once: twice, and with a call in flight', async () => {
    const fs = standardFactories();
    const hang = fakeFactory('xend', () => fakeSubDriver('xend', { getVersion: { hang: true } }));
    factories = [...fs, hang];
    const c = await connect('xenfake:///', { xen: { privileged: true, disable: ['hypervisor', 'toolstack'] } });
    const inFlight = c.getVersion();
    inFlight.catch(() => {});
    await Promise.all([c.close(), c.close()]);
    await c.close();
    for (const f of [...fs, hang]) for (const s of f.opened) expect(s.closes).toBe(1);
    await expect(c.getVersion()).rejects.toMatchObject({ code: ErrorCode.INVALID_CONN });
  });

  it('a sub-driver whose close fails does not stop the others from closing', async () => {
    const fs = standardFactories();
    factories = fs;
    const c = await connect('xenfake:///', { xen: { privileged: true } });
    const xs = fs[1]!.opened[0]!;
    xs.close = async () => {
      xs.closes++;
      throw new Error('close failed');
    };
    await c.close();
    for (const f of fs) for (const s of f.opened) expect(s.closes).toBe(1);
  });
});

describe('xen:/// on this machine', () => {
  const onXen = existsSync('/dev/xen/privcmd');
  it.skipIf(onXen || process.getuid?.() !== 0)('as root without Xen: the required hypervisor fails the open with VIR_ERR_NO_XEN', async () => {
    const e = await rejection(connect('xen:///'));
    expect(e.code).toBe(ErrorCode.NO_XEN);
    expect(e.message).toMatch(/hypervisor sub-driver is required/);
  });
});
