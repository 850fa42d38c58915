/**
 * The hypervisor sub-driver: domain and host facts straight from Xen through
 * hypercalls (native/hypervisor.cc), in the units and names of the public API.
 *
 * Sync or off the loop: a call that is one hypercall (domainInfo, pause, unpause,
 * setMaxMemory, setMaxVcpus, pinVcpu, version, nodeInfo, scheduler parameters) runs on
 * the JS thread — it takes microseconds, less than handing it to the libuv pool would
 * cost. listDomains/listDomainIds are one hypercall per 256 domains and stay synchronous
 * too. destroy (Xen continues it until the domain's memory is freed) and getVcpus of
 * more than 8 vCPUs (two hypercalls per vCPU) run on the libuv pool; both return promises. The benchmark
 * (benchmarks/cases/hypervisor.bench.ts, "event-loop hold" rows) measures each
 * synchronous call's hold in dom0 on every Xen release the harness boots.
 *
 * It knows domains only by id: names, UUID text and configuration live in XenStore and
 * libxl, which the unified Xen driver combines with this. Arguments are checked here so
 * every bad input gets a VirError with an exact message before any hypercall is made.
 */
import { ErrorCode, ErrorDomain, VirError } from '../errors.js';
import type { DomainState, NodeInfo, VcpuInfo } from '../driver.js';
import { DOMAIN_RECORD_LEN, openNativeHypervisor, recordUuid, type NativeHypervisor, type ProbeOptions } from './native-hypervisor.js';
import { stateFromFlags } from './state.js';

export { stateFromFlags, DomainFlag, shutdownReason } from './state.js';
export { knownInterfaceVersions } from './native-hypervisor.js';
export type { ProbeOptions, InterfaceInfo, KnownInterfaceVersion } from './native-hypervisor.js';

/** `reason` of the VirError XenHypercalls.open() throws when Xen speaks no known version. */
export const INTERFACE_UNSUPPORTED = 'interface-unsupported';

/**
 * The error XenHypercalls.open() throws when the running Xen refuses every domctl or
 * sysctl interface version this build knows (a Xen release newer than the build's table).
 * It is a VirError with code VIR_ERR_XEN_CALL, domain VIR_FROM_XEN, and:
 * - `reason`: 'interface-unsupported' (test with isInterfaceUnsupported());
 * - `xenVersion`: the release that answered, e.g. '4.22';
 * - `triedSysctl` / `triedDomctl`: the interface versions tried, in order;
 * - `cause`: a Node-style system error (`code` 'EACCES', `syscall`, `path`).
 * Callers that can work without hypercalls (XenStore, the toolstack) catch it, keep going
 * and report the message; every other open failure (not dom0, not root) has another
 * code (VIR_ERR_NO_XEN).
 */
export interface InterfaceUnsupportedError extends VirError {
  readonly reason: typeof INTERFACE_UNSUPPORTED;
  readonly xenVersion: string;
  readonly triedSysctl: number[];
  readonly triedDomctl: number[];
}

export function isInterfaceUnsupported(e: unknown): e is InterfaceUnsupportedError {
  return e instanceof VirError && (e as Partial<InterfaceUnsupportedError>).reason === INTERFACE_UNSUPPORTED;
}

/** Xen's page size on x86 (XC_PAGE_SIZE): memory comes in pages, the API speaks KiB. */
const PAGE_KIB = 4;
/** Domain ids from here on are reserved (DOMID_FIRST_RESERVED). */
const FIRST_RESERVED_DOMID = 0x7ff0;
/**
 * getVcpus reads up to this many vCPUs on the JS thread. Measured in dom0 (TCG): the
 * synchronous loop held the loop 875 µs for 2 vCPUs, queueing the same to the pool
 * 4280 µs; on hardware each hypercall is ~1 µs and a pool round trip ~10-20 µs.
 */
const SYNC_VCPUS = 8;
/** Xen's own cap on a domain's vcpus (HVM_MAX_VCPUS and the PV limit are lower). */
const MAX_VCPUS = 4096;

export interface HypervisorVersion {
  major: number;
  minor: number;
  /** e.g. '.7' */
  extra: string;
  /** e.g. 'xen-3.0-x86_64 hvm-3.0-x86_32 …' */
  capabilities: string;
}

export interface HvDomainInfo {
  domid: number;
  state: DomainState;
  /** KiB */
  maxMem: number;
  /** KiB */
  memory: number;
  nrVirtCpu: number;
  /** ns */
  cpuTime: number;
  /** Raw XEN_DOMINF_* flags. */
  flags: number;
  dying: boolean;
  hvm: boolean;
  /** The domain's UUID (Xen's domain handle). */
  uuid: string;
  /** Highest vcpu id, -1 when none. */
  maxVcpuId: number;
  cpupool: number;
}

