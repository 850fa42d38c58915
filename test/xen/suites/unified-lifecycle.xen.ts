/**
 * The unified Xen driver on real Xen 4.17 (inside the harness's dom0), through
 * connect('xen:///') only: a guest's whole life from XML to gone, checked against xl
 * (an independent client), with the domain events; then each fallback route, by
 * making its first sub-driver fail for real (the XenStore connection cut, xl broken,
 * the hypervisor sub-driver left out) and checking the next one answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { connect, registerDriver, ErrorCode, VirError, type Connection, type Domain } from '../../../lib/index.js';
import { openXen } from '../../../lib/drivers/xen/index.js';
import { subDriverFactories } from '../../../lib/drivers/xen/factories.js';
import type { SubDriverFactory } from '../../../lib/drivers/xen/subdriver.js';
import { inDom0, notInDom0Reason, pvGuestXML, waitFor, xl, xlList, xlListLong } from '../helpers.js';

const run = promisify(execFile);
const here = inDom0();
if (!here) console.warn(`unified-lifecycle.xen: skipped (${notInDom0Reason})`);

type DomainEvent = { domain: { name: string; uuid: string; id: number }; event: string };

let seq = 0;
function guestXML(name: string): string {
  return pvGuestXML(name, `5e1f0000-0000-4000-8000-${String(process.pid).padStart(6, '0')}${String(++seq).padStart(6, '0')}`);
}

/** A stand-in `xl` that always fails like a broken toolstack (fault injection). */
function brokenXl(dir: string): string {
  const p = join(dir, 'broken-xl.sh');
  writeFileSync(p, '#!/bin/sh\necho "libxl: error: injected toolstack failure" >&2\nexit 1\n');
  chmodSync(p, 0o755);
  return p;
}

/** The XenStore socket dom0's xenstored listens on. */
function xenstoreSocket(): string {
  const p = ['/run/xenstored/socket', '/var/run/xenstored/socket'].find((s) => existsSync(s));
  if (!p) throw new Error('no xenstored socket in dom0');
  return p;
}

/**
 * A pass-through to the real xenstored socket that the test can cut: the XenStore
 * sub-driver then sees its daemon go away mid-connection (fault injection).
 */
