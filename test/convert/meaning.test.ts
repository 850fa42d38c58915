/**
 * Round trips keep their meaning (issue 14): the converters never invent a value the
 * input did not have, keep what xl/xend read from it, and refuse with a VirError naming
 * the key what the domain model cannot hold.
 */
import { describe, expect, it } from 'vitest';
import { xmlFromNative, xmlToNative } from '../../lib/index.js';
import { VirError } from '../../lib/errors.js';
import { parseConf, confGet } from '../../lib/convert/conf.js';

const hvm = (extra: string) => `name = "g"\ntype = "hvm"\nmemory = 256\n${extra}\n`;
const pv = (extra: string) => `name = "g"\nkernel = "/boot/vmlinuz"\nmemory = 128\n${extra}\n`;
const xlRound = (text: string) => xmlToNative('xen-xl', xmlFromNative('xen-xl', text));
const settings = (text: string) => parseConf(text);
const get = (text: string, key: string) => confGet(settings(text), key);

function refusal(fn: () => unknown): VirError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VirError) return e;
    throw e;
  }
  throw new Error('expected a VirError, got a result');
}

describe('xl round trip keeps meaning', () => {
  it('invents no device model for an HVM guest without one', () => {
    const xml = xmlFromNative('xen-xl', hvm(''));
    expect(xml).not.toContain('<emulator>');
    expect(get(xlRound(hvm('')), 'device_model_override')).toBeUndefined();
  });

  it('keeps an explicit device model', () => {
    expect(get(xlRound(hvm('device_model_override = "/opt/qemu"')), 'device_model_override')).toBe('/opt/qemu');
  });

  it('keeps a fixed VNC display (vncunused=0)', () => {
    const out = xlRound(hvm('vnc = 1\nvncunused = 0\nvncdisplay = 3'));
    expect(get(out, 'vncunused')).toBe(0);
    expect(get(out, 'vncdisplay')).toBe(3);
  });

  it('keeps the display a search starts from (vncdisplay with the default vncunused)', () => {
    const xml = xmlFromNative('xen-xl', hvm('vnc = 1\nvncdisplay = 7'));
    expect(xml).toContain("port='5907' autoport='yes'");
    const out = xlRound(hvm('vnc = 1\nvncdisplay = 7'));
    expect(get(out, 'vncunused')).toBe(1);
    expect(get(out, 'vncdisplay')).toBe(7);
  });

  it('keeps a PV vfb display', () => {
    const out = xlRound(pv('vfb = [ "vnc=1,vncdisplay=2" ]'));
    expect(get(out, 'vfb')).toEqual(['vnc=1,vncunused=1,vncdisplay=2']);
  });

  it('gives an HVM guest without vnc= the VNC display xl gives it, and boot "cd"', () => {
    const out = xlRound(hvm(''));
    expect(get(out, 'vnc')).toBe(1);
    expect(get(out, 'boot')).toBe('cd');
    expect(get(xlRound(hvm('vnc = 0\nboot = "c"')), 'vnc')).toBe(0);
  });

  it('keeps hap=1 as well as hap=0', () => {
    expect(get(xlRound(hvm('hap = 1')), 'hap')).toBe(1);
    expect(get(xlRound(hvm('hap = 0')), 'hap')).toBe(0);
    expect(get(xlRound(hvm('')), 'hap')).toBeUndefined();
  });

  it('reads vif rates the way xl does (powers of 1000, b = bits)', () => {
    const rate = (r: string) => (get(xlRound(pv(`vif = [ "bridge=xenbr0,rate=${r}" ]`)), 'vif') as string[])[0];
    expect(rate('100Mb/s')).toBe('bridge=xenbr0,rate=12500KB/s');
    expect(rate('10MB/s@50ms')).toBe('bridge=xenbr0,rate=10000KB/s');
    expect(rate('2GB/s')).toBe('bridge=xenbr0,rate=2000000KB/s');
    expect(rate('10240KB/s')).toBe('bridge=xenbr0,rate=10240KB/s');
  });

  it('refuses rates the model cannot hold, naming the key', () => {
    expect(refusal(() => xmlFromNative('xen-xl', pv('vif = [ "rate=1MB/s@20ms" ]'))).message).toMatch(/'rate' interval '@20ms'/);
    expect(refusal(() => xmlFromNative('xen-xl', pv('vif = [ "rate=1500B/s" ]'))).message).toMatch(/'rate' 1500B\/s is not a whole number/);
    expect(refusal(() => xmlFromNative('xen-xl', pv('vif = [ "rate=fast" ]'))).message).toMatch(/invalid rate 'fast'/);
  });

  it('keeps type=ioemu meaning (HVM default) and refuses unknown vif keys and types', () => {
    const out = xlRound(hvm('vif = [ "bridge=xenbr0,type=ioemu" ]'));
    expect(get(out, 'vif')).toEqual(['bridge=xenbr0']);
    expect(refusal(() => xmlFromNative('xen-xl', pv('vif = [ "bridge=xenbr0,gatewaydev=eth0" ]'))).message).toContain("'gatewaydev'");
    expect(refusal(() => xmlFromNative('xen-xl', pv('vif = [ "type=weird" ]'))).message).toContain("'weird'");
  });

  it('refuses settings it does not model, naming each, instead of dropping them', () => {
    const e = refusal(() => xmlFromNative('xen-xl', pv('cap = 50\nvcpu_soft_affinity = "1"')));
    expect(e.message).toBe("config settings 'cap', 'vcpu_soft_affinity' are not modelled by xenvirt");
    expect(e.code).toBe('VIR_ERR_CONFIG_UNSUPPORTED');
    expect(refusal(() => xmlFromNative('xen-xm', pv('nographic = 1'))).message).toContain("'nographic'");
  });

  it('keeps the scheduler weight (cpu_weight <-> <cputune><shares>) in every format', () => {
    const xml = xmlFromNative('xen-xl', pv('cpu_weight = 512'));
    expect(xml).toContain('<cputune>\n    <shares>512</shares>\n  </cputune>');
    expect(get(xlRound(pv('cpu_weight = 512')), 'cpu_weight')).toBe(512);
    expect(get(xmlToNative('xen-xm', xml), 'cpu_weight')).toBe(512);
    expect(xmlToNative('xen-sxpr', xml)).toContain('(cpu_weight 512)');
    expect(refusal(() => xmlFromNative('xen-xl', pv('cpu_weight = 0'))).message).toMatch(/cpu_weight/);
  });

  it('drops root/extra only where xl ignores them (cmdline given)', () => {
    const out = xlRound(pv('cmdline = "a=1"\nroot = "/dev/xvda1"\nextra = "b=2"'));
    expect(get(out, 'cmdline')).toBe('a=1');
    expect(get(xlRound(pv('root = "/dev/xvda1"\nextra = "b=2"')), 'cmdline')).toBe('root=/dev/xvda1 b=2');
  });

  it('writes quotes in xl strings with escapes xl reads, never """', () => {
    const out = xlRound(pv('cmdline = "a=\\"b c\\" d=\'e\' f=\\\\g"'));
    expect(out).toContain('cmdline = "a=\\"b c\\" d=\'e\' f=\\\\g"');
    expect(out).not.toContain('"""');
    expect(get(out, 'cmdline')).toBe('a="b c" d=\'e\' f=\\g');
  });
});