export type SchedulerType = 'credit' | 'credit2' | 'arinc653' | 'rtds' | 'null' | `unknown-${number}`;

export interface SchedulerParams {
  /** Relative share, 1..65535. */
  weight: number;
  /** Upper bound in % of one CPU; 0 = none. */
  cap: number;
}

const SCHEDULERS: Record<number, SchedulerType> = { 5: 'credit', 6: 'credit2', 7: 'arinc653', 8: 'rtds', 9: 'null' };

function invalidArg(message: string): VirError {
  return new VirError(message, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEN });
}

function closedError(): VirError {
  return new VirError('the hypervisor connection is closed', { code: ErrorCode.INVALID_CONN, domain: ErrorDomain.XEN });
}

function checkDomid(domid: unknown): number {
  if (typeof domid !== 'number' || !Number.isInteger(domid) || domid < 0 || domid >= FIRST_RESERVED_DOMID) {
    throw invalidArg(`domain id must be an integer from 0 to ${FIRST_RESERVED_DOMID - 1}, got ${String(domid)}`);
  }
  return domid;
}

function checkIndex(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw invalidArg(`${what} must be an integer from 0 to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * A domain's handle only changes if a toolstack sets it again, so its UUID text is
 * kept per domid and reused while the four handle words match: formatting it on every
 * call cost about as much as the hypercall itself.
 */
class UuidCache {
  #byDomid = new Map<number, { a: number; b: number; c: number; d: number; text: string }>();

  get(buf: Float64Array, i: number): string {
    const o = i * DOMAIN_RECORD_LEN;
    const domid = buf[o]!;
    const hit = this.#byDomid.get(domid);
    if (hit && hit.a === buf[o + 12] && hit.b === buf[o + 13] && hit.c === buf[o + 14] && hit.d === buf[o + 15]) return hit.text;
    if (this.#byDomid.size >= 4096) this.#byDomid.clear(); // bounded: ids are recycled over time
    const text = recordUuid(buf, i);
    this.#byDomid.set(domid, { a: buf[o + 12]!, b: buf[o + 13]!, c: buf[o + 14]!, d: buf[o + 15]!, text });
    return text;
  }
}

/** Record `i` of a native record buffer, straight into the public shape. */
function toDomainInfo(buf: Float64Array, i: number, uuids: UuidCache): HvDomainInfo {
  const o = i * DOMAIN_RECORD_LEN;
  const flags = buf[o + 1]!;
  return {
    domid: buf[o]!,
    state: stateFromFlags(flags),
    maxMem: buf[o + 3]! * PAGE_KIB,
    memory: buf[o + 2]! * PAGE_KIB,
    nrVirtCpu: buf[o + 8]!,
    cpuTime: buf[o + 7]!,
    flags,
    dying: (flags & 1) !== 0,
    hvm: (flags & 2) !== 0,
    uuid: uuids.get(buf, i),
    maxVcpuId: buf[o + 9]!,
    cpupool: buf[o + 11]!,
  };
}

/** CPU numbers -> Xen bitmap of `bytes` bytes. */
function cpusToBitmap(cpus: number[], bytes: number): Uint8Array {
  const map = new Uint8Array(bytes);
  for (const c of cpus) map[c >> 3]! |= 1 << (c & 7);
  return map;
}

/** Xen bitmap -> CPU numbers, limited to CPUs that exist. */
function bitmapToCpus(map: Uint8Array, nrCpus: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < nrCpus && c >> 3 < map.length; c++) if (map[c >> 3]! & (1 << (c & 7))) out.push(c);
  return out;
}

/**
 * Xen's hypercall interface for one process: privcmd, the probed interface versions and
 * one method per domctl/sysctl xenvirt uses. (Not a libvirt driver table: that is
 * lib/driver.ts's HypervisorDriver; lib/drivers/xen/hypervisor-subdriver.ts adapts this
 * class to it.)
 */
export class XenHypercalls {
  #hv: NativeHypervisor | undefined;
  #cpuBits: number | undefined;
  #cpuIds: number | undefined;
  // Reused record buffers (see DOMAIN_RECORD_LEN): one domain, and a list batch.
  #one = new Float64Array(DOMAIN_RECORD_LEN);
  #batch = new Float64Array(64 * DOMAIN_RECORD_LEN);
  #uuids = new UuidCache();
  /** getdomaininfo into #one: the addon's lean plain function where the build has it. */
  #infoInto: (domid: number) => void;

  private constructor(hv: NativeHypervisor) {
    this.#hv = hv;
    hv.bindRecord(this.#one);
    this.#infoInto = hv.domainInfoFn ? hv.domainInfoFn() : (domid) => hv.domainInfo(domid);
  }

  /**
   * Open /dev/xen/privcmd and find the interface versions the running Xen speaks.
   * Throws VIR_ERR_NO_XEN when not in a privileged Xen domain (or not root), and an
   * InterfaceUnsupportedError (VIR_ERR_XEN_CALL, reason 'interface-unsupported', naming
   * the release and the versions tried) when Xen speaks none this build knows.
   */
  static open(probe?: ProbeOptions): XenHypercalls {
    return new XenHypercalls(openNativeHypervisor(probe));
  }

  get #native(): NativeHypervisor {
    if (!this.#hv) throw closedError();
    return this.#hv;
  }

  /** Which interface versions were detected, and how hypercall memory is obtained. */
  interfaceInfo() {
    return this.#native.interfaceInfo();
  }

  version(): HypervisorVersion {
    const v = this.#native.version();
    // Xen pads the capabilities list with a trailing blank; callers split on spaces.
    return { ...v, capabilities: v.capabilities.trim() };
  }

  nodeInfo(): NodeInfo {
    const p = this.#native.physinfo();
    const nodes = Math.max(1, p.nrNodes);
    const perSocket = Math.max(1, p.coresPerSocket * p.threadsPerCore);
    return {
      model: process.arch === 'x64' ? 'x86_64' : process.arch,
      memory: p.totalPages * PAGE_KIB,
      cpus: p.nrCpus,
      mhz: Math.floor(p.cpuKhz / 1000),
      nodes,
      // libvirt's convention: sockets per NUMA node
      sockets: Math.max(1, Math.floor(p.nrCpus / (perSocket * nodes))),
      cores: p.coresPerSocket,
      threads: p.threadsPerCore,
    };
  }

  /** Free host memory, KiB. */
  freeMemory(): number {
    return this.#native.physinfo().freePages * PAGE_KIB;
  }

  /** Walk every domain in id order, one getdomaininfolist sysctl per batch. */
  #eachDomain(visit: (buf: Float64Array, i: number) => void): void {
    const hv = this.#native;
    let first = 0;
    for (;;) {
      const cap = this.#batch.length / DOMAIN_RECORD_LEN;
      const n = hv.domainInfoList(first, this.#batch);
      for (let i = 0; i < n; i++) visit(this.#batch, i);
      if (n < cap) return;
      // a full batch: there may be more; grow for next time and continue after the last
      first = this.#batch[(n - 1) * DOMAIN_RECORD_LEN]! + 1;
      if (first >= FIRST_RESERVED_DOMID) return;
      if (cap < 1024) this.#batch = new Float64Array(cap * 2 * DOMAIN_RECORD_LEN);
    }
  }

  listDomainIds(): number[] {
    const ids: number[] = [];
    this.#eachDomain((buf, i) => ids.push(buf[i * DOMAIN_RECORD_LEN]!));
    return ids;
  }

  /** Every domain, fetched in batches by one sysctl per batch. */
  listDomains(): HvDomainInfo[] {
    const out: HvDomainInfo[] = [];
    this.#eachDomain((buf, i) => out.push(toDomainInfo(buf, i, this.#uuids)));
    return out;
  }

  /** One domain; VIR_ERR_NO_DOMAIN when no domain has this id. */
  domainInfo(domid: number): HvDomainInfo {
    if (!this.#hv) throw closedError();
    this.#infoInto(checkDomid(domid));
    return toDomainInfo(this.#one, 0, this.#uuids);
  }

  async pause(domid: number): Promise<void> {
    this.#native.pause(checkDomid(domid));
  }

  async unpause(domid: number): Promise<void> {
    this.#native.unpause(checkDomid(domid));
  }

  /** Tear the domain down (hard power-off). Runs off the event loop. */
  destroy(domid: number): Promise<void> {
    try {
      return this.#native.destroy(checkDomid(domid));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Set the most memory the domain may own, KiB. */
  setMaxMemory(domid: number, kib: number): void {
    checkDomid(domid);
    if (typeof kib !== 'number' || !Number.isInteger(kib) || kib <= 0 || kib > Number.MAX_SAFE_INTEGER) {
      throw invalidArg(`maximum memory must be a positive integer number of KiB, got ${String(kib)}`);
    }
    this.#native.setMaxMem(domid, kib);
  }

  setMaxVcpus(domid: number, n: number): void {
    checkDomid(domid);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_VCPUS) {
      throw invalidArg(`vcpu count must be an integer from 1 to ${MAX_VCPUS}, got ${String(n)}`);
    }
    this.#native.setMaxVcpus(domid, n);
  }

  /** Bits Xen needs for a CPU bitmap on this host (max_cpu_id + 1, whole bytes). */
  #bitmapBits(): number {
    this.#cpuBits ??= (Math.floor((this.#maxCpus() - 1) / 8) + 1) * 8;
    return this.#cpuBits;
  }

  /** Highest possible CPU id + 1 (fixed for the host's lifetime). */
  #maxCpus(): number {
    this.#cpuIds ??= this.#native.physinfo().maxCpuId + 1;
    return this.#cpuIds;
  }

  /**
   * Every vcpu of the domain with its state, time, current CPU and hard affinity. Two
   * hypercalls per vCPU: for more than SYNC_VCPUS vCPUs they run off the event loop (one
   * libuv pool job); for fewer, on it, as the pool round trip costs more than they do.
   */
  async getVcpus(domid: number): Promise<VcpuInfo[]> {
    const info = this.domainInfo(domid);
    const bits = this.#bitmapBits();
    const nrCpus = this.#maxCpus();
    if (info.maxVcpuId < 0) return [];
    const hv = this.#native;
    const raw = info.maxVcpuId < SYNC_VCPUS ? hv.vcpusSync(domid, info.maxVcpuId, bits) : await hv.vcpus(domid, info.maxVcpuId, bits);
    return raw.map((r) => ({
      number: r.vcpu,
      state: !r.online ? 'offline' : r.running ? 'running' : 'blocked',
      cpuTime: r.cpuTime,
      cpu: r.online ? r.cpu : -1,
      cpumap: bitmapToCpus(r.cpumap, nrCpus),
    }));
  }

  /** Restrict a vcpu to the given physical CPUs (CPU numbers). Returns what Xen applied. */
  pinVcpu(domid: number, vcpu: number, cpumap: number[]): number[] {
    checkDomid(domid);
    checkIndex(vcpu, 'vcpu number', MAX_VCPUS - 1);
    const bits = this.#bitmapBits();
    if (!Array.isArray(cpumap) || cpumap.length === 0) throw invalidArg('cpumap must be a non-empty array of CPU numbers');
    for (const c of cpumap) checkIndex(c, 'CPU number in cpumap', bits - 1);
    const applied = this.#native.setVcpuAffinity(domid, vcpu, cpusToBitmap(cpumap, bits / 8));
    return bitmapToCpus(applied, bits);
  }

  schedulerType(): SchedulerType {
    const id = this.#native.schedId();
    return SCHEDULERS[id] ?? `unknown-${id}`;
  }

  #creditSched(): number {
    const id = this.#native.schedId();
    if (id !== 5 && id !== 6) {
      throw new VirError(`scheduler parameters are supported for credit and credit2, not ${SCHEDULERS[id] ?? id}`, {
        code: ErrorCode.NO_SUPPORT,
        domain: ErrorDomain.XEN,
      });
    }
    return id;
  }

  getSchedulerParams(domid: number): SchedulerParams {
    checkDomid(domid);
    return this.#native.getCredit(domid, this.#creditSched());
  }

  /** Change weight and/or cap; omitted values keep their current setting. */
  setSchedulerParams(domid: number, params: Partial<SchedulerParams>): void {
    checkDomid(domid);
    if (params === null || typeof params !== 'object') throw invalidArg('scheduler parameters must be an object');
    if (params.weight !== undefined) checkIndex(params.weight, 'weight', 65535);
    if (params.weight === 0) throw invalidArg('weight must be an integer from 1 to 65535, got 0');
    if (params.cap !== undefined) checkIndex(params.cap, 'cap', 65534);
    const sched = this.#creditSched();
    // Xen treats some values as "leave unchanged", so always send both in full.
    const cur = this.#native.getCredit(domid, sched);
    this.#native.setCredit(domid, sched, params.weight ?? cur.weight, params.cap ?? cur.cap);
  }

  /** Release privcmd. Later calls raise VIR_ERR_INVALID_CONN; a destroy in flight completes. */
  close(): void {
    this.#hv?.close();
    this.#hv = undefined;
  }
}

/**
 * @deprecated the old name of XenHypercalls, which clashed with lib/driver.ts's
 * HypervisorDriver (the libvirt driver table). Kept until every importer has moved.
 */
export { XenHypercalls as HypervisorDriver };
