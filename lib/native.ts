/**
 * The one place the native addon is loaded, and the declaration of its surface.
 *
 * Resolution order (as better-sqlite3 does): XENVIRT_NATIVE_PATH if set, then a
 * prebuild for this platform, then the local node-gyp build. The addon is loaded
 * lazily so that pure-TypeScript users (converters, test driver) never pay for it and
 * never fail because of it.
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { VirError, ErrorCode, ErrorDomain } from './errors.js';

/*
 * ---- The addon's whole surface, declared here and nowhere else ----
 * native/addon.cc (core), native/xenstore.cc, native/peercred.cc, native/hypervisor.cc.
 * Modules take their types from here; lib/hypervisor/native-hypervisor.ts re-exports the
 * hypervisor ones with decoding helpers.
 *
 * Errors: every native failure is a VirError (libvirt `code` and `domain`, `errno`, and
 * for now the errno name in `syscall` as the rest of the library expects). The OS-level
 * failure beneath it is its `cause`, shaped like Node's system errors: `code` = errno
 * name ('ENOENT'), `errno`, `syscall` = the failing call ('open', 'domctl getdomaininfo'),
 * `path` = the device ('/dev/xen/privcmd').
 */

/** `cause` of a native VirError (see above). */
export interface NativeSystemCause extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

// -- core (addon.cc, core.cc)
export interface NativeInfo {
  napiVersion: number;
  addonVersion: string;
  sysname?: string;
  release?: string;
  machine?: string;
}

// -- XenStore (xenstore.cc): one connection to xenstored's socket or the xenbus device
export interface NativeXsConnection {
  /** Queue one request (a string payload is sent NUL-terminated); resolves with the
   * reply, rejects with makeError's result. replyAs: lib/xenstore/connection.ts ReplyAs. */
  request(type: number, txId: number, payload: Buffer | string, replyAs: 0 | 1 | 2 | 3): Promise<Buffer | string>;
  /** Write what request() queued. */
  flush(): void;
  /** Keep Node's loop alive while true even with nothing in flight (active watches). */
  setKeepAlive(on: boolean): void;
  /** Idempotent; rejects every call in flight. */
  close(): void;
  readonly pending: number;
}
export type NativeXsConnectionCtor = new (
  kind: 'socket' | 'device',
  path: string,
  onWatchEvent: (payload: Buffer) => void,
  onClose: (err: unknown) => void,
  makeError: (errnoName: string | null, type: number, subject: string, cause: unknown) => Error,
) => NativeXsConnection;

// -- peer credentials (peercred.cc): SO_PEERCRED of a unix socket's fd
export type NativeGetPeerCredentials = (fd: number) => { pid: number; uid: number; gid: number };

// -- hypervisor (hypervisor.cc): hypercalls through /dev/xen/privcmd. Units are Xen's
// (pages, ns); lib/hypervisor/index.ts converts them for callers.
export interface RawPhysinfo {
  threadsPerCore: number;
  coresPerSocket: number;
  nrCpus: number;
  maxCpuId: number;
  nrNodes: number;
  maxNodeId: number;
  cpuKhz: number;
  capabilities: number;
  totalPages: number;
  freePages: number;
  scrubPages: number;
  outstandingPages: number;
  maxMfn: number;
}

export interface RawVcpuInfo {
  vcpu: number;
  online: boolean;
  blocked: boolean;
  running: boolean;
  cpuTime: number;
  cpu: number;
}

export interface InterfaceInfo {
  sysctl: number;
  domctl: number;
  /** Struct layout set selected by the pair: 'v13' (4.13-4.15), 'v16', 'v17' (4.17 on). */
  layout: string;
  /** The table row's release(s), e.g. '4.19/4.20'. */
  xen: string;
  /** true from Xen 4.18 (domctl 0x16): getdomaininfo fails with ESRCH for a missing id. */
  exactDomainInfo: boolean;
  hypercallBuffers: '/dev/xen/hypercall' | 'mlock';
}

/** One row of native/hv_abi.h's interface version table. */
export interface KnownInterfaceVersion {
  xen: string;
  sysctl: number;
  domctl: number;
  layout: string;
  exactDomainInfo: boolean;
}

export interface ProbeOptions {
  /** Interface versions to try instead of the build's table (tests use this). */
  sysctlVersions?: number[];
  domctlVersions?: number[];
}

