/**
 * Opening native/hypervisor.cc's Hypervisor and decoding its domain records. The
 * addon's surface itself is declared in lib/native.ts.
 */
import { native, type KnownInterfaceVersion, type NativeHypervisor, type ProbeOptions } from '../native.js';
import { ErrorCode, ErrorDomain, VirError } from '../errors.js';

export interface RawDomainInfo {
  domid: number;
  /** XEN_DOMINF_* bits; shutdown reason in bits 16..23. */
  flags: number;
  totPages: number;
  maxPages: number;
  outstandingPages: number;
  sharedPages: number;
  pagedPages: number;
  /** ns */
  cpuTime: number;
  nrOnlineVcpus: number;
  /** -1 when the domain has no vcpus yet */
  maxVcpuId: number;
  ssidref: number;
  /** Domain handle (UUID) as text. */
  handle: string;
  cpupool: number;
}

/**
 * Domain records cross the addon boundary as 16 doubles each (see PutDomainRecord in
 * native/hypervisor.cc): creating objects field by field in C++ costs more than the
 * hypercall itself, while a JS object literal is cheap.
 */
export const DOMAIN_RECORD_LEN = 16;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Record `i`'s handle (four big-endian words at 12..15) as UUID text, in one concatenation. */
export function recordUuid(buf: Float64Array, i: number): string {
  const o = i * DOMAIN_RECORD_LEN;
  const a = buf[o + 12]!, b = buf[o + 13]!, c = buf[o + 14]!, d = buf[o + 15]!;
  return `${HEX[a >>> 24]}${HEX[(a >>> 16) & 255]}${HEX[(a >>> 8) & 255]}${HEX[a & 255]}-${HEX[b >>> 24]}${HEX[(b >>> 16) & 255]}-${HEX[(b >>> 8) & 255]}${HEX[b & 255]}-${HEX[c >>> 24]}${HEX[(c >>> 16) & 255]}-${HEX[(c >>> 8) & 255]}${HEX[c & 255]}${HEX[d >>> 24]}${HEX[(d >>> 16) & 255]}${HEX[(d >>> 8) & 255]}${HEX[d & 255]}`;
}

/** Decode record `i` of `buf`. */
export function decodeDomainRecord(buf: Float64Array, i: number): RawDomainInfo {
  const o = i * DOMAIN_RECORD_LEN;
  return {
    domid: buf[o]!,
    flags: buf[o + 1]!,
    totPages: buf[o + 2]!,
    maxPages: buf[o + 3]!,
    outstandingPages: buf[o + 4]!,
    sharedPages: buf[o + 5]!,
    pagedPages: buf[o + 6]!,
    cpuTime: buf[o + 7]!,
    nrOnlineVcpus: buf[o + 8]!,
    maxVcpuId: buf[o + 9]!,
    ssidref: buf[o + 10]!,
    cpupool: buf[o + 11]!,
    handle: recordUuid(buf, i),
  };
}

export type { RawPhysinfo, RawVcpuInfo, InterfaceInfo, KnownInterfaceVersion, ProbeOptions, NativeHypervisor } from '../native.js';

/** Open privcmd and probe the interface versions (throws VirError). */
export function openNativeHypervisor(probe?: ProbeOptions): NativeHypervisor {
  const addon = native();
  if (typeof addon.Hypervisor !== 'function') {
    throw new VirError('this build of the xenvirt addon has no hypervisor module; rebuild it with `npm run build:native`', {
      code: ErrorCode.NO_SUPPORT,
      domain: ErrorDomain.XEN,
    });
  }
  return new addon.Hypervisor(probe);
}

/** The interface versions this build can speak (Xen release, sysctl, domctl). */
export function knownInterfaceVersions(): KnownInterfaceVersion[] {
  return native().hvKnownVersions?.() ?? [];
}
