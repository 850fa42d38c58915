/**
 * The remote driver against the REAL libvirtd 9.0.0 (test/helpers/libvirtd.ts) serving
 * test:///default, through the public API. Answers are cross-checked with libvirt's own
 * client (virsh) on the same daemon.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libvirtdSkipReason, type RunningLibvirtd, startLibvirtd } from '../helpers/libvirtd.js';
import { connect, type Connection, VirError } from '../../lib/index.js';

const run = promisify(execFile);
const virsh = async (uri: string, ...args: string[]) => (await run('virsh', ['-c', uri, ...args], { timeout: 30_000 })).stdout;
/** virsh's "Key:   value" lines as a map. */
const fields = (out: string) => Object.fromEntries(out.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));

function waitFor<T>(conn: Connection, name: string, pred: (ev: T) => boolean, ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} within ${ms} ms`)), ms);
    const on = (ev: T) => {
      if (!pred(ev)) return;
      clearTimeout(timer);
      conn.off(name, on);
      resolve(ev);
    };
    conn.on(name, on);
  });
}

describe.skipIf(libvirtdSkipReason())('remote driver against a real libvirtd', () => {
  let daemon: RunningLibvirtd;
  let uri: string;
  let conn: Connection;
  beforeAll(async () => {
    daemon = await startLibvirtd();
    uri = daemon.uri('unix');
    conn = await connect(uri);
  });
  afterAll(async () => {
    await conn?.close();
    await daemon?.stop();
  });

  it('opens test:///default on the daemon and reports what virsh reports', async () => {
    expect(conn.getType()).toBe('TEST');
    const [version, hostname, node] = await Promise.all([conn.getVersion(), conn.getHostname(), conn.nodeGetInfo()]);
    const vh = fields(await virsh(uri, 'version'));
    expect(vh['Using API']).toMatch(/TEST/);
    expect(hostname).toBe((await virsh(uri, 'hostname')).trim());
    const ni = fields(await virsh(uri, 'nodeinfo'));
    expect(node.model).toBe(ni['CPU model']);
    expect(node.cpus).toBe(Number(ni['CPU(s)']));
    expect(node.mhz).toBe(Number(ni['CPU frequency']!.split(' ')[0]));
    expect(`${node.memory} KiB`).toBe(ni['Memory size']);
    expect(version).toBeGreaterThan(0);
    expect(await conn.getCapabilities()).toContain('<capabilities>');
  });

  it('lists and describes domains as virsh does', async () => {
    const doms = await conn.listAllDomains();
    const names = (await virsh(uri, 'list', '--all', '--name')).split('\n').filter(Boolean);
    expect(doms.map((d) => d.name).sort()).toEqual(names.sort());
    const dom = await conn.lookupDomainByName('test');
    const info = await dom.getInfo();
    const vi = fields(await virsh(uri, 'dominfo', 'test'));
    expect(dom.uuid).toBe(vi['UUID']);
    expect(dom.id).toBe(Number(vi['Id']));
    expect(info.state).toBe(vi['State']);
    expect(info.nrVirtCpu).toBe(Number(vi['CPU(s)']));
    expect(`${info.maxMem} KiB`).toBe(vi['Max memory']);
    expect(`${info.memory} KiB`).toBe(vi['Used memory']);
    expect((await dom.getXMLDesc()).trim()).toBe((await virsh(uri, 'dumpxml', 'test')).trim());
    expect((await conn.lookupDomainByUUID(dom.uuid)).name).toBe('test');
    expect((await conn.lookupDomainById(dom.id)).name).toBe('test');
  });

  it('lists networks as virsh does', async () => {
    const nets = await conn.listAllNetworks();
    const names = (await virsh(uri, 'net-list', '--all', '--name')).split('\n').filter(Boolean);
    expect(nets.map((n) => n.name).sort()).toEqual(names.sort());
    const net = await conn.lookupNetworkByName('default');
    expect(await net.isActive()).toBe(true);
    expect(await net.getBridgeName()).toBe((await virsh(uri, 'net-info', 'default')).match(/Bridge:\s+(\S+)/)![1]);
    expect((await net.getXMLDesc()).trim()).toBe((await virsh(uri, 'net-dumpxml', 'default')).trim());
  });

  it("turns the daemon's remote_error into a VirError with libvirt's code, domain and message", async () => {
    const e = await conn.lookupDomainByName('no-such-domain').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VirError);
    expect((e as VirError).code).toBe('VIR_ERR_NO_DOMAIN');
    expect((e as VirError).domain).toBe('VIR_FROM_TEST');
    const bad = await conn.defineXML('<domain>').catch((x: unknown) => x);
    expect((bad as VirError).code).toMatch(/^VIR_ERR_(XML_ERROR|XML_DETAIL)$/);
  });

  it('defines, starts, changes and removes a domain, seen by virsh and delivered as events', async () => {
    const xml = `<domain type='test'><name>remote-e2e</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;
    const events: { event: string; detail?: string; domain: { name: string } }[] = [];
    conn.on('domain-event', (ev) => {
      if (ev.domain.name === 'remote-e2e') events.push(ev);
    });
    const started = waitFor<{ event: string; domain: { name: string } }>(conn, 'domain-event', (ev) => ev.domain.name === 'remote-e2e' && ev.event === 'started');
    // No pause: calls made after a listener is added wait for the daemon to register it.
    const dom = await conn.defineXML(xml);
    expect(dom.id).toBe(-1);
    await dom.create();
    await started;
    expect(dom.id).toBeGreaterThan(0);
    expect(fields(await virsh(uri, 'dominfo', 'remote-e2e'))['State']).toBe('running');
    await dom.setMemory(32768);
    expect((await dom.getInfo()).memory).toBe(32768);
    await dom.suspend();
    expect(fields(await virsh(uri, 'dominfo', 'remote-e2e'))['State']).toBe('paused');
    await dom.resume();
    await dom.setAutostart(true);
    expect(await dom.getAutostart()).toBe(true);
    const stopped = waitFor<{ event: string; domain: { name: string } }>(conn, 'domain-event', (ev) => ev.domain.name === 'remote-e2e' && ev.event === 'stopped');
    await dom.destroy();
    await stopped;
    expect(dom.id).toBe(-1);
    await dom.undefine();
    await expect(virsh(uri, 'dominfo', 'remote-e2e')).rejects.toThrow(/failed to get domain/);
    for (let i = 0; i < 100 && events.length < 6; i++) await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.event)).toEqual(['defined', 'started', 'suspended', 'resumed', 'stopped', 'undefined']);
    expect(events[1]!.detail).toBe('booted');
    expect(events[4]!.detail).toBe('destroyed');
  });

  it('delivers the other domain event IDs too: a metadata change made by virsh on the same daemon', async () => {
    const got = waitFor<{ event: string; domain: { name: string }; data?: Record<string, unknown> }>(conn, 'domain-event', (ev) => ev.event === 'metadata-change');
    await conn.lookupDomainByName('test'); // a call after the listener: the registration is done
    await virsh(uri, 'desc', 'test', '--live', '--title', 'set by virsh');
    const ev = await got;
    expect(ev.domain.name).toBe('test');
    expect(ev.data?.type).toBe(1); // VIR_DOMAIN_METADATA_TITLE
  });

  it('delivers network lifecycle events', async () => {
    const xml = `<network><name>remote-e2e-net</name><bridge name='virbr9'/><ip address='192.168.219.1' netmask='255.255.255.0'/></network>`;
    const seen: string[] = [];
    conn.on('network-event', (ev) => {
      if (ev.network.name === 'remote-e2e-net') seen.push(ev.event);
    });
    const net = await conn.networkDefineXML(xml);
    await net.create();
    expect(await net.isActive()).toBe(true);
    await net.destroy();
    await net.undefine();
    for (let i = 0; i < 100 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['defined', 'started', 'stopped', 'undefined']);
  });

  it('runs 1,000 calls concurrently, each answered correctly', async () => {
    const dom = await conn.lookupDomainByName('test');
    const infos = await Promise.all(Array.from({ length: 1000 }, (_, i) => (i % 2 ? dom.getInfo() : conn.lookupDomainByName('test'))));
    for (let i = 0; i < infos.length; i++) {
      if (i % 2) expect((infos[i] as { state: string }).state).toBe('running');
      else expect((infos[i] as { uuid: string }).uuid).toBe(dom.uuid);
    }
  });

  it('refuses mutating calls on a read-only connection, as the daemon does', async () => {
    const ro = await connect(uri, { readOnly: true });
    try {
      expect((await ro.listAllDomains()).length).toBeGreaterThan(0);
      const dom = await ro.lookupDomainByName('test');
      await expect(dom.suspend()).rejects.toMatchObject({ code: 'VIR_ERR_OPERATION_DENIED' });
    } finally {
      await ro.close();
    }
  });

  it('answers a wrong ?socket= with a clear VirError', async () => {
    const e = await connect(`test+unix:///default?socket=${daemon.dir}/no-such-sock`).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VirError);
    expect((e as VirError).code).toBe('VIR_ERR_SYSTEM_ERROR');
    expect((e as VirError).message).toContain('no-such-sock');
  });

  it.each(['tcp', 'tls'] as const)('serves the same over %s', async (transport) => {
    // Keepalive off: a stalled call must fail the test, not be rescued by the next PING.
    const other = await connect(daemon.uri(transport), { remote: { keepAlive: [0, 0] } });
    try {
      const dom = await other.lookupDomainByName('test');
      expect(dom.uuid).toBe((await conn.lookupDomainByName('test')).uuid);
      expect((await dom.getInfo()).state).toBe('running');
      // Many calls at once: over TLS each must travel in its own record (see RemoteClient coalesceWrites).
      const infos = await Promise.all(Array.from({ length: 1000 }, () => dom.getInfo()));
      expect(infos.every((i) => i.state === 'running')).toBe(true);
      expect((await other.listAllNetworks()).map((n) => n.name)).toContain('default');
    } finally {
      await other.close();
    }
  });
});