/**
 * Every method is synchronous (one hypercall, a few µs) except destroy, which Xen may
 * continue many times, and vcpus, two hypercalls per vCPU: both run on the libuv pool
 * (vcpusSync is vcpus on the JS thread, for a few vCPUs).
 */
export interface NativeHypervisor {
  interfaceInfo(): InterfaceInfo;
  version(): { major: number; minor: number; extra: string; capabilities: string };
  physinfo(): RawPhysinfo;
  schedId(): number;
  /** Fills `out` (16 doubles per domain) with domains with id >= first; returns how many. */
  domainInfoList(first: number, out: Float64Array): number;
  /** Writes one record at out[0..15] (default: the bound record); VIR_ERR_NO_DOMAIN when absent. */
  domainInfo(domid: number, out?: Float64Array): void;
  /** The record domainInfo(domid) fills from now on (checked once, kept alive). */
  bindRecord(out: Float64Array): void;
  /** domainInfo(domid) into the bound record, as a lean plain function (bindRecord first). */
  domainInfoFn?(): (domid: number) => void;
  pause(domid: number): void;
  unpause(domid: number): void;
  destroy(domid: number): Promise<void>;
  setMaxMem(domid: number, kib: number): void;
  setMaxVcpus(domid: number, max: number): void;
  vcpuInfo(domid: number, vcpu: number): RawVcpuInfo;
  /** vCPUs 0..maxVcpuId with their hard affinity (bitmap of nrBits bits), off the loop. */
  vcpus(domid: number, maxVcpuId: number, nrBits: number): Promise<Array<RawVcpuInfo & { cpumap: Uint8Array }>>;
  /** The same on the JS thread: cheaper than a pool round trip for a few vCPUs. */
  vcpusSync(domid: number, maxVcpuId: number, nrBits: number): Array<RawVcpuInfo & { cpumap: Uint8Array }>;
  getVcpuAffinity(domid: number, vcpu: number, nrBits: number): Uint8Array;
  setVcpuAffinity(domid: number, vcpu: number, bitmap: Uint8Array): Uint8Array;
  getCredit(domid: number, schedId: number): { weight: number; cap: number };
  setCredit(domid: number, schedId: number, weight: number, cap: number): void;
  close(): void;
}

/** Everything the addon exports. Optional members are absent from builds without them. */
export interface NativeAddon {
  setErrorClass(ctor: typeof VirError): void;
  nativeInfo(): NativeInfo;
  XsConnection?: NativeXsConnectionCtor;
  getPeerCredentials?: NativeGetPeerCredentials;
  Hypervisor?: new (probe?: ProbeOptions) => NativeHypervisor;
  /** native/hv_abi.h's offsets, sizes and constants, for the header cross-check test. */
  hvAbiLayout?: () => Record<string, number>;
  hvKnownVersions?: () => KnownInterfaceVersion[];
}

/** @deprecated the old name of NativeAddon. */
export type NativeCore = NativeAddon;

const require = createRequire(import.meta.url);

/** The package root: lib/ in development, dist/ once built — both one level below. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(resolve(dir, 'package.json')) && existsSync(resolve(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

/**
 * The addon's file: XENVIRT_NATIVE_PATH, else the local build (node-gyp-build would pick
 * it first too: it prefers build/Release over prebuilds), else what node-gyp-build finds
 * (a prebuild). Checking the build's path ourselves saves resolving and loading
 * node-gyp-build on every start (~1.2 ms here, issue 15).
 */
function addonPath(): string {
  const explicit = process.env.XENVIRT_NATIVE_PATH;
  if (explicit) return explicit;
  const root = packageRoot();
  const built = resolve(root, 'build', 'Release', 'xenvirt.node');
  if (!process.env.PREBUILDS_ONLY && existsSync(built)) return built; // node-gyp-build's own switch

  return (require('node-gyp-build') as { resolve(dir: string): string }).resolve(root);
}

let cached: NativeAddon | undefined;
let loadError: unknown;

/** Load the addon (once). Throws a VirError when it cannot be loaded. */
export function native(): NativeAddon {
  if (cached) return cached;
  if (loadError === undefined) {
    try {
      const mod: NativeAddon = require(addonPath());
      mod.setErrorClass(VirError);
      cached = mod;
      return mod;
    } catch (e) {
      loadError = e;
    }
  }
  throw new VirError(
    `the xenvirt native addon could not be loaded (${(loadError as Error)?.message ?? loadError}); ` +
      'reinstall the package or run `npm run build:native`',
    { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.NONE, cause: loadError },
  );
}
