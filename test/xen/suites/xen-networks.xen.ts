// xen-releases: 4.17
/**
 * Issue 13 part 2 on real Xen: the network slot of `xen:///` in the 4.17 dom0, where
 * Debian's libvirt 9.0.0 runs (test/xen/libvirt-in-dom0.sh; the 4.20 rootfs has no libvirt,
 * so this file names its release above and run.sh neither runs nor counts it on 4.20).
 * `xen:///` is opened with no network options: the slot finds libvirtd's socket as
 * libvirt's client would (no virtnetworkd-sock there, so /run/libvirt/libvirt-sock) and asks
 * it for network:///system. Checked against virsh and dom0's own view (ip, dnsmasq).
 * Per-step timings go to the test output.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, VirError, type Connection } from '../../../lib/index.js';
import { inDom0, notInDom0Reason, waitFor } from '../helpers.js';

const run = promisify(execFile);
const here = inDom0();
if (!here) console.warn(`xen-networks.xen: skipped (${notInDom0Reason})`);

const LIBVIRT_SCRIPT = 'test/xen/libvirt-in-dom0.sh';
const SOCKET = '/run/libvirt/libvirt-sock';
const virsh = async (...args: string[]) => (await run('virsh', ['-c', 'network:///system', ...args], { timeout: 120_000 })).stdout;
const libvirt = (cmd: 'start' | 'stop') => run('bash', [LIBVIRT_SCRIPT, cmd], { timeout: 240_000 });

/** Time one step and print it (the closing note of issue 13 wants per-step timings). */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const v = await fn();
  console.log(`xen-networks step ${what}: ${(performance.now() - t0).toFixed(1)} ms`);
  return v;
}

async function rejectionOf(p: Promise<unknown>): Promise<VirError> {
  const e = await p.then(
    () => new Error('expected a rejection'),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(VirError);
  return e as VirError;
}

/** The Xen side answers from Xen, not from the daemon. */
async function xenStillWorks(conn: Connection): Promise<void> {
  const doms = await conn.listAllDomains();
  expect(doms.map((d) => d.id)).toContain(0);
  const dom0 = await conn.lookupDomainById(0);
  expect((await dom0.getInfo()).state).toBe('running');
  expect((await conn.nodeGetInfo()).cpus).toBeGreaterThan(0);
}

describe.skipIf(!here)('xen:/// networks through libvirt 9.0.0 in the 4.17 dom0', () => {
  let conn: Connection;
  beforeAll(async () => {
    await step('libvirtd start', () => libvirt('start'));
    conn = await step("connect('xen:///')", () => connect('xen:///'));
  });
  afterAll(async () => {
    await conn?.close();
  });

  it("lists the daemon's networks, as virsh does", async () => {
    const xml = "<network><name>xv-virsh-net</name><bridge name='xvvbr0'/></network>";
    await run('sh', ['-c', `printf '%s' "$1" > /tmp/xv-virsh-net.xml && virsh -c network:///system net-define /tmp/xv-virsh-net.xml`, 'sh', xml], { timeout: 120_000 });
    try {
      const ours = (await step('listAllNetworks (first network call: opens the slot)', () => conn.listAllNetworks())).map((n) => n.name).sort();
      const theirs = (await virsh('net-list', '--all', '--name')).split('\n').map((l) => l.trim()).filter(Boolean).sort();
      expect(ours).toContain('xv-virsh-net');
      expect(ours).toEqual(theirs);
      await step('listAllNetworks (slot open)', () => conn.listAllNetworks());
    } finally {
      await virsh('net-undefine', 'xv-virsh-net');
    }
  });

  it('defines, starts, destroys and undefines a network (bridge + dnsmasq in dom0), with its events', async () => {
    const name = 'xv-dom0-net';
    const seen: string[] = [];
    conn.on('network-event', (ev) => {
      if (ev.network.name === name) seen.push(ev.event);
    });
    // forward mode 'open': a bridge with an address and DHCP, and no firewall rules (dom0's
    // kernel modules for netfilter are not there; the bridge module comes with its initramfs).
    const net = await step('networkDefineXML', () =>
      conn.networkDefineXML(`<network><name>${name}</name><forward mode='open'/><bridge name='xvdbr0'/>
        <ip address='192.168.171.1' netmask='255.255.255.0'><dhcp><range start='192.168.171.2' end='192.168.171.100'/></dhcp></ip></network>`),
    );
    expect(await virsh('net-list', '--inactive', '--name')).toContain(name);
    await step('networkCreate', () => net.create());
    expect(await step('networkIsActive', () => net.isActive())).toBe(true);
    expect(await net.getBridgeName()).toBe('xvdbr0');
    expect(await virsh('net-list', '--name')).toContain(name);
    const { stdout: addr } = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', 'xvdbr0'], { timeout: 30_000 });
    expect(addr).toContain('inet 192.168.171.1/24');
    const pid = readFileSync(`/run/libvirt/network/${name}.pid`, 'utf8').trim();
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('dnsmasq');
    await step('networkDestroy', () => net.destroy());
    expect(await net.isActive()).toBe(false);
    await expect(run('ip', ['link', 'show', 'xvdbr0'])).rejects.toThrow(/does not exist/);
    await step('networkUndefine', () => net.undefine());
    expect((await rejectionOf(conn.lookupNetworkByName(name))).code).toBe('VIR_ERR_NO_NETWORK');
    await waitFor('four network events', () => (seen.length >= 4 ? true : undefined), 30_000);
    expect(seen).toEqual(['defined', 'started', 'stopped', 'undefined']);
  });

  it('once the daemon is stopped: network calls fail naming it, Xen calls keep working; a new xen:/// answers NO_SUPPORT naming the sockets', async () => {
    const warned: VirError[] = [];
    conn.on('warning', (w: VirError) => warned.push(w));
    await step('libvirtd stop', () => libvirt('stop'));
    await waitFor('the lost-daemon warning', () => (warned.length > 0 ? true : undefined), 30_000);
    expect(warned[0]!.code).toBe(ErrorCode.SYSTEM_ERROR);
    const e = await rejectionOf(conn.listAllNetworks());
    expect(e.code).toBe(ErrorCode.SYSTEM_ERROR);
    expect(e.message).toContain(`lost the libvirt daemon at ${SOCKET} (network:///system)`);
    await step('Xen calls with the daemon gone', () => xenStillWorks(conn));

    const fresh = await step("connect('xen:///') without a daemon", () => connect('xen:///'));
    try {
      const none = await step('listAllNetworks without a daemon', () => rejectionOf(fresh.listAllNetworks()));
      expect(none.code).toBe(ErrorCode.NO_SUPPORT);
      expect(none.message).toContain('/run/libvirt/virtnetworkd-sock: no such socket');
      // libvirtd removes its socket when it stops; a stale one would be refused instead
      expect(none.message).toMatch(new RegExp(`${SOCKET}: (no such socket|Failed to connect)`));
      await xenStillWorks(fresh);
    } finally {
      await fresh.close();
    }
  });
});
