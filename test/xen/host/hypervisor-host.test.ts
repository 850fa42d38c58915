/**
 * The parts of the hypervisor sub-driver that need no Xen: flag → state mapping,
 * record decoding, and the error a host without Xen gets. Real-Xen behaviour is tested
 * in test/xen/suites/hypervisor.xen.ts inside the QEMU dom0.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { XenHypercalls, stateFromFlags, DomainFlag, isInterfaceUnsupported } from '../../../lib/hypervisor/index.js';
import { DOMAIN_RECORD_LEN, decodeDomainRecord } from '../../../lib/hypervisor/native-hypervisor.js';
import { VirError } from '../../../lib/errors.js';

describe('stateFromFlags', () => {
  const cases: Array<[string, number, string]> = [
    ['no bits', 0, 'nostate'],
    ['running', DomainFlag.running, 'running'],
    ['blocked', DomainFlag.blocked, 'blocked'],
    ['one vcpu running, one blocked', DomainFlag.running | DomainFlag.blocked, 'running'],
    ['paused wins over blocked', DomainFlag.paused | DomainFlag.blocked, 'paused'],
    ['shut down (poweroff reason 0)', DomainFlag.shutdown, 'shutoff'],
    ['shut down with reason crash (3)', DomainFlag.shutdown | (3 << 16), 'crashed'],
    ['shut down with reason reboot (1)', DomainFlag.shutdown | (1 << 16), 'shutoff'],
    ['dying', DomainFlag.dying | DomainFlag.paused, 'shutdown'],
  ];
  for (const [what, flags, state] of cases) {
    it(`${what} -> ${state}`, () => expect(stateFromFlags(flags)).toBe(state));
  }
});

describe('decodeDomainRecord', () => {
  it('reads every field and formats the handle as a UUID', () => {
    const buf = new Float64Array(2 * DOMAIN_RECORD_LEN);
    const o = DOMAIN_RECORD_LEN;
    buf.set([7, 0x28, 32768, 33024, 0, 1, 2, 123456789, 2, 1, 0, 0, 0x01234567, 0x89abcdef, 0x00000000, 0xfedcba98], o);
    expect(decodeDomainRecord(buf, 1)).toEqual({
      domid: 7,
      flags: 0x28,
      totPages: 32768,
      maxPages: 33024,
      outstandingPages: 0,
      sharedPages: 1,
      pagedPages: 2,
      cpuTime: 123456789,
      nrOnlineVcpus: 2,
      maxVcpuId: 1,
      ssidref: 0,
      cpupool: 0,
      handle: '01234567-89ab-cdef-0000-0000fedcba98',
    });
  });
});

// On a machine that is not a Xen dom0 the real device is absent: this is the real
// failure path, not a simulation.
describe.skipIf(existsSync('/dev/xen/privcmd'))('XenHypercalls.open outside Xen', () => {
  it('throws VIR_ERR_NO_XEN with a clear message and the errno', () => {
    let err: unknown;
    try {
      XenHypercalls.open();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VirError);
    expect(err).toMatchObject({ code: 'VIR_ERR_NO_XEN', domain: 'VIR_FROM_XEN', errno: 2, syscall: 'ENOENT' });
    expect((err as Error).message).toMatch(/not running on Xen: \/dev\/xen\/privcmd is missing/);
    // the OS-level failure, shaped like Node's system errors
    expect((err as Error).cause).toMatchObject({ code: 'ENOENT', errno: 2, syscall: 'open', path: '/dev/xen/privcmd' });
    expect(isInterfaceUnsupported(err)).toBe(false);
  });
});