describe('xm output follows the xend version', () => {
  const xml = xmlFromNative('xen-xm', 'name = "g"\nbuilder = "hvm"\nmemory = 256\ndevice_model = "/usr/lib/xen/bin/qemu-dm"\n');
  it('writes device_model for xend 3.0.x (versions 1-3) and the override from 3.1 (4)', () => {
    for (const v of [1, 2, 3] as const) {
      const out = xmlToNative('xen-xm', xml, { xendConfigVersion: v });
      expect(get(out, 'device_model')).toBe('/usr/lib/xen/bin/qemu-dm');
      expect(get(out, 'device_model_override')).toBeUndefined();
    }
    expect(get(xmlToNative('xen-xm', xml), 'device_model_override')).toBe('/usr/lib/xen/bin/qemu-dm');
  });
});

describe('<cputune> in domain XML', () => {
  const dom = (tune: string) => `<domain type='xen'><name>g</name><memory>131072</memory><vcpu>1</vcpu>${tune}<bootloader>/usr/bin/pygrub</bootloader></domain>`;
  it('reads shares and refuses what it does not model', () => {
    expect(get(xmlToNative('xen-xl', dom('<cputune><shares>300</shares></cputune>')), 'cpu_weight')).toBe(300);
    expect(refusal(() => xmlToNative('xen-xl', dom('<cputune><quota>5</quota></cputune>'))).message).toContain('<quota>');
    expect(refusal(() => xmlToNative('xen-xl', dom('<cputune><shares>0</shares></cputune>'))).message).toMatch(/cpu shares 0/);
  });
});

describe('what the writers emit reads back (cases the 1M fuzz run found)', () => {
  const pvXml = (dev: string) => `<domain type='xen'><name>g</name><memory>131072</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/k</kernel></os><devices>${dev}</devices></domain>`;
  it('refuses a zero vif rate instead of writing one xl and the reader reject', () => {
    const xml = pvXml("<interface type='bridge'><source bridge='br0'/><bandwidth><outbound average='0'/></bandwidth></interface>");
    for (const f of ['xen-xm', 'xen-xl'] as const) expect(refusal(() => xmlToNative(f, xml)).message).toMatch(/bandwidth average 0/);
  });
  it('reads back a blktap image type with a dash', () => {
    const xml = pvXml("<disk type='file' device='disk'><driver name='tap' type='qc-1w'/><source file='/root/some.img'/><target dev='xvda'/></disk>");
    const back = xmlFromNative('xen-xm', xmlToNative('xen-xm', xml));
    expect(back).toContain("<driver name='tap' type='qc-1w'/>");
  });
});

describe('Open vSwitch bridge names (a case the 1M fuzz run found)', () => {
  const xml = (bridge: string) => `<domain type='xen'><name>g</name><memory>131072</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/k</kernel></os><devices><interface type='bridge'><source bridge='${bridge}'/><vlan><tag id='43'/></vlan><virtualport type='openvswitch'/><script path='vif-openvswitch'/></interface></devices></domain>`;
  it('refuses a bridge name that would read back as VLAN tags, keeps a plain one', () => {
    expect(refusal(() => xmlToNative('xen-xm', xml('ovsbr0:'))).message).toMatch(/bridge name 'ovsbr0:'/);
    expect(get(xmlToNative('xen-xl', xml('ovsbr0')), 'vif')).toEqual(['bridge=ovsbr0.43,script=vif-openvswitch']);
  });
});

describe('<vlan><tag> without an id (a case the 1M fuzz run found)', () => {
  it('is an XML error, not a tag written as an empty string', () => {
    const xml = `<domain type='xen'><name>g</name><memory>131072</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/k</kernel></os><devices><interface type='bridge'><source bridge='br0'/><vlan trunk='yes'><tag/><tag id='43'/></vlan></interface></devices></domain>`;
    expect(refusal(() => xmlToNative('xen-xm', xml)).message).toMatch(/missing attribute 'id' on <tag>/);
  });
});
