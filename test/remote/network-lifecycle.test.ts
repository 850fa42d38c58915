/**
 * Issue 13, part 4: network lifecycle through the remote driver.
 * - The daemon's test driver (test:///default): define → start → list → destroy → undefine,
 *   cross-checked with virsh, with the network events of each step.
 * - A real NAT network (bridge, iptables rules, dnsmasq for DHCP) on a root libvirtd in
 *   private mount and network namespaces (test/helpers/libvirtd.ts, privileged), checked
 *   inside that namespace with `ip` and by dnsmasq's presence; nothing reaches the host.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../lib/index.js';
import { connect } from '../../lib/index.js';
import {
  libvirtdSkipReason,
  privilegedLibvirtdSkipReason,
  type RunningLibvirtd,
  startLibvirtd,
} from '../helpers/libvirtd.js';
import { installTinyGuest, LEASE, tinyGuestSkipReason, tinyGuestXML } from '../helpers/tiny-guest.js';

const run = promisify(execFile);
const virsh = async (uri: string, ...args: string[]) => (await run('virsh', ['-c', uri, ...args], { timeout: 30_000 })).stdout;

/** Collects one network's events and waits for them in order. */
function watchNetwork(conn: Connection, name: string) {
  const seen: string[] = [];
  conn.on('network-event', (ev) => {
    if (ev.network.name === name) seen.push(ev.event);
  });
  return {
    seen,
    async until(count: number, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (seen.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      return seen;
    },
  };
}

async function lifecycle(conn: Connection, uri: string, xml: string, name: string, onActive: () => Promise<void>) {
  const events = watchNetwork(conn, name);
  await conn.getHostname(); // the event subscription made on the first listener is in place
  const net = await conn.networkDefineXML(xml);
  expect(await virsh(uri, 'net-list', '--inactive')).toMatch(new RegExp(`^\\s*${name}\\s+inactive`, 'm'));
  await net.create();
  expect(await net.isActive()).toBe(true);
  const listed = await conn.listAllNetworks();
  expect(listed.map((n) => n.name)).toContain(name);
  expect(await virsh(uri, 'net-list')).toMatch(new RegExp(`^\\s*${name}\\s+active`, 'm'));
  await onActive();
  await net.destroy();
  expect(await net.isActive()).toBe(false);
  await net.undefine();
  await expect(conn.lookupNetworkByName(name)).rejects.toMatchObject({ code: 'VIR_ERR_NO_NETWORK' });
  expect(await events.until(4)).toEqual(['defined', 'started', 'stopped', 'undefined']);
}

describe.skipIf(libvirtdSkipReason())("network lifecycle on the daemon's test driver", () => {
  let daemon: RunningLibvirtd;
  let conn: Connection;
  beforeAll(async () => {
    daemon = await startLibvirtd();
    conn = await connect(daemon.uri('unix'));
  });
  afterAll(async () => {
    await conn?.close();
    await daemon?.stop();
  });

  it('defines, starts, lists, destroys and undefines a NAT network, with its events', async () => {
    const xml = `<network><name>xv-test-nat</name><forward mode='nat'/><bridge name='xvtbr0'/>
      <ip address='192.168.151.1' netmask='255.255.255.0'><dhcp><range start='192.168.151.2' end='192.168.151.254'/></dhcp></ip></network>`;
    await lifecycle(conn, daemon.uri('unix'), xml, 'xv-test-nat', async () => {
      expect(await (await conn.lookupNetworkByName('xv-test-nat')).getBridgeName()).toBe('xvtbr0');
    });
  });
});

describe.skipIf(privilegedLibvirtdSkipReason())('a real NAT network on a root libvirtd in private namespaces', () => {
  let daemon: RunningLibvirtd;
  let conn: Connection;
  let uri: string;
  const inNamespace = (...cmd: string[]) => run('nsenter', ['-t', String(daemon.pid), '-n', '-m', '--', ...cmd], { timeout: 30_000 });
  beforeAll(async () => {
    daemon = await startLibvirtd({ privileged: true });
    uri = daemon.uri('unix', 'qemu:///system');
    conn = await connect(uri);
  });
  afterAll(async () => {
    await conn?.close();
    await daemon?.stop();
  });

  it('creates the bridge with its address and a DHCP server, and removes them again', async () => {
    const xml = `<network><name>xv-real-nat</name><forward mode='nat'/><bridge name='xvrbr0'/>
      <ip address='192.168.152.1' netmask='255.255.255.0'><dhcp><range start='192.168.152.2' end='192.168.152.254'/></dhcp></ip></network>`;
    let dnsmasqPids: string[] = [];
    await lifecycle(conn, uri, xml, 'xv-real-nat', async () => {
      const net = await conn.lookupNetworkByName('xv-real-nat');
      expect(await net.getBridgeName()).toBe('xvrbr0');
      const { stdout: addr } = await inNamespace('ip', '-o', '-4', 'addr', 'show', 'dev', 'xvrbr0');
      expect(addr).toContain('inet 192.168.152.1/24');
      const { stdout: nat } = await inNamespace('iptables', '-t', 'nat', '-S');
      expect(nat).toContain('192.168.152.0/24');
      const { stdout: pid } = await inNamespace('cat', '/run/libvirt/network/xv-real-nat.pid');
      dnsmasqPids = [pid.trim()];
      expect(readFileSync(`/proc/${pid.trim()}/cmdline`, 'utf8')).toContain('dnsmasq');
    });
    await expect(inNamespace('ip', 'link', 'show', 'xvrbr0')).rejects.toThrow(/does not exist/);
    // libvirt stops dnsmasq with a signal; give it time to exit (a zombie counts as gone).
    const alive = (pid: string) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 200 && dnsmasqPids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
    expect(dnsmasqPids.filter(alive)).toEqual([]);
    // The host never saw the bridge.
    await expect(run('ip', ['link', 'show', 'xvrbr0'])).rejects.toThrow(/does not exist/);
  });

  it.skipIf(tinyGuestSkipReason())('gives a QEMU guest on the network a DHCP lease from its range', async () => {
    const xml = `<network><name>xv-lease-nat</name><forward mode='nat'/><bridge name='xvlbr0'/>
      <ip address='192.168.153.1' netmask='255.255.255.0'><dhcp><range start='192.168.153.100' end='192.168.153.150'/></dhcp></ip></network>`;
    const net = await conn.networkDefineXML(xml);
    await net.create();
    const files = await installTinyGuest(daemon.dir);
    const dom = await conn.defineXML(tinyGuestXML('xv-lease-guest', files, 128, 'xv-lease-nat'));
    try {
      await dom.create();
      const console = await dom.openConsole();
      let text = '';
      try {
        const lease = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no lease within 180 s; console: ${JSON.stringify(text.slice(-800))}`)), 180_000);
          console.on('data', (chunk: Buffer) => {
            text += chunk.toString('latin1');
            const m = LEASE.exec(text);
            if (m) {
              clearTimeout(timer);
              resolve(m[1]!);
            }
            if (/XENVIRT-GUEST no lease/.test(text)) {
              clearTimeout(timer);
              reject(new Error(`the guest got no lease; console: ${JSON.stringify(text.slice(-800))}`));
            }
          });
        });
        const last = Number(lease.split('.')[3]);
        expect(lease.startsWith('192.168.153.')).toBe(true);
        expect(last).toBeGreaterThanOrEqual(100);
        expect(last).toBeLessThanOrEqual(150);
      } finally {
        console.destroy();
      }
    } finally {
      await dom.destroy().catch(() => undefined);
      await dom.undefine();
      await net.destroy();
      await net.undefine();
    }
  }, 600_000);
});