async function cuttableXenStore(dir: string): Promise<{ path: string; cut(): Promise<void> }> {
  const path = join(dir, 'xs-passthrough.sock');
  const conns: Socket[] = [];
  const server: Server = createServer((client) => {
    const up = netConnect(xenstoreSocket());
    conns.push(client, up);
    client.pipe(up);
    up.pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
    };
    client.on('error', end);
    up.on('error', end);
    client.on('close', end);
    up.on('close', end);
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    async cut() {
      for (const c of conns) c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Wait until the guest's init prints its first tick: a shutdown request that arrives
 * while the guest kernel is still booting is read (and cleared) before anything can
 * power the guest off, and is lost.
 */
async function booted(name: string): Promise<void> {
  const log = `/var/log/xen/console/guest-${name}.log`;
  await waitFor(`${name} booted (console tick)`, () => existsSync(log) && /XQ-DOMU tick \d+/.test(readFileSync(log, 'utf8')), 120_000, 500);
}

async function running(name: string): Promise<boolean> {
  return (await xlList()).some((r) => r.name === name);
}

describe.skipIf(!here)('unified Xen driver on real Xen: lifecycle through connect("xen:///")', () => {
  let conn: Connection;
  let configDir: string;
  let work: string;
  const events: DomainEvent[] = [];
  const name = `xv-life-${process.pid}`;
  let dom: Domain;
  const timings: Record<string, number> = {};
  async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      timings[what] = Date.now() - t0;
    }
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'xenvirt-life-'));
    configDir = join(work, 'xen');
    mkdirp(configDir);
    conn = await connect('xen:///', { xen: { configDir } });
    conn.on('domain-event', (e: DomainEvent) => events.push(e));
  });
  afterAll(async () => {
    if (await running(name).catch(() => false)) await xl(['destroy', name]).catch(() => {});
    await conn?.close();
    rmSync(work, { recursive: true, force: true });
    console.log(`unified-lifecycle timings (ms, TCG emulation): ${JSON.stringify(timings)}`);
  });

  it('opens with every sub-driver a root dom0 has', async () => {
    expect(conn.getType()).toBe('Xen');
    expect(await conn.getVersion()).toBeGreaterThanOrEqual(4_017_000);
    const d0 = await conn.lookupDomainById(0);
    expect(d0.name).toBe('Domain-0');
  });

  it('define from XML -> listed as defined, config file written', async () => {
    dom = await timed('define', () => conn.defineXML(guestXML(name)));
    expect(dom.id).toBe(-1);
    expect(readdirSync(configDir)).toEqual([name]);
    expect((await conn.listAllDomains({ inactive: true })).map((d) => d.name)).toContain(name);
    expect((await conn.listAllDomains({ active: true })).map((d) => d.name)).not.toContain(name);
    expect((await dom.getInfo()).state).toBe('shutoff');
  });

  it('start -> running with a domain id; getInfo agrees with xl list -l', async () => {
    await timed('create', () => dom.create());
    expect(dom.id).toBeGreaterThan(0);
    expect(await running(name)).toBe(true);
    const info = await dom.getInfo();
    // A vcpu that is runnable but waiting for a physical CPU has neither Xen's running nor
    // blocked flag: that is libvirt's 'nostate', and normal on a busy (or 1-CPU) host.
    expect(['running', 'blocked', 'nostate']).toContain(info.state);
    const long = (await xlListLong()).find((d) => d.domid === dom.id)!;
    expect(long.config.c_info.name).toBe(name);
    expect(long.config.c_info.uuid).toBe(dom.uuid);
    // Xen's max_pages is libxl's max_memkb plus its fixed slack (LIBXL_MAXMEM_CONSTANT, 1 MiB).
    expect(info.maxMem - long.config.b_info.max_memkb).toBeGreaterThanOrEqual(0);
    expect(info.maxMem - long.config.b_info.max_memkb).toBeLessThanOrEqual(1024);
    expect(info.nrVirtCpu).toBe(long.config.b_info.max_vcpus);
    const row = (await xlList()).find((r) => r.id === dom.id)!;
    expect(Math.floor(info.memory / 1024)).toBe(row.memMiB); // xl list prints whole MiB, truncated
    expect(row.vcpus).toBe(info.nrVirtCpu);
    expect((await conn.listAllDomains({ active: true })).find((d) => d.name === name)?.id).toBe(dom.id);
    const xml = await dom.getXMLDesc();
    expect(xml).toContain(`id='${dom.id}'`);
    expect(xml).toMatch(/<console type='pty' tty='\/dev\/pts\/\d+'>/);
    await waitFor('started event', () => events.some((e) => e.event === 'started' && e.domain.name === name), 30_000);
  });

  it('suspend -> paused; resume -> running (toolstack route)', async () => {
    await timed('suspend', () => dom.suspend());
    expect((await dom.getInfo()).state).toBe('paused');
    expect((await xlList()).find((r) => r.id === dom.id)!.state).toContain('p');
    await timed('resume', () => dom.resume());
    expect((await dom.getInfo()).state).not.toBe('paused');
    expect((await xlList()).find((r) => r.id === dom.id)!.state).not.toContain('p');
  });

  it('shutdown (XenStore route: control/shutdown) -> gone, stopped event', async () => {
    const id = dom.id;
    await booted(name);
    await timed('shutdown-to-gone', async () => {
      await dom.shutdown();
      await waitFor(`${name} gone after shutdown`, async () => !(await running(name)), 90_000, 500);
    });
    // xl stops listing the guest once its name leaves XenStore; the hypervisor keeps the dying
    // domain (and xenvirt lists it, as libvirt does) until the toolstack has reaped it.
    await waitFor(`${name} (id ${id}) no longer listed active`, async () => !(await conn.listAllDomains({ active: true })).some((d) => d.id === id), 30_000, 250);
    expect((await conn.listAllDomains({ inactive: true })).map((d) => d.name)).toContain(name);
    await waitFor('stopped event', () => events.some((e) => e.event === 'stopped' && e.domain.name === name), 30_000);
  });

  it('start again -> destroy through the hypervisor (toolstack broken) -> gone', async () => {
    await timed('create-again', () => dom.create());
    expect(dom.id).toBeGreaterThan(0);
    const broken = await connect('xen:///', { xen: { configDir, xlPath: brokenXl(work) } });
    try {
      const d = await broken.lookupDomainByName(name);
      expect(d.id).toBe(dom.id);
      await timed('destroy-hypervisor', () => d.destroy());
      await waitFor(`${name} gone after destroy`, async () => !(await broken.listAllDomains({ active: true })).some((x) => x.name === name), 60_000, 500);
    } finally {
      await broken.close();
    }
    await waitFor('second stopped event', () => events.filter((e) => e.event === 'stopped' && e.domain.name === name).length >= 2, 30_000);
    expect(events.filter((e) => e.domain.name === name && e.event === 'started').length).toBeGreaterThanOrEqual(2);
  });

  it('undefine -> config file gone, not listed', async () => {
    await dom.undefine();
    expect(readdirSync(configDir)).toEqual([]);
    expect((await conn.listAllDomains()).map((d) => d.name)).not.toContain(name);
    await expect(conn.lookupDomainByName(name)).rejects.toMatchObject({ code: ErrorCode.NO_DOMAIN });
  });
});

