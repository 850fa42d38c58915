import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, VirError, type Connection } from '../../lib/index.js';

const GUEST = (name: string, uuid: string, extra = '') => `<domain type='test'>
  <name>${name}</name>
  <uuid>${uuid}</uuid>
  <memory unit='KiB'>524288</memory>
  <currentMemory unit='KiB'>262144</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <boot dev='hd'/>
  </os>${extra}
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
  </devices>
</domain>
`;
const U1 = '11111111-2222-3333-4444-555555555555';
const U2 = '21111111-2222-3333-4444-555555555555';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(VirError);
    return (e as VirError).code;
  }
  throw new Error('expected a rejection');
}

let conn: Connection;
let dir: string;
beforeEach(async () => {
  conn = await connect('test:///default');
  dir = mkdtempSync(join(tmpdir(), 'xenvirt-test-'));
});
afterEach(async () => {
  await conn.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('test:///default', () => {
  it('starts with the running domain "test" and the active network "default"', async () => {
    const doms = await conn.listAllDomains();
    expect(doms.map((d) => d.name)).toEqual(['test']);
    const d = doms[0]!;
    expect(d.id).toBe(1);
    expect(d.uuid).toBe('6695eb01-f6a4-8304-79aa-97f2502e193f');
    const info = await d.getInfo();
    expect(info).toMatchObject({ state: 'running', maxMem: 8388608, memory: 2097152, nrVirtCpu: 2 });
    const nets = await conn.listAllNetworks();
    expect(nets.map((n) => n.name)).toEqual(['default']);
    expect(await nets[0]!.isActive()).toBe(true);
    expect(await nets[0]!.getBridgeName()).toBe('virbr0');
  });

  it('keeps state per connection', async () => {
    const other = await connect('test:///default');
    try {
      await (await conn.lookupDomainByName('test')).suspend();
      expect((await (await other.lookupDomainByName('test')).getInfo()).state).toBe('running');
    } finally {
      await other.close();
    }
  });

  it('reports node info and capabilities', async () => {
    expect(await conn.nodeGetInfo()).toEqual({ model: 'i686', memory: 3145728, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 });
    const caps = await conn.getCapabilities();
    expect(caps).toMatch(/^<capabilities>/);
    expect(caps).toContain("<domain type='test'/>");
    expect(caps).toContain("<cells num='2'>");
  });

  it('looks domains up by name, id and UUID, and reports VIR_ERR_NO_DOMAIN otherwise', async () => {
    expect((await conn.lookupDomainById(1)).name).toBe('test');
    expect((await conn.lookupDomainByUUID('6695EB01F6A4830479AA97F2502E193F')).name).toBe('test');
    expect(await code(conn.lookupDomainByName('nosuch'))).toBe('VIR_ERR_NO_DOMAIN');
    expect(await code(conn.lookupDomainById(42))).toBe('VIR_ERR_NO_DOMAIN');
    expect(await code(conn.lookupDomainByUUID(U1))).toBe('VIR_ERR_NO_DOMAIN');
  });
});

describe('domain lifecycle', () => {
  it('define → inactive; start → running with an id; suspend/resume; shutdown; undefine', async () => {
    const d = await conn.defineXML(GUEST('g1', U1));
    expect(d.id).toBe(-1);
    expect((await d.getInfo()).state).toBe('shutoff');
    expect((await conn.listAllDomains({ inactive: true })).map((x) => x.name)).toEqual(['g1']);
    expect((await conn.listAllDomains({ active: true })).map((x) => x.name)).toEqual(['test']);

    await d.create();
    expect(d.id).toBeGreaterThan(1);
    expect((await d.getInfo()).state).toBe('running');
    expect(await code(d.create())).toBe('VIR_ERR_OPERATION_INVALID');
    expect((await conn.lookupDomainById(d.id)).name).toBe('g1');

    await d.suspend();
    expect((await d.getInfo()).state).toBe('paused');
    expect(await code(d.suspend())).toBe('VIR_ERR_OPERATION_INVALID');
    await d.resume();
    expect((await d.getInfo()).state).toBe('running');
    expect(await code(d.resume())).toBe('VIR_ERR_OPERATION_INVALID');

    await d.reboot();
    expect((await d.getInfo()).state).toBe('running');
    await d.shutdown();
    expect((await d.getInfo()).state).toBe('shutoff');
    expect(d.id).toBe(-1);
    expect(await code(d.shutdown())).toBe('VIR_ERR_OPERATION_INVALID');
    expect(await code(d.destroy())).toBe('VIR_ERR_OPERATION_INVALID');

    await d.undefine();
    expect(await code(conn.lookupDomainByName('g1'))).toBe('VIR_ERR_NO_DOMAIN');
    expect(await code(d.getInfo())).toBe('VIR_ERR_NO_DOMAIN');
  });

  it('destroying a transient domain removes it; a persistent one stays defined', async () => {
    const t = await conn.createXML(GUEST('transient', U1));
    expect((await t.getInfo()).state).toBe('running');
    expect(await code(t.undefine())).toBe('VIR_ERR_OPERATION_INVALID');
    await t.destroy();
    expect(await code(conn.lookupDomainByName('transient'))).toBe('VIR_ERR_NO_DOMAIN');

    const p = await conn.defineXML(GUEST('persist', U2));
    await p.create();
    await p.destroy();
    expect((await (await conn.lookupDomainByName('persist')).getInfo()).state).toBe('shutoff');
  });

  it('undefining a running domain makes it transient', async () => {
    const d = await conn.defineXML(GUEST('g', U1));
    await d.create();
    await d.undefine();
    expect((await d.getInfo()).state).toBe('running');
    await d.destroy();
    expect(await code(conn.lookupDomainByName('g'))).toBe('VIR_ERR_NO_DOMAIN');
  });

  it('refuses a define of an existing name with another UUID, and of a UUID under another name', async () => {
    await conn.defineXML(GUEST('g', U1));
    expect(await code(conn.defineXML(GUEST('g', U2)))).toBe('VIR_ERR_OPERATION_FAILED');
    expect(await code(conn.defineXML(GUEST('other', U1)))).toBe('VIR_ERR_OPERATION_FAILED');
    expect(await code(conn.createXML(GUEST('g', U1)))).toBe('VIR_ERR_OPERATION_INVALID');
    // Redefining with the same name and UUID updates the definition.
    await conn.defineXML(GUEST('g', U1).replace('524288', '1048576'));
    expect((await (await conn.lookupDomainByName('g')).getInfo()).maxMem).toBe(1048576);
  });

  it('rejects bad XML with VIR_ERR_XML_ERROR', async () => {
    expect(await code(conn.defineXML('<domain><name>x</name>'))).toBe('VIR_ERR_XML_ERROR');
    expect(await code(conn.defineXML('<!DOCTYPE d [<!ENTITY e "x">]><domain/>'))).toBe('VIR_ERR_XML_ERROR');
    expect(await code(conn.createXML('not xml at all'))).toBe('VIR_ERR_XML_ERROR');
    expect(await code(conn.networkDefineXML('<network><uuid>zz</uuid></network>'))).toBe('VIR_ERR_XML_ERROR');
  });

  it('round-trips the domain XML, with the id only while running', async () => {
    const d = await conn.defineXML(GUEST('g', U1));
    const inactive = await d.getXMLDesc();
    expect(inactive).toContain('<name>g</name>');
    expect(inactive).toContain(`<uuid>${U1}</uuid>`);
    expect(inactive).not.toMatch(/id='/);
    await d.create();
    const live = await d.getXMLDesc();
    expect(live).toMatch(new RegExp(`<domain type='test' id='${d.id}'>`));
    expect(await d.getXMLDesc({ inactive: true })).not.toMatch(/id='/);
  });

  it('sets memory, maximum memory and vcpus within limits', async () => {
    const d = await conn.lookupDomainByName('test');
    await d.setMemory(1048576);
    expect((await d.getInfo()).memory).toBe(1048576);
    expect(await code(d.setMemory(8388608 + 1))).toBe('VIR_ERR_INVALID_ARG');
    await d.setMaxMemory(524288);
    expect(await d.getInfo()).toMatchObject({ maxMem: 524288, memory: 524288 });
    expect(await code(d.setMaxMemory(1 << 30))).toBe('VIR_ERR_INVALID_ARG');
    await d.setVcpus(4);
    expect((await d.getInfo()).nrVirtCpu).toBe(4);
    expect(await code(d.setVcpus(17))).toBe('VIR_ERR_INVALID_ARG');
    expect(await d.getXMLDesc()).toContain('>4</vcpu>');
  });

  it('reports and pins vcpus', async () => {
    const d = await conn.lookupDomainByName('test');
    const before = await d.getVcpus();
    expect(before).toHaveLength(2);
    expect(before[0]!.cpumap).toHaveLength(16);
    await d.pinVcpu(1, [3, 5]);
    const after = await d.getVcpus();
    expect(after[1]!.cpumap).toEqual([3, 5]);
    expect([3, 5]).toContain(after[1]!.cpu);
    expect(await code(d.pinVcpu(2, [0]))).toBe('VIR_ERR_INVALID_ARG');
    expect(await code(d.pinVcpu(0, [16]))).toBe('VIR_ERR_INVALID_ARG');
    await d.destroy();
    expect(await code(d.getVcpus())).toBe('VIR_ERR_OPERATION_INVALID');
  });

  it('accumulates cpu time while running and not while paused', async () => {
    const d = await conn.lookupDomainByName('test');
    const t0 = (await d.getInfo()).cpuTime;
    await new Promise((r) => setTimeout(r, 30));
    const t1 = (await d.getInfo()).cpuTime;
    expect(t1).toBeGreaterThan(t0);
    await d.suspend();
    const p0 = (await d.getInfo()).cpuTime;
    await new Promise((r) => setTimeout(r, 30));
    expect((await d.getInfo()).cpuTime).toBe(p0);
  });

  it('keeps autostart for persistent domains only', async () => {
    const d = await conn.defineXML(GUEST('g', U1));
    expect(await d.getAutostart()).toBe(false);
    await d.setAutostart(true);
    expect(await d.getAutostart()).toBe(true);
    const t = await conn.createXML(GUEST('t', U2));
    expect(await code(t.setAutostart(true))).toBe('VIR_ERR_OPERATION_INVALID');
  });

  it('saves a running domain to a file (atomically) and restores it', async () => {
    const d = await conn.lookupDomainByName('test');
    await d.suspend();
    const file = join(dir, 'test.save');
    await d.save(file);
    expect(readdirSync(dir)).toEqual(['test.save']); // no temp file left behind
    expect(readFileSync(file, 'utf8')).toMatch(/^xenvirt-test-save 1\nstate paused\n<domain/);
    expect((await d.getInfo()).state).toBe('shutoff');
    expect(await code(d.save(file))).toBe('VIR_ERR_OPERATION_INVALID');

    await conn.restore(file);
    const r = await conn.lookupDomainByName('test');
    expect(r.id).toBeGreaterThan(0);
    expect((await r.getInfo()).state).toBe('paused');
    expect(await code(conn.restore(file))).toBe('VIR_ERR_OPERATION_INVALID'); // already running
  });

  it('refuses to restore from missing, foreign or corrupt files', async () => {
    expect(await code(conn.restore(join(dir, 'missing')))).toBe('VIR_ERR_READ_FAILED');
    writeFileSync(join(dir, 'foreign'), 'LinuxGuestRecord\n');
    expect(await code(conn.restore(join(dir, 'foreign')))).toBe('VIR_ERR_INVALID_ARG');
    writeFileSync(join(dir, 'corrupt'), 'xenvirt-test-save 1\nstate running\n<domain type=');
    expect(await code(conn.restore(join(dir, 'corrupt')))).toBe('VIR_ERR_XML_ERROR');
    expect(await code(conn.restore(dir))).toBe('VIR_ERR_INVALID_ARG');
  });

  it('emits domain events on the connection', async () => {
    const events: string[] = [];
    conn.on('domain-event', (e: { domain: { name: string }; event: string }) => events.push(`${e.domain.name}:${e.event}`));
    const d = await conn.defineXML(GUEST('ev', U1));
    await d.create();
    await d.suspend();
    await d.resume();
    await d.destroy();
    await d.undefine();
    expect(events).toEqual(['ev:defined', 'ev:started', 'ev:suspended', 'ev:resumed', 'ev:stopped', 'ev:undefined']);
  });
});

describe('networks', () => {
  const NET = (name: string, extra = '') => `<network>
  <name>${name}</name>
  <uuid>aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee</uuid>${extra}
  <ip address='10.9.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.9.0.2' end='10.9.0.9'/>
    </dhcp>
  </ip>
</network>
`;

  it('define → inactive, start, destroy, undefine; bridge names assigned', async () => {
    const n = await conn.networkDefineXML(NET('lab'));
    expect(await n.isActive()).toBe(false);
    expect(await n.getBridgeName()).toMatch(/^virbr\d+$/);
    expect(await n.getBridgeName()).not.toBe('virbr0');
    await n.create();
    expect(await n.isActive()).toBe(true);
    expect(await code(n.create())).toBe('VIR_ERR_OPERATION_INVALID');
    const xml = await n.getXMLDesc();
    expect(xml).toContain('<name>lab</name>');
    expect(xml).toContain("<range start='10.9.0.2' end='10.9.0.9'/>");
    await n.destroy();
    expect(await code(n.destroy())).toBe('VIR_ERR_OPERATION_INVALID');
    await n.undefine();
    expect(await code(conn.lookupNetworkByName('lab'))).toBe('VIR_ERR_NO_NETWORK');
    expect(await code(n.getXMLDesc())).toBe('VIR_ERR_NO_NETWORK');
  });

  it('round-trips its own XML and refuses conflicting definitions', async () => {
    const def = await (await conn.lookupNetworkByName('default')).getXMLDesc();
    const other = await connect('test:///default');
    try {
      await (await other.lookupNetworkByName('default')).undefine(); // active: becomes transient
      await (await other.lookupNetworkByName('default')).destroy();
      const back = await other.networkDefineXML(def);
      expect(await back.getXMLDesc()).toBe(def);
    } finally {
      await other.close();
    }
    expect(await code(conn.networkDefineXML(NET('default')))).toBe('VIR_ERR_OPERATION_FAILED');
    expect(await code(conn.networkDefineXML(NET('x', "\n  <forward mode='teleport'/>")))).toBe('VIR_ERR_XML_ERROR');
    expect((await conn.lookupNetworkByUUID('dd8fe884-6c02-601e-7551-cca97df1c5df')).name).toBe('default');
  });
});

describe('test:///PATH.xml node files', () => {
  it('loads domains and networks inline and by file, with the host description', async () => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'guest.xml'), GUEST('fromfile', U2));
    writeFileSync(
      join(dir, 'node.xml'),
      `<node>
  <cpu><mhz>2400</mhz><model>x86_64</model><active>8</active><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads></cpu>
  <memory>16777216</memory>
  ${GUEST('inline', U1)}
  <domain file='sub/guest.xml'/>
  <network><name>n1</name><bridge name='br7'/></network>
</node>`,
    );
    const c = await connect(`test://${join(dir, 'node.xml')}`);
    try {
      expect(await c.nodeGetInfo()).toEqual({ model: 'x86_64', memory: 16777216, cpus: 8, mhz: 2400, nodes: 1, sockets: 1, cores: 4, threads: 2 });
      const names = (await c.listAllDomains()).map((d) => d.name).sort();
      expect(names).toEqual(['fromfile', 'inline']);
      expect((await (await c.lookupDomainByName('inline')).getInfo()).state).toBe('running');
      expect(await (await c.lookupNetworkByName('n1')).getBridgeName()).toBe('br7');
    } finally {
      await c.close();
    }
  });

  it('refuses file references outside the node file directory, and bad files', async () => {
    writeFileSync(join(dir, 'escape.xml'), `<node><domain file='../etc/passwd'/></node>`);
    expect(await code(connect(`test://${join(dir, 'escape.xml')}`))).toBe('VIR_ERR_INVALID_ARG');
    writeFileSync(join(dir, 'bad.xml'), `<node><cpu><mhz>fast</mhz></cpu></node>`);
    expect(await code(connect(`test://${join(dir, 'bad.xml')}`))).toBe('VIR_ERR_XML_ERROR');
    writeFileSync(join(dir, 'wrong.xml'), `<domain/>`);
    expect(await code(connect(`test://${join(dir, 'wrong.xml')}`))).toBe('VIR_ERR_XML_ERROR');
    expect(await code(connect(`test://${join(dir, 'absent.xml')}`))).toBe('VIR_ERR_OPEN_FAILED');
    expect(existsSync(join(dir, 'absent.xml'))).toBe(false);
  });
});
