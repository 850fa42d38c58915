/**
 * The proxy sub-driver and the open rules of xen:/// for non-root users, through the
 * real unified Xen driver and a real proxy server over a unix socket (its backend is the
 * test driver, since real Xen cannot run here; test/xen/suites/proxy.* runs it on Xen).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../lib/drivers/test/index.js';
import { driversForScheme } from '../../lib/registry.js';
import { openXen } from '../../lib/drivers/xen/index.js';
import type { HypervisorDriver } from '../../lib/driver.js';
import { isVirError } from '../../lib/errors.js';
import { ProxyServer } from '../../lib/proxy/server.js';
import { openProxy, proxySubDriverFactory } from '../../lib/proxy/subdriver.js';
import { configFilesSubDriverFactory } from '../../lib/drivers/xen/configfiles-subdriver.js';
import { fakeSubDriver } from '../xend/fake-subdrivers.js';

async function failure(p: Promise<unknown>): Promise<Error & { code: string }> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isVirError(e), `expected a VirError, got ${String(e)}`).toBe(true);
  return e as Error & { code: string };
}

describe('proxy sub-driver', () => {
  let dir: string;
  let sock: string;
  let backend: HypervisorDriver;
  let server: ProxyServer;

  const openAs = async (privileged: boolean, proxyPath = sock) => {
    const r = await openXen(
      new URL('xen:///'),
      { options: { xen: { proxyPath, privileged } }, readOnly: false, events: new EventEmitter() },
      [proxySubDriverFactory],
    );
    if (r === 'declined') throw new Error('declined');
    return r.driver;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xenvirt-proxy-sub-'));
    sock = join(dir, 'proxy.sock');
    const r = await driversForScheme('test')[0]!.open(new URL('test:///default'), { options: {}, readOnly: true, events: new EventEmitter() });
    if (r === 'declined') throw new Error('declined');
    backend = r.driver;
    server = new ProxyServer({ socketPath: sock, backend });
    await server.listen();
  });
  afterEach(async () => {
    await server.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives a non-root connection list, lookups, info and XML through the daemon', async () => {
    const drv = await openAs(false);
    try {
      const list = await drv.listAllDomains!({});
      expect(list.map((d) => d.name)).toEqual(['test']);
      const ref = await drv.lookupDomainByName!('test');
      expect(ref).toEqual(list[0]);
      expect((await drv.domainGetInfo!(ref)).state).toBe('running');
      expect(await drv.domainGetXMLDesc!(ref, {})).toContain('<name>test</name>');
      expect(await drv.nodeGetInfo!()).toEqual(await backend.nodeGetInfo!());
      expect(server.clientCount).toBe(1);
    } finally {
      await drv.close();
    }
  });

  it('has suspend and define denied by the daemon with VIR_ERR_OPERATION_DENIED', async () => {
    const drv = await openAs(false);
    try {
      const ref = await drv.lookupDomainByName!('test');
      expect((await failure(drv.domainSuspend!(ref))).code).toBe('VIR_ERR_OPERATION_DENIED');
      expect((await failure(drv.defineXML!("<domain type='xen'><name>x</name></domain>"))).code).toBe('VIR_ERR_OPERATION_DENIED');
      expect((await backend.domainGetInfo!(ref)).state).toBe('running');
    } finally {
      await drv.close();
    }
  });

  it('denies define/undefine at the daemon even when the config files are readable (and so open) for a non-root user', async () => {
    const xm = fakeSubDriver('configfiles', ['defineXML', 'domainUndefine', 'lookupDomainByName'], () => ({ name: 'x', uuid: '11111111-2222-3333-4444-555555555555', id: -1 }));
    const r = await openXen(
      new URL('xen:///'),
      { options: { xen: { proxyPath: sock, privileged: false } }, readOnly: false, events: new EventEmitter() },
      [xm.factory, proxySubDriverFactory],
    );
    if (r === 'declined') throw new Error('declined');
    try {
      expect((await failure(r.driver.defineXML!("<domain type='xen'><name>x</name></domain>"))).code).toBe('VIR_ERR_OPERATION_DENIED');
      expect((await failure(r.driver.domainUndefine!({ name: 'x', uuid: '11111111-2222-3333-4444-555555555555', id: -1 }))).code).toBe('VIR_ERR_OPERATION_DENIED');
      expect(xm.calls).toEqual([]);
    } finally {
      await r.driver.close();
    }
  });

  it('non-root with a READABLE config dir (the usual case): lookups reach the proxy, the guest is running, vCPUs are served', async () => {
    // The running 'test' guest also has a config file, without a uuid line, as xl users keep them.
    const configDir = join(dir, 'xen');
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'test.cfg'), 'name = "test"\nmemory = 128\nkernel = "/boot/vmlinuz"\n');
    const r = await openXen(
      new URL('xen:///'),
      { options: { xen: { proxyPath: sock, privileged: false, configDir } }, readOnly: false, events: new EventEmitter() },
      [configFilesSubDriverFactory, proxySubDriverFactory],
    );
    if (r === 'declined') throw new Error('declined');
    try {
      const live = (await backend.listAllDomains!({}))[0]!;
      const ref = await r.driver.lookupDomainByName!('test');
      expect(ref).toEqual(live);
      expect(ref.id).toBeGreaterThanOrEqual(0);
      expect((await r.driver.domainGetInfo!(ref)).state).toBe('running');
      const vcpus = (v: { number: number; cpumap: number[] }[]) => v.map((x) => [x.number, x.cpumap]); // cpu time moves on
      expect(vcpus(await r.driver.domainGetVcpus!(ref))).toEqual(vcpus(await backend.domainGetVcpus!(live)));
      expect(await r.driver.domainGetAutostart!(ref)).toBe(await backend.domainGetAutostart!(live));
      expect((await r.driver.listAllDomains!({})).map((d) => [d.name, d.id])).toEqual([['test', live.id]]);
    } finally {
      await r.driver.close();
    }
  });

  it('fails a non-root open with a message saying how to start the proxy when it is unreachable', async () => {
    const e = await failure(openAs(false, join(dir, 'absent.sock')));
    expect(e.message).toMatch(/cannot reach xenvirt-proxy at .*absent\.sock \(ENOENT\)/);
    expect(e.message).toMatch(/systemctl start xenvirt-proxy/);
  });

  it('is never opened as root: a root connection ignores a running proxy', async () => {
    const e = await failure(openProxy({ options: { proxyPath: sock }, privileged: true }));
    expect(e.code).toBe('VIR_ERR_NO_SUPPORT');
    await failure(openAs(true)); // the only sub-driver offered is the proxy, so nothing opens
    expect(server.clientCount).toBe(0);
  });

  it('reports the daemon closing on it as VIR_ERR_NO_CONNECT, not a hang', async () => {
    const drv = await openAs(false);
    await server.close();
    const e = await failure(drv.listAllDomains!({}));
    expect(e.code).toBe('VIR_ERR_NO_CONNECT');
    await drv.close();
  });
});
