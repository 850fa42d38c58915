import { describe, expect, it } from 'vitest';
import { xenCapabilities, xmlFromNative, xmlToNative } from '../../lib/index.js';
import { parseConf, confGet } from '../../lib/convert/conf.js';
import { parseSexpr, sexprGet } from '../../lib/convert/sexpr.js';
import { parseDomainXML } from '../../lib/domain/index.js';
import { VirError } from '../../lib/errors.js';

function fails(fn: () => unknown, code: string, msg: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a VirError').toBeInstanceOf(VirError);
  expect((err as VirError).code).toBe(code);
  expect((err as VirError).message).toMatch(msg);
}

const PV_SEXPR = `(domain (domid 12)(name 'web1')(memory 256)(maxmem 512)(vcpus 4)(vcpu_avail 7)
  (uuid '0123456789abcdef0123456789abcdef')(on_poweroff destroy)(on_reboot restart)(on_crash preserve)
  (image (linux (kernel '/boot/vmlinuz-xen')(ramdisk '/boot/initrd-xen')(args 'root=/dev/xvda1 ro')))
  (device (vbd (dev 'xvda:disk')(uname 'phy:/dev/vg/web1')(mode 'w')))
  (device (tap (dev 'xvdb')(uname 'tap:qcow:/srv/data.qcow')(mode 'r')))
  (device (vif (mac '00:16:3e:00:00:01')(bridge 'br0')(script 'vif-bridge')))
  (device (vfb (type vnc)(vncunused 0)(vncdisplay 3)(vnclisten '0.0.0.0')(keymap 'de'))))`;

const PV_XML = `<domain type='xen' id='12'>
  <name>web1</name>
  <uuid>01234567-89ab-cdef-0123-456789abcdef</uuid>
  <memory unit='KiB'>524288</memory>
  <currentMemory unit='KiB'>262144</currentMemory>
  <vcpu placement='static' current='3'>4</vcpu>
  <os>
    <type>linux</type>
    <kernel>/boot/vmlinuz-xen</kernel>
    <initrd>/boot/initrd-xen</initrd>
    <cmdline>root=/dev/xvda1 ro</cmdline>
  </os>
  <clock offset='utc' adjustment='reset'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>preserve</on_crash>
  <devices>
    <disk type='block' device='disk'>
      <driver name='phy'/>
      <source dev='/dev/vg/web1'/>
      <target dev='xvda' bus='xen'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='tap' type='qcow'/>
      <source file='/srv/data.qcow'/>
      <target dev='xvdb' bus='xen'/>
      <readonly/>
    </disk>
    <interface type='bridge'>
      <mac address='00:16:3e:00:00:01'/>
      <source bridge='br0'/>
      <script path='vif-bridge'/>
      <target dev='vif12.0'/>
    </interface>
    <console type='pty'>
      <target type='xen' port='0'/>
    </console>
    <input type='mouse' bus='xen'/>
    <input type='keyboard' bus='xen'/>
    <graphics type='vnc' port='5903' autoport='no' listen='0.0.0.0' keymap='de'>
      <listen type='address' address='0.0.0.0'/>
    </graphics>
    <video>
      <model type='xen' vram='4096' heads='1' primary='yes'/>
    </video>
    <memballoon model='xen'/>
  </devices>
</domain>
`;

const HVM_XML = `<domain type='xen'>
  <name>win</name>
  <uuid>c7a5fdb2-cdaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='xenfv'>hvm</type>
    <loader type='rom' format='raw'>/usr/lib/xen/boot/hvmloader</loader>
    <boot dev='cdrom'/>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <pae/>
  </features>
  <clock offset='variable' adjustment='0' basis='localtime'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>restart</on_crash>
  <devices>
    <emulator>/usr/lib/xen/bin/qemu-system-i386</emulator>
    <disk type='block' device='disk'>
      <driver name='phy' type='raw'/>
      <source dev='/dev/vg/win'/>
      <target dev='hda' bus='ide'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='file' type='raw'/>
      <source file='/iso/win.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
      <address type='drive' controller='0' bus='1' target='0' unit='0'/>
    </disk>
    <controller type='xenbus' index='0'/>
    <controller type='ide' index='0'/>
    <interface type='bridge'>
      <mac address='00:16:3e:00:00:02'/>
      <source bridge='br0'/>
      <script path='vif-bridge'/>
      <model type='e1000'/>
    </interface>
    <serial type='tcp'>
      <source mode='bind' host='0.0.0.0' service='4555'/>
      <protocol type='telnet'/>
      <target port='0'/>
    </serial>
    <console type='tcp'>
      <source mode='bind' host='0.0.0.0' service='4555'/>
      <protocol type='telnet'/>
      <target type='serial' port='0'/>
    </console>
    <input type='tablet' bus='usb'/>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='s3cret'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <video>
      <model type='cirrus' vram='8192' heads='1' primary='yes'/>
    </video>
    <memballoon model='xen'/>
  </devices>
</domain>
`;

