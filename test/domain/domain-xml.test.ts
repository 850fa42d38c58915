import { describe, expect, it } from 'vitest';
import { formatDomainXML, generateUUID, parseDomainXML } from '../../lib/domain/index.js';
import { VirError } from '../../lib/errors.js';

const SIMPLE = `<domain type='test'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>8388608</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
  </devices>
</domain>
`;

const RICH = `<domain type='xen' id='7'>
  <name>guest &amp; co</name>
  <uuid>c7a5fdb2-cdaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>592896</memory>
  <currentMemory unit='KiB'>403456</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <os>
    <type arch='x86_64' machine='xenfv'>hvm</type>
    <loader type='rom' format='raw'>/usr/lib/xen/boot/hvmloader</loader>
    <boot dev='cdrom'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <pae/>
    <hap state='off'/>
  </features>
  <clock offset='variable' adjustment='0' basis='utc'>
    <timer name='hpet' present='yes'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>restart</on_crash>
  <devices>
    <emulator>/usr/lib/xen/bin/qemu-system-i386</emulator>
    <disk type='block' device='disk'>
      <driver name='phy' type='raw'/>
      <source dev='/dev/HostVG/XenGuest2'/>
      <target dev='hda' bus='ide'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <controller type='ide' index='0'/>
    <interface type='bridge'>
      <mac address='00:16:3e:66:92:9c'/>
      <source bridge='xenbr1'/>
      <script path='vif-bridge'/>
      <target dev='vif7.0'/>
      <model type='e1000'/>
    </interface>
    <serial type='tcp'>
      <source mode='connect' host='127.0.0.1' service='7777'/>
      <protocol type='raw'/>
      <target port='0'/>
    </serial>
    <input type='mouse' bus='ps2'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='it&apos;s'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <video>
      <model type='cirrus' vram='8192' heads='1' primary='yes'/>
    </video>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source>
        <address domain='0x0000' bus='0x01' slot='0x1a' function='0x1'/>
      </source>
    </hostdev>
    <memballoon model='xen'/>
  </devices>
</domain>
`;

