/**
 * The routing table against the real sub-driver classes (not fakes made from the
 * table): every sub-driver a route names implements the method, every public driver
 * method is routed or answered locally, every public method a sub-driver implements is
 * on its route, and the proxy's served / forwarded / refused lists are one list that the
 * real server and the real proxy sub-driver follow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../lib/drivers/test/index.js';
import { driversForScheme } from '../../lib/registry.js';
import { LOCAL_METHODS, PUBLIC_DRIVER_METHODS, ROUTES, type RoutedMethod } from '../../lib/drivers/xen/routing.js';
import { HypervisorSubDriver } from '../../lib/drivers/xen/hypervisor-subdriver.js';
import { XenStoreSubDriver } from '../../lib/drivers/xen/xenstore-subdriver.js';
import { ConfigFilesSubDriver } from '../../lib/drivers/xen/configfiles-subdriver.js';
import { ToolstackSubDriver } from '../../lib/drivers/xen/toolstack-subdriver.js';
import { XendSubDriver } from '../../lib/drivers/xen/xend/index.js';
import type { SubDriverName } from '../../lib/drivers/xen/subdriver.js';
import { MUTATING_METHODS } from '../../lib/dispatch.js';
import type { HypervisorDriver } from '../../lib/driver.js';
import { ProxyServer } from '../../lib/proxy/server.js';
import { openProxy, type ProxySubDriver } from '../../lib/proxy/subdriver.js';
import { FORWARDED_METHODS, PROXY_READ_METHODS, SERVED_METHODS } from '../../lib/proxy/methods.js';
import { ErrorCode } from '../../lib/errors.js';

/** The public driver methods an object has, read from the object itself (prototype chain included). */
function implemented(obj: object): Set<string> {
  const out = new Set<string>();
  for (let p: object | null = obj; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (PUBLIC_DRIVER_METHODS.includes(k) && typeof (obj as Record<string, unknown>)[k] === 'function') out.add(k);
    }
  }
  return out;
}

const ROUTED = Object.keys(ROUTES) as RoutedMethod[];

let dir: string;
let server: ProxyServer;
let backend: HypervisorDriver;
let proxy: ProxySubDriver;
const methodsOf = new Map<SubDriverName, Set<string>>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenvirt-route-table-'));
  const r = await driversForScheme('test')[0]!.open(new URL('test:///default'), { options: {}, readOnly: true, events: new EventEmitter() });
  if (r === 'declined') throw new Error('declined');
  backend = r.driver;
  server = new ProxyServer({ socketPath: join(dir, 'proxy.sock'), backend });
  await server.listen();
  proxy = await openProxy({ options: { proxyPath: join(dir, 'proxy.sock') }, privileged: false });
  // The real classes; their constructors need a live host, the methods do not.
  methodsOf.set('hypervisor', implemented(HypervisorSubDriver.prototype));
  methodsOf.set('xenstore', implemented(XenStoreSubDriver.prototype));
  methodsOf.set('configfiles', implemented(ConfigFilesSubDriver.prototype));
  methodsOf.set('toolstack', implemented(ToolstackSubDriver.prototype));
  methodsOf.set('xend', implemented(XendSubDriver.prototype));
  methodsOf.set('proxy', implemented(proxy));
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the routing table against the real sub-drivers', () => {
  it('every sub-driver a route names implements the method', () => {
    const wrong: string[] = [];
    for (const m of ROUTED) for (const sub of ROUTES[m].order) if (!methodsOf.get(sub)!.has(m)) wrong.push(`${m} names ${sub}`);
    expect(wrong).toEqual([]);
  });

  it('every public driver method is routed or answered locally, never both', () => {
    for (const m of PUBLIC_DRIVER_METHODS) {
      expect(m in ROUTES || m in LOCAL_METHODS, `${m} is neither routed nor local`).toBe(true);
      expect(m in ROUTES && m in LOCAL_METHODS, `${m} is both`).toBe(false);
    }
  });

  it('every routed public method a sub-driver implements is on that method\'s route', () => {
    const unrouted: string[] = [];
    for (const [sub, methods] of methodsOf) for (const m of methods) if (m in ROUTES && !ROUTES[m as RoutedMethod].order.includes(sub)) unrouted.push(`${sub}.${m}`);
    expect(unrouted).toEqual([]);
  });

  it('hypervisor-last routes have a management layer before the hypervisor', () => {
    for (const m of ROUTED.filter((x) => ROUTES[x].policy === 'hypervisor-last')) {
      const order = ROUTES[m].order;
      expect(order.at(-1), m).toBe('hypervisor');
      expect(order.some((s) => s === 'toolstack' || s === 'xend'), m).toBe(true);
    }
  });
});

describe('the proxy: one list for what is served, forwarded and refused', () => {
  it('the real proxy sub-driver forwards exactly the read methods and the mutating ones', () => {
    expect([...methodsOf.get('proxy')!].sort()).toEqual([...FORWARDED_METHODS].sort());
    for (const m of PROXY_READ_METHODS) expect(MUTATING_METHODS.has(m), m).toBe(false);
  });

  it('every public method is served, refused or answered locally by the client', () => {
    for (const m of PUBLIC_DRIVER_METHODS) {
      const where = [PROXY_READ_METHODS.includes(m as never), MUTATING_METHODS.has(m), m in LOCAL_METHODS].filter(Boolean).length;
      expect(where, m).toBe(1);
    }
  });

  it('the real server answers every served read method (none is refused or unhandled)', async () => {
    const [dom] = (await backend.listAllDomains!({})) as { uuid: string; name: string; id: number }[];
    const args: Record<string, unknown[]> = {
      listAllDomains: [{}],
      lookupDomainByName: [dom!.name],
      lookupDomainById: [dom!.id],
      lookupDomainByUUID: [dom!.uuid],
      domainGetXMLDesc: [dom, {}],
    };
    for (const m of PROXY_READ_METHODS) {
      const a = args[m] ?? (m.startsWith('domain') ? [dom] : []);
      const outcome = await server.answer({ method: m, args: a }, { uid: 1000, gid: 1000, pid: 1 }).then(
        () => 'answered',
        (e: { code: string }) => e.code,
      );
      // The test driver may lack a method (NO_SUPPORT from the backend), but the proxy never refuses a served one.
      expect([m, outcome]).not.toEqual([m, ErrorCode.OPERATION_DENIED]);
      expect(outcome === 'answered' || outcome === ErrorCode.NO_SUPPORT, `${m}: ${outcome}`).toBe(true);
    }
    expect(SERVED_METHODS).toContain('$hello');
  });

  it('the real server refuses every mutating method with OPERATION_DENIED', async () => {
    for (const m of FORWARDED_METHODS.filter((x) => MUTATING_METHODS.has(x))) {
      const e = await server.answer({ method: m, args: [] }, { uid: 1000, gid: 1000, pid: 1 }).then(() => undefined, (x: { code: string }) => x);
      expect(e?.code, m).toBe(ErrorCode.OPERATION_DENIED);
    }
  });
});