describe('xend S-expression conversion', () => {
  it('reads a running PV domain into libvirt XML', () => {
    expect(xmlFromNative('xen-sxpr', PV_SEXPR)).toBe(PV_XML);
  });

  it('writes a config that reads back to the same definition', () => {
    const sx = xmlToNative('xen-sxpr', PV_XML);
    expect(sx.startsWith("(vm (name 'web1')(memory 256)(maxmem 512)(vcpus 4)(vcpu_avail 7)")).toBe(true);
    expect(sx).toContain("(device (vkbd))(device (vfb (type vnc)(vncunused 0)(vncdisplay 3)(vnclisten '0.0.0.0')(keymap 'de')))");
    const back = parseDomainXML(xmlFromNative('xen-sxpr', sx.replace('(vm ', '(domain ')));
    const orig = parseDomainXML(PV_XML, { inactive: true });
    expect(back.devices.disks).toEqual(orig.devices.disks);
    expect(back.os).toEqual(orig.os);
    expect(back.vcpuCurrent).toBe(3);
  });

  it('follows the xend config version', () => {
    const v1 = xmlToNative('xen-sxpr', HVM_XML, { xendConfigVersion: 1 });
    expect(v1).toContain("(cdrom '/iso/win.iso')");
    expect(v1).toContain("(dev 'ioemu:hda')");
    expect(v1).not.toContain('hdc:cdrom');
    const v4 = xmlToNative('xen-sxpr', HVM_XML);
    expect(v4).toContain("(device (vbd (dev 'hdc:cdrom')(uname 'file:/iso/win.iso')(mode 'r')))");
    expect(v4).toContain('(serial telnet:0.0.0.0:4555,server,nowait)');
    expect(v4).toContain('(boot dc)');
    expect(v4).toContain('(usbdevice tablet)');
    // xend before 3.0.4 (versions 1 and 2) has no vfb device: PV graphics live in the image
    const pv2 = xmlToNative('xen-sxpr', PV_XML, { xendConfigVersion: 2 });
    expect(pv2).toContain("(vnc 1)(vncunused 0)(vncdisplay 3)(vnclisten '0.0.0.0')(keymap 'de')");
    expect(pv2).not.toContain('(vfb');
    // and reading the old layout back gives the same cdrom
    const back = parseDomainXML(xmlFromNative('xen-sxpr', v1.replace('(vm ', '(domain '), { xendConfigVersion: 1 }));
    expect(back.devices.disks.map((d) => `${d.target.dev}:${d.device}:${d.source}`)).toEqual(['hda:disk:/dev/vg/win', 'hdc:cdrom:/iso/win.iso']);
  });

  it('escapes values so they cannot inject fields', () => {
    const evil = HVM_XML.replace('<name>win</name>', "<name>a')(maxmem 999999</name>").replace('/iso/win.iso', '/iso/x&apos;)(mode &apos;w');
    const sx = xmlToNative('xen-sxpr', evil);
    const tree = parseSexpr(sx);
    expect(sexprGet(tree, 'name')).toBe("a')(maxmem 999999");
    expect(sexprGet(tree, 'maxmem')).toBe('1024');
    expect(sx).toContain("(uname 'file:/iso/x\\')(mode \\'w')(mode 'r')");
  });

  it('rejects incomplete or malformed S-expressions with a message naming the field', () => {
    fails(() => xmlFromNative('xen-sxpr', "(domain (uuid '0123456789abcdef0123456789abcdef')(memory 1))"), 'VIR_ERR_INTERNAL_ERROR', /missing name/);
    fails(() => xmlFromNative('xen-sxpr', "(domain (name a)(memory 1))"), 'VIR_ERR_INTERNAL_ERROR', /missing uuid/);
    fails(() => xmlFromNative('xen-sxpr', "(domain (name a)(uuid 'zz')(memory 1))"), 'VIR_ERR_INTERNAL_ERROR', /invalid uuid/);
    fails(() => xmlFromNative('xen-sxpr', PV_SEXPR.replace('(memory 256)', '(memory lots)')), 'VIR_ERR_INTERNAL_ERROR', /'memory' is not a number/);
    fails(() => xmlFromNative('xen-sxpr', PV_SEXPR.replace('(memory 256)', '(memory 99999999999999)')), 'VIR_ERR_INTERNAL_ERROR', /'memory' is out of range/);
    fails(() => xmlFromNative('xen-sxpr', "(domain (name 'abc)(memory 1))"), 'VIR_ERR_INTERNAL_ERROR', /unterminated quoted string/);
    fails(() => xmlFromNative('xen-sxpr', '(network (name a))'), 'VIR_ERR_INTERNAL_ERROR', /expected a \(domain/);
    fails(() => xmlFromNative('xen-sxpr', PV_SEXPR.replace("(uname 'phy:/dev/vg/web1')", "(uname '/dev/vg/web1')")), 'VIR_ERR_INTERNAL_ERROR', /no driver prefix/);
  });
});

describe('xm and xl config conversion', () => {
  for (const format of ['xen-xm', 'xen-xl'] as const) {
    it(`${format}: round-trips an HVM guest`, () => {
      const cfg = xmlToNative(format, HVM_XML);
      expect(cfg).toContain('serial = "telnet:0.0.0.0:4555,server,nowait"');
      expect(cfg).toContain('boot = "dc"');
      expect(xmlFromNative(format, cfg)).toBe(HVM_XML.replace(format === 'xen-xl' ? "<driver name='file' type='raw'/>" : '\u0000', "<driver name='qemu' type='raw'/>"));
    });
  }

  it('xm: follows the xend config version for PV framebuffers and the HVM cdrom', () => {
    const v2 = xmlToNative('xen-xm', PV_XML, { xendConfigVersion: 2 });
    expect(v2).toContain('vnc = 1\nvncunused = 0\nvncdisplay = 3\nvnclisten = "0.0.0.0"\nkeymap = "de"\n');
    expect(v2).not.toContain('vfb');
    expect(xmlToNative('xen-xm', PV_XML)).toContain('vfb = [ "type=vnc,vncunused=0,vncdisplay=3,vnclisten=0.0.0.0,keymap=de" ]');
    const v1 = xmlToNative('xen-xm', HVM_XML, { xendConfigVersion: 1 });
    // xend 3.0.2 names an HVM guest's emulated disks ioemu:hdX (libvirt 1.2.0's xmconfigdata fullvirt-old-cdrom)
    expect(v1).toContain('cdrom = "/iso/win.iso"\ndisk = [ "phy:/dev/vg/win,ioemu:hda,w" ]');
    // both old layouts read back to the same devices
    const pv = parseDomainXML(xmlFromNative('xen-xm', v2, { xendConfigVersion: 2 }));
    expect(pv.devices.graphics[0]).toMatchObject({ type: 'vnc', port: 5903, keymap: 'de', listen: '0.0.0.0' });
    const hvm = parseDomainXML(xmlFromNative('xen-xm', v1, { xendConfigVersion: 1 }));
    expect(hvm.devices.disks.map((d) => `${d.target.dev}:${d.device}:${d.source}`)).toEqual(['hda:disk:/dev/vg/win', 'hdc:cdrom:/iso/win.iso']);
  });

  it('xl: keeps kernel command lines with quotes intact', () => {
    const xml = PV_XML.replace('root=/dev/xvda1 ro', 'root=/dev/xvda1 msg=&quot;hi, there&quot; x=\\y');
    const cfg = xmlToNative('xen-xl', xml);
    expect(confGet(parseConf(cfg), 'cmdline')).toBe('root=/dev/xvda1 msg="hi, there" x=\\y');
    expect(parseDomainXML(xmlFromNative('xen-xl', cfg)).os.cmdline).toBe('root=/dev/xvda1 msg="hi, there" x=\\y');
  });

  it('refuses values that would split a vif or disk spec', () => {
    fails(() => xmlToNative('xen-xl', PV_XML.replace("bridge='br0'", "bridge='br0,ip=1.2.3.4'")), 'VIR_ERR_CONFIG_UNSUPPORTED', /bridge .* cannot contain ','/);
  });

  it('rejects malformed config files with the line or setting named', () => {
    fails(() => xmlFromNative('xen-xm', 'name = "a"\nmemory = "lots"\nbootloader = "/bin/pygrub"\n'), 'VIR_ERR_CONF_SYNTAX', /memory was malformed/);
    fails(() => xmlFromNative('xen-xl', 'name = [ "a" ]\n'), 'VIR_ERR_CONF_SYNTAX', /name was malformed/);
    fails(() => xmlFromNative('xen-xl', 'memory = 5\n'), 'VIR_ERR_CONF_SYNTAX', /name was missing/);
    fails(() => xmlFromNative('xen-xm', 'name = "a"\nuuid = "nope"\n'), 'VIR_ERR_CONF_SYNTAX', /uuid 'nope'/);
    fails(() => xmlFromNative('xen-xm', 'name = "a\n'), 'VIR_ERR_CONF_SYNTAX', /line 1/);
    fails(() => xmlFromNative('xen-xm', 'name = "a"\nbootloader="/b"\ndisk = [ "phy:/dev/x,xvda" ]\n'), 'VIR_ERR_CONF_SYNTAX', /needs path, target and mode/);
    fails(() => xmlFromNative('xen-xl', 'name = "a"\nbootloader="/b"\nvif = [ "mac=zz" ]\n'), 'VIR_ERR_CONF_SYNTAX', /invalid MAC/);
    fails(() => xmlFromNative('xen-xl', 'name = "a"\nbootloader="/b"\nmemory = 99999999999999\n'), 'VIR_ERR_CONF_SYNTAX', /memory = 99999999999999 is out of range/);
    fails(() => xmlFromNative('xen-xl', 'name = "a"\nbootloader="/b"\npci = [ "zz:1" ]\n'), 'VIR_ERR_CONF_SYNTAX', /pci 'zz:1'/);
  });
});

describe('public API arguments', () => {
  it('rejects an unknown format with VIR_ERR_INVALID_ARG', () => {
    fails(() => xmlFromNative('qemu-argv' as never, 'x'), 'VIR_ERR_INVALID_ARG', /unsupported config type/);
    fails(() => xmlToNative('vmware-vmx' as never, HVM_XML), 'VIR_ERR_INVALID_ARG', /unsupported config type/);
  });
  it('rejects an unknown xend config version', () => {
    fails(() => xmlToNative('xen-sxpr', HVM_XML, { xendConfigVersion: 5 as never }), 'VIR_ERR_INVALID_ARG', /xend config version/);
  });
  it('rejects bad domain XML before converting', () => {
    fails(() => xmlToNative('xen-xl', '<!DOCTYPE d [<!ENTITY e "x">]><domain/>'), 'VIR_ERR_XML_ERROR', /DOCTYPE/);
    fails(() => xmlToNative('xen-xm', HVM_XML.replace("<memory unit='KiB'>1048576", "<memory unit='KiB'>-1")), 'VIR_ERR_XML_ERROR', /memory/);
  });
});

describe('capabilities', () => {
  const cpuinfo = 'processor : 0\nflags : fpu pae vmx lm\n';
  it('lists one guest per ABI, merging PAE and non-PAE HVM', () => {
    const xml = xenCapabilities({ arch: 'x86_64', cpuinfo, capabilities: 'xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p' });
    expect(xml).toContain('<vmx/>');
    expect(xml.match(/<guest>/g)).toHaveLength(2);
    expect(xml).toContain("<arch name='i686'>\n      <wordsize>32</wordsize>\n      <emulator>/usr/lib64/xen/bin/qemu-dm</emulator>\n      <loader>/usr/lib/xen/boot/hvmloader</loader>");
    expect(xml).toContain("      <pae/>\n      <nonpae/>\n      <acpi default='on' toggle='yes'/>");
  });
  it('rejects garbage capability strings', () => {
    fails(() => xenCapabilities({ arch: 'x86_64', cpuinfo, capabilities: 'xen-3.0-x86_64 <script>' }), 'VIR_ERR_INTERNAL_ERROR', /unrecognised Xen capability/);
    fails(() => xenCapabilities({ arch: 'x86 64', cpuinfo, capabilities: '' }), 'VIR_ERR_INVALID_ARG', /architecture/);
  });
});