describe('domain XML model', () => {
  it('round-trips a generic test-driver domain byte for byte', () => {
    const def = parseDomainXML(SIMPLE);
    expect(def).toMatchObject({ type: 'test', name: 'test', memory: 8388608, currentMemory: 2097152, vcpus: 2 });
    expect(def.os).toMatchObject({ type: 'hvm', arch: 'i686', boot: ['hd'] });
    expect(formatDomainXML(def)).toBe(SIMPLE);
  });

  it('round-trips a Xen HVM domain with devices, escaping and an id', () => {
    const def = parseDomainXML(RICH);
    expect(def.id).toBe(7);
    expect(def.name).toBe('guest & co');
    expect(def.vcpuCurrent).toBe(2);
    expect(formatDomainXML(def)).toBe(RICH);
  });

  it('drops the id and xen-chosen interface names when inactive', () => {
    const out = formatDomainXML(parseDomainXML(RICH, { inactive: true }));
    expect(out.startsWith("<domain type='xen'>\n")).toBe(true);
    expect(out).not.toContain('vif7.0');
  });

  it('accepts old spellings: no units, uuid without dashes, ioemu: targets', () => {
    const def = parseDomainXML(`<domain type='xen'><name>a</name><uuid>B5D70DD275CDACA517769660B059D8BC</uuid>
      <memory>1024</memory><os><type>hvm</type></os>
      <devices><disk type='file'><source file='/x'/><target dev='ioemu:hda'/></disk></devices></domain>`);
    expect(def.uuid).toBe('b5d70dd2-75cd-aca5-1776-9660b059d8bc');
    expect(def.currentMemory).toBe(1024);
    expect(def.devices.disks[0]!.target.dev).toBe('hda');
  });

  it('converts memory units to KiB', () => {
    const def = parseDomainXML(`<domain type='test'><name>a</name><memory unit='MiB'>2</memory><currentMemory unit='b'>1025</currentMemory><os><type>hvm</type></os></domain>`);
    expect(def.memory).toBe(2048);
    expect(def.currentMemory).toBe(2);
  });

  it('refuses to write characters XML cannot carry instead of emitting a broken document', () => {
    const def = parseDomainXML(SIMPLE);
    def.os.cmdline = 'console=ttyS0\u0000evil';
    let err: unknown;
    try {
      formatDomainXML(def);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VirError);
    expect((err as VirError).code).toBe('VIR_ERR_XML_ERROR');
    expect((err as VirError).message).toMatch(/U\+0000/);
    def.os.cmdline = 'tab\tand <tags> & "quotes" stay fine';
    expect(parseDomainXML(formatDomainXML(def)).os.cmdline).toBe(def.os.cmdline);
  });

  it('generates a uuid when absent', () => {
    const def = parseDomainXML(`<domain type='test'><name>a</name><memory>1</memory><os><type>hvm</type></os></domain>`);
    expect(def.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(generateUUID()).not.toBe(generateUUID());
  });

  const bad: [string, string, RegExp][] = [
    ['no name', `<domain type='test'><memory>1</memory><os><type>hvm</type></os></domain>`, /missing <name>/],
    ['bad uuid', `<domain type='test'><name>a</name><uuid>xyz</uuid><memory>1</memory><os><type>hvm</type></os></domain>`, /malformed uuid/],
    ['negative memory', `<domain type='test'><name>a</name><memory>-5</memory><os><type>hvm</type></os></domain>`, /invalid <memory> size/],
    ['absurd memory', `<domain type='test'><name>a</name><memory unit='TiB'>99999999999</memory><os><type>hvm</type></os></domain>`, /too large/],
    ['unknown element', `<domain type='test'><name>a</name><memory>1</memory><os><type>hvm</type></os><blah/></domain>`, /unsupported element <blah>/],
    ['unknown device', `<domain type='test'><name>a</name><memory>1</memory><os><type>hvm</type></os><devices><tpm/></devices></domain>`, /unsupported device <tpm>/],
    ['doctype', `<!DOCTYPE domain [<!ENTITY x "y">]><domain type='test'><name>&x;</name></domain>`, /DOCTYPE/],
    ['unclosed', `<domain type='test'><name>a</name>`, /XML error/],
    ['wrong root', `<network/>`, /expected root element <domain>/],
    ['bad mac', `<domain type='test'><name>a</name><memory>1</memory><os><type>hvm</type></os><devices><interface type='bridge'><mac address='zz'/></interface></devices></domain>`, /invalid MAC/],
    ['a feature with settings', `<domain type='test'><name>a</name><memory>1</memory><os><type>hvm</type></os><features><hyperv><relaxed state='on'/></hyperv></features></domain>`, /unsupported feature <hyperv>/],
    ['an unmodelled disk child', `<domain type='test'><name>a</name><memory>1</memory><os><type>hvm</type></os><devices><disk><source file='/x'/><target dev='hda'/><boot order='1'/></disk></devices></domain>`, /unsupported element <boot> inside <disk>/],
    ['an unmodelled os child', `<domain type='test'><name>a</name><memory>1</memory><os><type>hvm</type><nvram>/x</nvram></os></domain>`, /unsupported element <nvram> inside <os>/],
    ['bad lifecycle', `<domain type='test'><name>a</name><memory>1</memory><os><type>hvm</type></os><on_crash>explode</on_crash></domain>`, /lifecycle/],
  ];
  for (const [what, xml, msg] of bad) {
    it(`rejects ${what} with VIR_ERR_XML_ERROR`, () => {
      let err: unknown;
      try {
        parseDomainXML(xml);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VirError);
      expect((err as VirError).code).toBe('VIR_ERR_XML_ERROR');
      expect((err as VirError).message).toMatch(msg);
    });
  }
});