describe.skipIf(!here)('unified Xen driver on real Xen: each fallback route answers when the first fails', () => {
  let work: string;
  let configDir: string;
  let conn: Connection;
  let dom: Domain;
  const name = `xv-fall-${process.pid}`;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'xenvirt-fall-'));
    configDir = join(work, 'xen');
    mkdirp(configDir);
    conn = await connect('xen:///', { xen: { configDir } });
    dom = await conn.defineXML(guestXML(name));
    await dom.create();
    await booted(name);
  });
  afterAll(async () => {
    if (await running(name).catch(() => false)) await xl(['destroy', name]).catch(() => {});
    await conn?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('suspend/resume: toolstack fails -> the hypervisor pauses and unpauses', async () => {
    const c = await connect('xen:///', { xen: { configDir, xlPath: brokenXl(work) } });
    try {
      const d = await c.lookupDomainByName(name);
      await d.suspend();
      expect((await xlList()).find((r) => r.name === name)!.state).toContain('p');
      await d.resume();
      expect((await xlList()).find((r) => r.name === name)!.state).not.toContain('p');
    } finally {
      await c.close();
    }
  });

  it('getInfo: without the hypervisor sub-driver, XenStore answers (memory target)', async () => {
    const c = await connect('xen:///', { xen: { configDir, disable: ['hypervisor'] } });
    try {
      const info = await (await c.lookupDomainByName(name)).getInfo();
      expect(info.memory).toBe(128 * 1024);
      expect(info.state).toBe('running');
    } finally {
      await c.close();
    }
  });

  it('setMemory: XenStore cut -> xl mem-set answers', async () => {
    const xs = await cuttableXenStore(work);
    const c = await connect('xen:///', { xen: { configDir, xenstorePath: xs.path } });
    try {
      const d = await c.lookupDomainByName(name);
      await xs.cut();
      await d.setMemory(120 * 1024);
      // xl mem-set sets the balloon target the guest reads
      const { stdout } = await run('xenstore-read', [`/local/domain/${d.id}/memory/target`]);
      expect(Number(stdout.trim())).toBe(120 * 1024);
    } finally {
      await c.close();
    }
  });

  it('shutdown: XenStore cut -> xl shutdown answers and the guest goes away', async () => {
    const xs = await cuttableXenStore(work);
    const c = await connect('xen:///', { xen: { configDir, xenstorePath: xs.path } });
    try {
      const d = await c.lookupDomainByName(name);
      await xs.cut();
      await d.shutdown();
      await waitFor(`${name} gone`, async () => !(await running(name)), 90_000, 500);
    } finally {
      await c.close();
    }
  });

  it('every candidate failing gives the most specific error, not "cause unknown"', async () => {
    // The guest is gone now: suspend through a broken toolstack and the hypervisor.
    const c = await connect('xen:///', { xen: { configDir, xlPath: brokenXl(work) } });
    try {
      const stale = await c.lookupDomainByName(name); // inactive (defined only)
      const e = await stale.suspend().then(() => undefined, (x: unknown) => x as { code: string; message: string });
      expect(e?.code).toBe(ErrorCode.OPERATION_INVALID);
      expect(e?.message).toMatch(/not running/);
    } finally {
      await c.close();
    }
    await dom.undefine();
  });
});

