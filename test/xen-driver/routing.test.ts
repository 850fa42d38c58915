/**
 * Every entry of the routing table, walked by the unified driver over fake
 * sub-drivers: who answers, who is tried next when one fails, which error comes out.
 */
import { describe, it, expect } from 'vitest';
import { ErrorCode, VirError } from '../../lib/errors.js';
import { ROUTES, LOCAL_METHODS, type RoutedMethod } from '../../lib/drivers/xen/routing.js';
import { UnifiedXenDriver } from '../../lib/drivers/xen/unified.js';
import type { SubDriver, SubDriverName } from '../../lib/drivers/xen/subdriver.js';
import type { HypervisorDriver } from '../../lib/driver.js';
import { failure, fakeSubDriver, noDomain, type FakeBehaviour, type FakeSubDriver } from './fake-subdrivers.js';
import { rejection } from '../helpers/rejection.js';

const REF = { name: 'guest', uuid: '11111111-2222-3333-4444-555555555555', id: 3 };
const DEF_XML = `<domain type='xen'><name>guest</name><uuid>${REF.uuid}</uuid><memory unit='KiB'>131072</memory><currentMemory unit='KiB'>131072</currentMemory><vcpu>1</vcpu><os><type>linux</type><kernel>/k</kernel></os><devices><console type='pty'><target type='xen' port='0'/></console></devices></domain>`;

/** Arguments a caller would pass to each routed method. */
const SAMPLE_ARGS: Record<RoutedMethod, unknown[]> = {
  getVersion: [],
  getCapabilities: [],
  nodeGetInfo: [],
  listAllDomains: [{}],
  lookupDomainByName: ['guest'],
  lookupDomainById: [3],
  lookupDomainByUUID: [REF.uuid],
  defineXML: [DEF_XML],
  createXML: [DEF_XML],
  restore: ['/tmp/img'],
  domainGetInfo: [REF],
  domainSuspend: [REF],
  domainResume: [REF],
  domainShutdown: [REF],
  domainReboot: [REF],
  domainDestroy: [REF],
  domainCreate: [REF],
  domainUndefine: [REF],
  domainGetXMLDesc: [REF, {}],
  domainSetMemory: [REF, 65536],
  domainSetMaxMemory: [REF, 131072],
  domainSetVcpus: [REF, 2],
  domainGetVcpus: [REF],
  domainPinVcpu: [REF, 0, [0]],
  domainGetAutostart: [REF],
  domainSetAutostart: [REF, true],
  domainSave: [REF, '/tmp/img'],
  domainCoreDump: [REF, '/tmp/core'],
};

const METHODS = Object.keys(ROUTES) as RoutedMethod[];
const SINGLE_ANSWER = METHODS.filter((m) => ROUTES[m].policy !== 'merge');

