import { describe, expect, it } from 'vitest';
import { bootFromLetters, bootToLetters, diskIndex, driveAddress, formatChardevSpec, parseChardevSpec } from '../../lib/convert/xen-common.js';
import { VirError } from '../../lib/errors.js';

describe('qemu character device specs', () => {
  const specs = [
    'pty',
    'null',
    'stdio',
    'vc',
    '/dev/ttyS1',
    'file:/var/log/guest serial.log',
    'pipe:/tmp/p',
    'tcp:127.0.0.1:7777',
    'tcp:0.0.0.0:4555,server,nowait',
    'telnet:localhost:9999,server,nowait',
    'udp:localhost:9998@localhost:9999',
    'udp::9998',
    'unix:/tmp/s.sock,server,nowait',
    'unix:/tmp/c.sock',
  ];
  for (const spec of specs) {
    it(`round-trips ${spec}`, () => {
      expect(formatChardevSpec(parseChardevSpec(spec, 0))).toBe(spec);
    });
  }

  it('models tcp and udp ends as libvirt does', () => {
    expect(parseChardevSpec('telnet:h:1,server,nowait', 2)).toEqual({ type: 'tcp', sources: [{ mode: 'bind', host: 'h', service: '1' }], protocol: 'telnet', target: { port: 2 } });
    expect(parseChardevSpec('udp:a:1@b:2', 0).sources).toEqual([
      { mode: 'bind', host: 'b', service: '2' },
      { mode: 'connect', host: 'a', service: '1' },
    ]);
  });

  it('rejects specs it cannot read and values it cannot write', () => {
    expect(() => parseChardevSpec('bogus', 0)).toThrow(VirError);
    expect(() => parseChardevSpec('tcp:nohostport', 0)).toThrow(/invalid character device/);
    const bad = (c: Parameters<typeof formatChardevSpec>[0]) => {
      try {
        formatChardevSpec(c);
      } catch (e) {
        return (e as VirError).code;
      }
      return 'no error';
    };
    expect(bad({ type: 'tcp', sources: [{ mode: 'connect', host: 'a,server', service: '1' }], target: {} })).toBe('VIR_ERR_CONFIG_UNSUPPORTED');
    expect(bad({ type: 'dev', sources: [{ path: 'ttyS0' }], target: {} })).toBe('VIR_ERR_CONFIG_UNSUPPORTED');
    expect(bad({ type: 'file', sources: [], target: {} })).toBe('VIR_ERR_INTERNAL_ERROR');
    expect(bad({ type: 'spicevmc', sources: [], target: {} })).toBe('VIR_ERR_CONFIG_UNSUPPORTED');
  });
});

describe('disk names and addresses', () => {
  it('indexes disk names like libvirt (hda=0, hdz=25, hdaa=26)', () => {
    expect(diskIndex('hda')).toBe(0);
    expect(diskIndex('xvdc')).toBe(2);
    expect(diskIndex('sdz')).toBe(25);
    expect(diskIndex('hdaa')).toBe(26);
    expect(diskIndex('nvme0')).toBe(-1);
  });
  it('gives IDE disks controller/bus/unit from the name', () => {
    expect(driveAddress({ type: 'file', device: 'disk', target: { dev: 'hdd', bus: 'ide' } })).toEqual({ type: 'drive', controller: 0, bus: 1, target: 0, unit: 1 });
    expect(driveAddress({ type: 'file', device: 'disk', target: { dev: 'hde', bus: 'ide' } })).toEqual({ type: 'drive', controller: 1, bus: 0, target: 0, unit: 0 });
    expect(driveAddress({ type: 'file', device: 'disk', target: { dev: 'xvda', bus: 'xen' } })).toBeUndefined();
  });
});

describe('boot order letters', () => {
  it('maps xend letters to libvirt devices and back', () => {
    expect(bootFromLetters('dcn')).toEqual(['cdrom', 'hd', 'network']);
    expect(bootToLetters(['network', 'fd'])).toBe('na');
    expect(bootToLetters(undefined)).toBe('c');
    expect(bootFromLetters('zz')).toEqual([]);
  });
});
