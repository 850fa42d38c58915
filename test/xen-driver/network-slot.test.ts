/**
 * Issue 13 part 2 on this host: the network slot of `xen:///`. The Xen side is a real C
 * xenstored (the fakexen shim stands in for the hypervisor, test/helpers/xenstored.ts) with
 * only the XenStore sub-driver open; the network side is Debian's real libvirtd 9.0.0:
 * - root in private namespaces serving network:///system (real bridge, iptables, dnsmasq):
 *   the whole network lifecycle through xen:///, with its events;
 * - unprivileged (session) serving network:///session: no daemon, a daemon killed
 *   mid-session, close with calls in flight, and the CLI's net-* commands on xen:///.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, XenStore, type Connection } from '../../lib/index.js';
import { ErrorCode } from '../../lib/errors.js';
import { RemoteDriver } from '../../lib/remote/driver.js';
import { UnifiedXenDriver } from '../../lib/drivers/xen/unified.js';
import { resolveXenOptions } from '../../lib/drivers/xen/index.js';
import { libvirtdSkipReason, privilegedLibvirtdSkipReason, startLibvirtd, type RunningLibvirtd } from '../helpers/libvirtd.js';
import { skipReason as xenstoredSkipReason, startXenstored, type RunningXenstored } from '../helpers/xenstored.js';
import { rejection } from '../helpers/rejection.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const XENSTORE_ONLY = ['hypervisor', 'configfiles', 'toolstack', 'xend', 'proxy'] as const;

/** Both real daemons this file needs: XenStore always, libvirtd per describe. */
const skip = xenstoredSkipReason('c') ?? libvirtdSkipReason();

let xs: RunningXenstored;
beforeAll(async () => {
  if (skip) return;
  xs = await startXenstored('c');
  // dom0 as the toolstack writes it: the Xen side's answers below come from here.
  const store = await XenStore.open({ path: xs.socket });
  try {
    await store.write('/local/domain/0/name', 'Domain-0');
  } finally {
    await store.close();
  }
}, 60_000);
afterAll(async () => {
  await xs?.stop();
});

function xenOptions(extra: Record<string, unknown>) {
  return { privileged: true, xenstorePath: xs.socket, disable: [...XENSTORE_ONLY], ...extra };
}
function openXen(extra: Record<string, unknown>): Promise<Connection> {
  return connect('xen:///', { xen: xenOptions(extra) });
}
/** The Xen side answers: XenStore's domain list (the shim's dom0 at least). */
async function xenStillWorks(conn: Connection): Promise<void> {
  const names = (await conn.listAllDomains()).map((d) => d.name);
  expect(names).toContain('Domain-0');
  expect((await conn.lookupDomainByName('Domain-0')).id).toBe(0);
}
const virsh = async (uri: string, ...args: string[]) => (await run('virsh', ['-c', uri, ...args], { timeout: 30_000 })).stdout;