/** One fake per sub-driver in the route, each implementing `method` with its behaviour. */
function fakesFor(method: RoutedMethod, behave: (sub: SubDriverName, index: number) => FakeBehaviour) {
  const subs = new Map<SubDriverName, FakeSubDriver>();
  ROUTES[method].order.forEach((name, i) => {
    const methods: Record<string, FakeBehaviour> = { [method]: behave(name, i) };
    subs.set(name, fakeSubDriver(name, methods));
  });
  if (ROUTES[method].needsDefinition) {
    // The definition comes through the domainGetXMLDesc route: give it one source.
    const owner = ROUTES.domainGetXMLDesc.order[0]!;
    const prev = subs.get(owner);
    const methods: Record<string, FakeBehaviour> = { domainGetXMLDesc: { answer: DEF_XML } };
    if (prev && typeof (prev as unknown as Record<string, unknown>)[method] === 'function') methods[method] = behave(owner, ROUTES[method].order.indexOf(owner));
    subs.set(owner, fakeSubDriver(owner, methods));
  }
  return subs;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LooseDriver = Record<string, ((...a: unknown[]) => Promise<any>) | undefined>;

function driverOver(subs: Map<SubDriverName, SubDriver>, log?: (m: string) => void): LooseDriver {
  return new UnifiedXenDriver(subs, log ? { log } : {}).driver() as never;
}

function calledSubs(subs: Map<SubDriverName, FakeSubDriver>, method: string): SubDriverName[] {
  return [...subs.values()].filter((s) => s.calls.some((c) => c.method === method)).map((s) => s.name);
}

describe('routing table', () => {
  it('routes every public method except the local ones, each with a reason and no repeated sub-driver', () => {
    const all: (keyof HypervisorDriver)[] = [
      'getType', 'getVersion', 'getHostname', 'getCapabilities', 'nodeGetInfo', 'listAllDomains', 'lookupDomainByName',
      'lookupDomainById', 'lookupDomainByUUID', 'defineXML', 'createXML', 'restore', 'domainXMLFromNative', 'domainXMLToNative',
      'domainGetInfo', 'domainSuspend', 'domainResume', 'domainShutdown', 'domainReboot', 'domainDestroy', 'domainCreate',
      'domainUndefine', 'domainGetXMLDesc', 'domainSetMemory', 'domainSetMaxMemory', 'domainSetVcpus', 'domainGetVcpus',
      'domainPinVcpu', 'domainGetAutostart', 'domainSetAutostart', 'domainSave',
    ];
    for (const m of all) expect(m in ROUTES || m in LOCAL_METHODS, `${m} has no route`).toBe(true);
    for (const m of METHODS) {
      const r = ROUTES[m];
      expect(r.reason.length, `${m} reason`).toBeGreaterThan(20);
      expect(new Set(r.order).size, `${m} repeats a sub-driver`).toBe(r.order.length);
      expect(r.order.length).toBeGreaterThan(0);
    }
  });

  it('names the hypervisor last on hypervisor-last routes (the driver calls it last anyway)', () => {
    for (const m of METHODS.filter((x) => ROUTES[x].policy === 'hypervisor-last')) {
      expect(ROUTES[m].order.at(-1), m).toBe('hypervisor');
    }
  });

  it('sends shutdown and reboot to XenStore first and suspend/resume/destroy to the management layer first', () => {
    expect(ROUTES.domainShutdown.order[0]).toBe('xenstore');
    expect(ROUTES.domainReboot.order[0]).toBe('xenstore');
    for (const m of ['domainSuspend', 'domainResume', 'domainDestroy'] as const) expect(ROUTES[m].policy).toBe('hypervisor-last');
  });
});

describe.each(SINGLE_ANSWER)('route %s', (method) => {
  const route = ROUTES[method];
  const args = SAMPLE_ARGS[method];

  it(`the first open sub-driver answers (${route.order.join(' > ')})`, async () => {
    const subs = fakesFor(method, (name) => ({ answer: `${name}-answer` }));
    expect(await driverOver(subs)[method]!(...args)).toBe(`${route.order[0]}-answer`);
    expect(calledSubs(subs, method)).toEqual([route.order[0]]);
  });

  it('skips sub-drivers that are not open', async () => {
    const subs = fakesFor(method, (name) => ({ answer: `${name}-answer` }));
    subs.delete(route.order[0]!);
    const d = driverOver(subs);
    if (route.order.length === 1) {
      expect(d[method]).toBeUndefined();
    } else {
      expect(await d[method]!(...args)).toBe(`${route.order[1]}-answer`);
    }
  });

  if (route.policy === 'single-owner') {
    it('single owner: its failure is final, nobody else is tried', async () => {
      const err = failure(ErrorCode.OPERATION_FAILED, 'owner refused');
      const subs = fakesFor(method, (_n, i) => (i === 0 ? { fail: err } : { answer: 'other' }));
      const e = await rejection(driverOver(subs)[method]!(...args));
      expect(e).toBe(err);
      expect(calledSubs(subs, method)).toEqual([route.order[0]]);
    });
  } else {
    // A failure that moves on (fallback.ts): for lookups "not here", else "this way in broke".
    const movesOn = (n: string) => (route.policy === 'live-first' ? noDomain(n) : failure(ErrorCode.OPERATION_FAILED, `${n} down`));
    it.each(route.order.slice(1).map((name, i) => [name, i + 1] as const))('falls back to %s when every earlier one fails', async (name, index) => {
      const subs = fakesFor(method, (n, i) => (i < index ? { fail: movesOn(n) } : { answer: `${n}-answer` }));
      const logged: string[] = [];
      expect(await driverOver(subs, (m) => logged.push(m))[method]!(...args)).toBe(`${name}-answer`);
      expect(calledSubs(subs, method)).toEqual(route.order.slice(0, index + 1));
      expect(logged.some((l) => l.includes(`${route.order[0]} failed`))).toBe(true);
    });

    it('a final failure (invalid argument) is the answer: nobody after it is tried', async () => {
      const err = failure(ErrorCode.INVALID_ARG, 'bad value');
      const subs = fakesFor(method, (_n, i) => (i === 0 ? { fail: err } : { answer: 'other' }));
      expect(await rejection(driverOver(subs)[method]!(...args))).toBe(err);
      expect(calledSubs(subs, method)).toEqual([route.order[0]]);
    });

    it('every candidate failed: the most specific error, naming the others', async () => {
      const last = route.order.length - 1;
      const subs = fakesFor(method, (n, i) => ({ fail: i === last ? failure(ErrorCode.SYSTEM_ERROR, `${n}: EIO`) : movesOn(n) }));
      const e = await rejection(driverOver(subs)[method]!(...args));
      if (route.policy === 'live-first') {
        expect(e.code).toBe(ErrorCode.NO_DOMAIN);
      } else {
        expect(e.code).toBe(ErrorCode.SYSTEM_ERROR);
        expect(e.message).toContain(`${route.order[last]}: EIO`);
        if (route.order.length > 1) expect(e.message).toContain(`${route.order[0]} down`);
      }
    });
  }

  if (route.policy === 'live-first' && route.order.includes('configfiles')) {
    it('a live source that broke (not "no such domain") keeps the config files out: the domain may be running', async () => {
      const subs = fakesFor(method, (n) => (n === 'configfiles' ? { answer: 'stored-answer' } : { fail: failure(ErrorCode.NO_CONNECT, `${n} unreachable`) }));
      const e = await rejection(driverOver(subs)[method]!(...args));
      expect(e.code).toBe(ErrorCode.NO_CONNECT);
      expect(calledSubs(subs, method)).not.toContain('configfiles');
    });
  }

  it('no open sub-driver implements it: the method is absent, so dispatch says NO_SUPPORT', () => {
    const subs = new Map<SubDriverName, SubDriver>([['configfiles', fakeSubDriver('configfiles', {})], ['hypervisor', fakeSubDriver('hypervisor', {})]]);
    expect(driverOver(subs)[method]).toBeUndefined();
  });
});

describe('domainCreate gets the stored definition', () => {
  it('passes the inactive XML from the definition route as the last argument', async () => {
    const subs = fakesFor('domainCreate', (name) => ({ answer: `${name}-answer` }));
    const first = subs.get(ROUTES.domainCreate.order[0]!)!;
    await driverOver(subs).domainCreate!(REF);
    const xmlCall = [...subs.values()].flatMap((s) => s.calls).find((c) => c.method === 'domainGetXMLDesc')!;
    expect(xmlCall.args).toEqual([REF, { inactive: true }]);
    expect(first.calls.find((c) => c.method === 'domainCreate')!.args).toEqual([REF, DEF_XML]);
  });

  it('no definition anywhere: the definition lookup error, and nothing is started', async () => {
    const starter = fakeSubDriver('toolstack', { domainCreate: { answer: REF } });
    const xm = fakeSubDriver('configfiles', { domainGetXMLDesc: { fail: noDomain('configfiles') } });
    const e = await rejection(driverOver(new Map<SubDriverName, SubDriver>([['toolstack', starter], ['configfiles', xm]])).domainCreate!(REF));
    expect(e.code).toBe(ErrorCode.NO_DOMAIN);
    expect(starter.calls).toHaveLength(0);
  });
});

describe('lookups that find nothing', () => {
  it.each(['lookupDomainByName', 'lookupDomainById', 'lookupDomainByUUID'] as const)('%s: VIR_ERR_NO_DOMAIN even when another source failed vaguely', async (method) => {
    const subs = fakesFor(method, (n, i) => (i === 0 ? { fail: failure(ErrorCode.NO_CONNECT, `${n}: connection lost`) } : { fail: noDomain(n) }));
    const e = await rejection(driverOver(subs)[method]!(...SAMPLE_ARGS[method]));
    expect(e.code).toBe(ErrorCode.NO_DOMAIN);
    expect(e.message).toMatch(/not found/i);
  });
});

describe('errors that are not VirErrors', () => {
  it('keep their own message (never "cause unknown")', async () => {
    const subs = new Map<SubDriverName, SubDriver>([['hypervisor', fakeSubDriver('hypervisor', { nodeGetInfo: { fail: new TypeError('cannot read physinfo') } })]]);
    const e = await rejection(driverOver(subs).nodeGetInfo!());
    expect(e.code).toBe(ErrorCode.INTERNAL_ERROR);
    expect(e.message).toContain('hypervisor sub-driver failed: cannot read physinfo');
  });

  it('a sub-driver method that throws synchronously is treated like one that rejects', async () => {
    const sub = fakeSubDriver('toolstack', {}) as FakeSubDriver & Record<string, unknown>;
    sub.domainSuspend = () => {
      throw failure(ErrorCode.OPERATION_FAILED, 'sync throw');
    };
    const hv = fakeSubDriver('hypervisor', { domainSuspend: { answer: undefined } });
    await driverOver(new Map<SubDriverName, SubDriver>([['toolstack', sub], ['hypervisor', hv]])).domainSuspend!(REF);
    expect(hv.calls).toHaveLength(1);
  });
});

describe('merge: listAllDomains', () => {
  const U = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;
  function subs(): Map<SubDriverName, FakeSubDriver> {
    return new Map<SubDriverName, FakeSubDriver>([
      ['xenstore', fakeSubDriver('xenstore', { listAllDomains: { answer: [{ name: 'Domain-0', uuid: U(0), id: 0 }, { name: 'web', uuid: U(1), id: 1 }, { name: 'ghost', uuid: U(9), id: 7 }] } })],
      ['hypervisor', fakeSubDriver('hypervisor', { listAllDomains: { answer: [{ name: '', uuid: U(0), id: 0 }, { name: '', uuid: U(1).toUpperCase(), id: 1 }, { name: '', uuid: U(5), id: 5 }] } })],
      ['configfiles', fakeSubDriver('configfiles', { listAllDomains: { answer: [{ name: 'web', uuid: U(1), id: -1 }, { name: 'db', uuid: U(2), id: -1 }] } })],
    ]);
  }

  it('one list without duplicates; stale XenStore entries and nameless domains dropped', async () => {
    const list = await driverOver(subs()).listAllDomains!({});
    expect(list).toEqual([
      { name: 'Domain-0', uuid: U(0), id: 0 },
      { name: 'web', uuid: U(1), id: 1 },
      { name: 'db', uuid: U(2), id: -1 },
    ]);
  });

  it('asks every source for everything, then applies the flags', async () => {
    const s = subs();
    const d = driverOver(s);
    expect((await d.listAllDomains!({ active: true })).map((x: { name: string }) => x.name)).toEqual(['Domain-0', 'web']);
    expect((await d.listAllDomains!({ inactive: true })).map((x: { name: string }) => x.name)).toEqual(['db']);
    for (const f of s.values()) for (const c of f.calls) expect(c.args).toEqual([{}]);
  });

  it('a source that fails is left out; all failing gives the most specific error', async () => {
    const s = subs();
    s.set('xenstore', fakeSubDriver('xenstore', { listAllDomains: { fail: failure(ErrorCode.NO_CONNECT, 'xenstored gone') } }));
    const logged: string[] = [];
    const list = await driverOver(s, (m) => logged.push(m)).listAllDomains!({});
    // Without XenStore the running "web" is named by its config file; Domain-0 has no name source.
    expect(list).toEqual([{ name: 'web', uuid: U(1), id: 1 }, { name: 'db', uuid: U(2), id: -1 }]);
    expect(logged.join('\n')).toContain('xenstored gone');
    const allBad = new Map<SubDriverName, SubDriver>([
      ['xenstore', fakeSubDriver('xenstore', { listAllDomains: { fail: failure(ErrorCode.NO_CONNECT, 'gone') } })],
      ['configfiles', fakeSubDriver('configfiles', { listAllDomains: { fail: failure(ErrorCode.SYSTEM_ERROR, 'EACCES on /etc/xen', 13) } })],
    ]);
    const e = await rejection(driverOver(allBad).listAllDomains!({}));
    expect(e.code).toBe(ErrorCode.SYSTEM_ERROR);
  });
});

describe('merge: domainGetXMLDesc', () => {
  const live = `<domain type='xen' id='4'><name>guest</name><uuid>${REF.uuid}</uuid><memory unit='KiB'>131072</memory><currentMemory unit='KiB'>98304</currentMemory><vcpu>1</vcpu><os><type>linux</type></os><devices><console type='pty' tty='/dev/pts/5'><source path='/dev/pts/5'/><target type='xen' port='0'/></console></devices></domain>`;

  it('the stored definition with the live id, memory and console tty laid over it', async () => {
    const subs = new Map<SubDriverName, SubDriver>([
      ['configfiles', fakeSubDriver('configfiles', { domainGetXMLDesc: { answer: DEF_XML } })],
      ['xenstore', fakeSubDriver('xenstore', { domainGetXMLDesc: { answer: live } })],
    ]);
    const xml = await driverOver(subs).domainGetXMLDesc!({ ...REF, id: 4 }, {});
    expect(xml).toContain("<domain type='xen' id='4'>");
    expect(xml).toContain("tty='/dev/pts/5'");
    expect(xml).toContain('<kernel>/k</kernel>');
    expect(xml).toContain("<currentMemory unit='KiB'>98304</currentMemory>");
  });

  it('inactive XML is the definition as stored; a transient domain gets the live XML alone', async () => {
    const both = new Map<SubDriverName, SubDriver>([
      ['configfiles', fakeSubDriver('configfiles', { domainGetXMLDesc: { answer: DEF_XML } })],
      ['xenstore', fakeSubDriver('xenstore', { domainGetXMLDesc: { answer: live } })],
    ]);
    expect(await driverOver(both).domainGetXMLDesc!(REF, { inactive: true })).toBe(DEF_XML);
    const transient = new Map<SubDriverName, SubDriver>([
      ['configfiles', fakeSubDriver('configfiles', { domainGetXMLDesc: { fail: noDomain('configfiles') } })],
      ['xenstore', fakeSubDriver('xenstore', { domainGetXMLDesc: { answer: live } })],
    ]);
    expect(await driverOver(transient).domainGetXMLDesc!(REF, {})).toBe(live);
  });
});