/** The real xl behind a wrapper that records each command line first (to prove xl was NOT called). */
function recordingXl(dir: string): { path: string; calls(): string[] } {
  const p = join(dir, 'recording-xl.sh');
  const log = join(dir, 'xl-calls.log');
  const real = ['/usr/sbin/xl', '/usr/bin/xl', '/sbin/xl'].find((x) => existsSync(x)) ?? 'xl';
  writeFileSync(p, `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\nexec ${real} "$@"\n`);
  chmodSync(p, 0o755);
  return { path: p, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) };
}

// The same open path as xen:///, with the real hypervisor sub-driver made to probe an
// interface version Xen does not speak: what a Xen newer than this build looks like.
let unsupportedFactories: SubDriverFactory[] = [];
registerDriver({ name: 'xen-with-unknown-interface', uriSchemes: ['xenunknown'], open: (uri, ctx) => openXen(uri, ctx, unsupportedFactories) });

describe.skipIf(!here)('unified Xen driver on real Xen: stop rules, live facts, no dead connection', () => {
  let work: string;
  let configDir: string;
  let conn: Connection;
  let dom: Domain;
  const name = `xv-rules-${process.pid}`;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'xenvirt-rules-'));
    configDir = join(work, 'xen');
    mkdirp(configDir);
    conn = await connect('xen:///', { xen: { configDir } });
    dom = await conn.defineXML(guestXML(name));
    await dom.create();
    // The same guest as an xl user keeps it in /etc/xen: no uuid line; and the
    // toolstack's own files beside it, which are not domain configs.
    writeFileSync(join(configDir, `${name}.cfg`), `name = "${name}"\nmemory = 128\nkernel = "${process.env.XQ_GUEST_KERNEL}"\n`);
    writeFileSync(join(configDir, 'xl.conf'), 'autoballoon="off"\n');
    writeFileSync(join(configDir, 'oxenstored.conf'), 'quota-maxentity = 1000\n');
    writeFileSync(join(configDir, `${name}.cfg~`), `name = "${name}-backup"\nmemory = 128\n`);
  });
  afterAll(async () => {
    if (await running(name).catch(() => false)) await xl(['destroy', name]).catch(() => {});
    await conn?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('setMemory above the maximum: INVALID_ARG from XenStore, nothing changes, xl is NOT called', async () => {
    const rec = recordingXl(work);
    const c = await connect('xen:///', { xen: { configDir, xlPath: rec.path } });
    try {
      const d = await c.lookupDomainByName(name);
      const before = await d.getInfo();
      const target = (await run('xenstore-read', [`/local/domain/${d.id}/memory/target`])).stdout.trim();
      const e = await d.setMemory(before.maxMem + 256 * 1024).then(() => undefined, (x: unknown) => x as { code: string });
      expect(e?.code).toBe(ErrorCode.INVALID_ARG);
      expect(rec.calls()).toEqual([]);
      expect((await run('xenstore-read', [`/local/domain/${d.id}/memory/target`])).stdout.trim()).toBe(target);
      expect((await d.getInfo()).memory).toBe(before.memory);
    } finally {
      await c.close();
    }
  });

  it('a running guest with a uuid-less config is found running and listed once; toolstack files are not domains', async () => {
    const d = await conn.lookupDomainByName(name);
    expect(d.id).toBe(dom.id);
    expect(['running', 'blocked', 'nostate']).toContain((await d.getInfo()).state);
    const all = (await conn.listAllDomains()).map((x) => x.name);
    expect(all.filter((n) => n === name)).toHaveLength(1);
    expect(all).not.toContain(`${name}-backup`);
    expect((await conn.listAllDomains({ inactive: true })).map((x) => x.name)).not.toContain(name);
  });

  it('setVcpus has no hypervisor fallback: a broken toolstack is the answer, the hypervisor is not asked', async () => {
    const c = await connect('xen:///', { xen: { configDir, xlPath: brokenXl(work) } });
    try {
      const d = await c.lookupDomainByName(name);
      const e = await d.setVcpus(1).then(() => undefined, (x: unknown) => x as { code: string; message: string });
      expect(e?.message).toMatch(/injected toolstack failure/);
    } finally {
      await c.close();
    }
  });

  it('Xen speaking an interface this build does not know: xen:/// still opens, XenStore and xl answer, the reason is in warnings', async () => {
    const { HypervisorDriver } = await import('../../../lib/hypervisor/index.js');
    const { HypervisorSubDriver } = await import('../../../lib/drivers/xen/hypervisor-subdriver.js');
    unsupportedFactories = subDriverFactories().map((f) =>
      f.name === 'hypervisor' ? { name: 'hypervisor', open: async () => new HypervisorSubDriver(HypervisorDriver.open({ domctlVersions: [0x7e] })) } : f,
    );
    const c = await connect('xenunknown:///', { xen: { configDir } });
    try {
      expect(c.warnings).toHaveLength(1);
      expect(c.warnings[0]!.code).toBe(ErrorCode.XEN_CALL);
      expect(c.warnings[0]!.message).toMatch(/without the hypervisor sub-driver/);
      const d = await c.lookupDomainByName(name);
      expect(d.id).toBe(dom.id);
      const info = await d.getInfo(); // XenStore
      expect(info.memory).toBeGreaterThan(0);
      await d.suspend(); // the toolstack
      expect((await xlList()).find((r) => r.name === name)!.state).toContain('p');
      await d.resume();
      expect((await xlList()).find((r) => r.name === name)!.state).not.toContain('p');
      expect((await c.listAllDomains({ active: true })).map((x) => x.name)).toContain(name);
    } finally {
      await c.close();
    }
    // Any other hypervisor failure still fails the open.
    unsupportedFactories = subDriverFactories().map((f) =>
      f.name === 'hypervisor' ? { name: 'hypervisor', open: async () => { throw new VirError('privcmd broke', { code: ErrorCode.NO_XEN }); } } : f,
    );
    await expect(connect('xenunknown:///', { xen: { configDir } })).rejects.toMatchObject({ code: ErrorCode.NO_XEN });
  });

  it('listAllDomains({ withInfo }) agrees with getInfo and xl list', async () => {
    const { openXen: open } = await import('../../../lib/drivers/xen/index.js');
    const { EventEmitter } = await import('node:events');
    const r = await open(new URL('xen:///'), { options: { xen: { configDir } }, readOnly: true, events: new EventEmitter() });
    if (r === 'declined') throw new Error('declined');
    try {
      const refs = await r.driver.listAllDomains!({ withInfo: true });
      const mine = refs.find((x) => x.name === name)!;
      expect(mine.id).toBe(dom.id);
      const row = (await xlList()).find((x) => x.name === name)!;
      expect(Math.floor(mine.info!.memory / 1024)).toBe(row.memMiB);
      expect(mine.info!.nrVirtCpu).toBe(row.vcpus);
      expect(mine.info!.cpuTime).toBeGreaterThan(0);
      expect(refs.find((x) => x.id === 0)!.info!.cpuTime).toBeGreaterThan(0);
    } finally {
      await r.driver.close();
    }
  });
});

function mkdirp(p: string): void {
  mkdirSync(p, { recursive: true });
}