describe.skipIf(skip)('xen:/// without a reachable network daemon', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xenvirt-netslot-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens, and network calls answer VIR_ERR_NO_SUPPORT saying which socket was tried and what happened', async () => {
    const missing = join(dir, 'no-such-sock');
    const conn = await openXen({ networkSocket: missing });
    try {
      expect(conn.warnings).toEqual([]);
      const e = await rejection(conn.listAllNetworks());
      expect(e.code).toBe(ErrorCode.NO_SUPPORT);
      expect(e.message).toContain(`${missing}: no such socket`);
      expect(e.message).toContain('network:///system');
      await xenStillWorks(conn);
      // Every network entry point answers the same way, handles included.
      expect((await rejection(conn.lookupNetworkByName('default'))).code).toBe(ErrorCode.NO_SUPPORT);
      expect((await rejection(conn.networkDefineXML('<network><name>x</name></network>'))).code).toBe(ErrorCode.NO_SUPPORT);
    } finally {
      await conn.close();
    }
  });

  it('a path that is not a daemon socket: NO_SUPPORT with the connect error', async () => {
    const notSocket = join(dir, 'plain-file');
    writeFileSync(notSocket, '');
    const conn = await openXen({ networkSocket: notSocket });
    try {
      const e = await rejection(conn.listAllNetworks());
      expect(e.code).toBe(ErrorCode.NO_SUPPORT);
      expect(e.message).toContain(`${notSocket}: Failed to connect socket`);
      await xenStillWorks(conn);
    } finally {
      await conn.close();
    }
  });

  it('networkSocket: false disables the slot, and says so', async () => {
    const conn = await openXen({ networkSocket: false });
    try {
      const e = await rejection(conn.listAllNetworks());
      expect(e.code).toBe(ErrorCode.NO_SUPPORT);
      expect(e.message).toMatch(/disabled by options\.xen\.networkSocket = false/);
      await xenStillWorks(conn);
    } finally {
      await conn.close();
    }
  });

  it('bad slot options are VIR_ERR_INVALID_ARG naming the option', async () => {
    for (const [opt, pattern] of [
      [{ networkSocket: '' }, /networkSocket must be a unix socket path/],
      [{ networkSocket: true }, /networkSocket must be a unix socket path/],
      [{ networkURI: 'network+ssh://host/system' }, /networkURI must be a local driver URI/],
      [{ networkURI: 'not a uri' }, /networkURI must be a local driver URI/],
    ] as const) {
      const e = await rejection(openXen(opt));
      expect(e.code).toBe(ErrorCode.INVALID_ARG);
      expect(e.message).toMatch(pattern);
    }
  });

  it('$XENVIRT_XEN_OPTIONS (for the CLI): checked like options.xen, and fields given in code win', () => {
    const env = (v: string) => ({ XENVIRT_XEN_OPTIONS: v });
    expect(() => resolveXenOptions(undefined, env('{'))).toThrow(/XENVIRT_XEN_OPTIONS is not valid JSON/);
    expect(() => resolveXenOptions(undefined, env('[]'))).toThrow(/XENVIRT_XEN_OPTIONS must be an object/);
    expect(() => resolveXenOptions(undefined, env('{"networkSoket":"/x"}'))).toThrow(/unknown option XENVIRT_XEN_OPTIONS\.networkSoket/);
    expect(resolveXenOptions({ networkSocket: '/code' }, env('{"networkSocket":"/env","networkURI":"network:///session"}'))).toEqual({
      networkSocket: '/code',
      networkURI: 'network:///session',
    });
  });
});

describe.skipIf(skip)('xen:/// with a session libvirtd (network:///session)', () => {
  let daemon: RunningLibvirtd;
  const netXML = (name: string) => `<network><name>${name}</name><bridge name='${name.slice(0, 12)}'/><ip address='192.168.161.1' netmask='255.255.255.0'/></network>`;
  beforeAll(async () => {
    daemon = await startLibvirtd();
  }, 120_000);
  afterAll(async () => {
    await daemon?.stop();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const slot = () => ({ networkSocket: daemon.socket, networkURI: 'network:///session' });
  const daemonURI = () => daemon.uri('unix', 'network:///session');

  it('lists, defines and undefines networks the daemon holds (cross-checked with virsh)', async () => {
    const conn = await openXen(slot());
    try {
      const net = await conn.networkDefineXML(netXML('xvslot-def'));
      expect(await virsh(daemonURI(), 'net-list', '--all')).toMatch(/^\s*xvslot-def\s+inactive/m);
      expect((await conn.listAllNetworks()).map((n) => n.name)).toContain('xvslot-def');
      expect(await net.isActive()).toBe(false);
      expect(await net.getXMLDesc()).toContain('<name>xvslot-def</name>');
      await net.undefine();
      expect(await virsh(daemonURI(), 'net-list', '--all')).not.toContain('xvslot-def');
      await xenStillWorks(conn);
    } finally {
      await conn.close();
    }
  });

  it('the CLI: net-list, net-define, net-dumpxml and net-undefine on xen:///', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenvirt-netslot-cli-'));
    try {
      const file = join(dir, 'net.xml');
      writeFileSync(file, netXML('xvslot-cli'));
      const env = { ...process.env, XENVIRT_XEN_OPTIONS: JSON.stringify(xenOptions(slot())) };
      const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'xenvirt.js'), '-c', 'xen:///', ...args], { env, encoding: 'utf8', timeout: 60_000 });
      const defined = cli('net-define', file);
      expect(defined.stderr).toBe('');
      expect(defined.stdout).toContain('Network xvslot-cli defined');
      const listed = cli('net-list', '--all');
      expect(listed.status).toBe(0);
      expect(listed.stdout).toMatch(/^\s*xvslot-cli\s+inactive/m);
      expect(cli('net-dumpxml', 'xvslot-cli').stdout).toContain('<name>xvslot-cli</name>');
      expect(await virsh(daemonURI(), 'net-list', '--all')).toMatch(/^\s*xvslot-cli\s+inactive/m);
      expect(cli('net-undefine', 'xvslot-cli').status).toBe(0);
      expect(await virsh(daemonURI(), 'net-list', '--all')).not.toContain('xvslot-cli');
      // The Xen side of the same CLI connection.
      expect(cli('list').stdout).toMatch(/^\s*0\s+Domain-0\s+running/m);
      // Without a daemon: the error names the reason, exit status 1.
      const none = spawnSync(process.execPath, [join(root, 'bin', 'xenvirt.js'), '-c', 'xen:///', 'net-list'], {
        env: { ...process.env, XENVIRT_XEN_OPTIONS: JSON.stringify(xenOptions({ networkSocket: join(dir, 'none') })) },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(none.status).toBe(1);
      expect(none.stderr).toMatch(/no such socket.*\(VIR_ERR_NO_SUPPORT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('close with network calls in flight: each side closed once, the calls end with INVALID_CONN', async () => {
    const remoteClose = vi.spyOn(RemoteDriver.prototype, 'close');
    const xenClose = vi.spyOn(UnifiedXenDriver.prototype, 'close');
    const conn = await openXen(slot());
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      await conn.listAllNetworks(); // the slot is open
      daemon.kill('SIGSTOP'); // calls now stay in flight
      const inFlight = [conn.listAllNetworks(), conn.lookupNetworkByName('none'), conn.listAllNetworks()].map((p) => rejection(p));
      await new Promise((r) => setTimeout(r, 100));
      // The daemon stays stopped: its CONNECT_CLOSE reply never comes (the remote driver gives
      // up after 5 s), so the calls are still pending when the link is torn down.
      await Promise.all([conn.close(), conn.close()]);
      daemon.kill('SIGCONT');
      await conn.close();
      for (const e of await Promise.all(inFlight)) {
        expect(e.code).toBe(ErrorCode.INVALID_CONN);
        expect(e.message).toMatch(/closed while this call was in flight/);
      }
      expect(remoteClose).toHaveBeenCalledTimes(1);
      expect(xenClose).toHaveBeenCalledTimes(1);
      expect((await rejection(conn.listAllNetworks())).code).toBe(ErrorCode.INVALID_CONN);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      daemon.kill('SIGCONT');
      process.off('unhandledRejection', onUnhandled);
    }
  }, 60_000);

  it('close while the slot is opening: the open is finished and closed once, the waiting call ends with INVALID_CONN', async () => {
    const remoteOpen = vi.spyOn(RemoteDriver, 'open');
    const remoteClose = vi.spyOn(RemoteDriver.prototype, 'close');
    const conn = await openXen(slot());
    const waiting = rejection(conn.listAllNetworks());
    await conn.close();
    const e = await waiting;
    expect(e.code).toBe(ErrorCode.INVALID_CONN);
    expect(remoteOpen.mock.calls.length).toBe(remoteClose.mock.calls.length);
    expect(remoteClose.mock.calls.length).toBeLessThanOrEqual(1);
  });

  it('a connection that never makes a network call never connects to the daemon', async () => {
    const remoteOpen = vi.spyOn(RemoteDriver, 'open');
    const conn = await openXen(slot());
    await xenStillWorks(conn);
    await conn.close();
    expect(remoteOpen).not.toHaveBeenCalled();
  });
});

describe.skipIf(skip)('xen:/// when its network daemon dies mid-session', () => {
  let daemon: RunningLibvirtd;
  beforeAll(async () => {
    daemon = await startLibvirtd();
  }, 120_000);
  afterAll(async () => {
    await daemon?.stop();
  });

  it('network calls (in flight and later) fail with SYSTEM_ERROR naming the daemon, a warning is raised, Xen calls keep working', async () => {
    const conn = await openXen({ networkSocket: daemon.socket, networkURI: 'network:///session' });
    const warned: Error[] = [];
    conn.on('warning', (w: Error) => warned.push(w));
    try {
      expect(Array.isArray(await conn.listAllNetworks())).toBe(true);
      daemon.kill('SIGSTOP');
      const inFlight = rejection(conn.listAllNetworks());
      await new Promise((r) => setTimeout(r, 100));
      daemon.kill('SIGKILL');
      await daemon.exited;
      const during = await inFlight;
      expect(during.code).toBe(ErrorCode.SYSTEM_ERROR);
      expect(during.message).toContain(`lost the libvirt daemon at ${daemon.socket} (network:///session)`);
      const after = await rejection(conn.lookupNetworkByName('default'));
      expect(after.code).toBe(ErrorCode.SYSTEM_ERROR);
      expect(after.message).toContain(daemon.socket);
      expect(warned).toHaveLength(1);
      expect(conn.warnings.map((w) => w.message)).toEqual([warned[0]!.message]);
      await xenStillWorks(conn);
    } finally {
      await conn.close();
    }
  }, 60_000);
});

describe.skipIf(skip || privilegedLibvirtdSkipReason())('xen:/// with a root libvirtd serving network:///system (real bridge, dnsmasq)', () => {
  let daemon: RunningLibvirtd;
  let conn: Connection;
  beforeAll(async () => {
    daemon = await startLibvirtd({ privileged: true });
    conn = await openXen({ networkSocket: daemon.socket });
  }, 120_000);
  afterAll(async () => {
    await conn?.close();
    await daemon?.stop();
  });

  it('defines, starts, lists, destroys and undefines a NAT network, with network events on the Xen connection', async () => {
    const name = 'xvslot-nat';
    const seen: string[] = [];
    conn.on('network-event', (ev) => {
      if (ev.network.name === name) seen.push(ev.event);
    });
    const uri = daemon.uri('unix', 'network:///system');
    const net = await conn.networkDefineXML(`<network><name>${name}</name><forward mode='nat'/><bridge name='xvsbr0'/>
      <ip address='192.168.162.1' netmask='255.255.255.0'><dhcp><range start='192.168.162.2' end='192.168.162.254'/></dhcp></ip></network>`);
    await net.create();
    expect(await net.isActive()).toBe(true);
    expect(await net.getBridgeName()).toBe('xvsbr0');
    expect((await conn.listAllNetworks()).map((n) => n.name)).toContain(name);
    expect(await virsh(uri, 'net-list')).toMatch(new RegExp(`^\\s*${name}\\s+active`, 'm'));
    const { stdout: addr } = await run('nsenter', ['-t', String(daemon.pid), '-n', '--', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'xvsbr0'], { timeout: 30_000 });
    expect(addr).toContain('inet 192.168.162.1/24');
    await net.destroy();
    expect(await net.isActive()).toBe(false);
    await net.undefine();
    expect((await rejection(conn.lookupNetworkByName(name))).code).toBe('VIR_ERR_NO_NETWORK');
    const deadline = Date.now() + 20_000;
    while (seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(seen).toEqual(['defined', 'started', 'stopped', 'undefined']);
    await xenStillWorks(conn);
  }, 120_000);
});
