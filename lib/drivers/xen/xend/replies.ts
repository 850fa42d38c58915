/**
 * What xend's S-expression replies mean in the public API's terms: domain identity,
 * run state and counters, node facts and the xend config version. Pure functions, so
 * the tests feed them replies of every config version directly.
 */
import { VirError, ErrorCode, ErrorDomain } from '../../../errors.js';
import { sexprChild, sexprGet, type Sexpr } from '../../../convert/index.js';
import type { DomainInfo, DomainRef, DomainState, NodeInfo, VcpuInfo } from '../../../driver.js';
import type { XendConfigVersion } from '../../../convert/index.js';

function bad(message: string): VirError {
  return new VirError(`xend reply: ${message}`, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.XEND });
}

function int(e: Sexpr, field: string): number | undefined {
  const v = sexprGet(e, field);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw bad(`field '${field}' is not a whole number: '${v}'`);
  return Number(v);
}

function num(e: Sexpr, field: string): number | undefined {
  const v = sexprGet(e, field);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw bad(`field '${field}' is not a number: '${v}'`);
  return n;
}

function domainNode(e: Sexpr): Sexpr {
  if (!Array.isArray(e) || e[0] !== 'domain') throw bad('expected a (domain …) expression');
  return e;
}

/** Name, UUID and id; an inactive (managed, halted) domain has no domid or -1. */
export function domainRefFromSexpr(e: Sexpr): DomainRef {
  const d = domainNode(e);
  const name = sexprGet(d, 'name');
  if (!name) throw bad('domain has no name');
  const uuid = sexprGet(d, 'uuid');
  if (!uuid) throw bad(`domain '${name}' has no uuid`);
  const domid = int(d, 'domid');
  return { name, uuid: uuid.toLowerCase(), id: domid === undefined || domid < 0 ? -1 : domid };
}

/** xend's six-letter state flags (r b p s c d) → the public run state. */
export function stateFromFlags(flags: string | undefined, active: boolean): DomainState {
  if (!active) return 'shutoff';
  if (!flags) return 'nostate';
  if (flags.includes('c')) return 'crashed';
  if (flags.includes('s') || flags.includes('d')) return 'shutdown';
  if (flags.includes('p')) return 'paused';
  if (flags.includes('b')) return 'blocked';
  if (flags.includes('r')) return 'running';
  return 'nostate';
}

export function domainInfoFromSexpr(e: Sexpr): DomainInfo {
  const d = domainNode(e);
  const ref = domainRefFromSexpr(d);
  const memMiB = int(d, 'memory') ?? 0;
  const maxMiB = int(d, 'maxmem') ?? memMiB;
  return {
    state: stateFromFlags(sexprGet(d, 'state'), ref.id >= 0),
    maxMem: maxMiB * 1024,
    memory: memMiB * 1024,
    nrVirtCpu: int(d, 'online_vcpus') ?? int(d, 'vcpus') ?? 1,
    cpuTime: Math.round((num(d, 'cpu_time') ?? 0) * 1e9),
  };
}

/** `xend_config_format` of GET /xend/node/; xend 3.0.2 predates the field, so absent = 1. */
export function configVersionFromNode(node: Sexpr): XendConfigVersion {
  const v = int(node, 'xend_config_format');
  if (v === undefined) return 1;
  if (v < 1) throw bad(`unknown xend_config_format ${v}`);
  // Later xends kept format 4 semantics for what we use.
  return (v > 4 ? 4 : v) as XendConfigVersion;
}

/** Hypervisor version as libvirt encodes it (major * 1e6 + minor * 1e3 + release). */
export function versionFromNode(node: Sexpr): number {
  const major = int(node, 'xen_major');
  const minor = int(node, 'xen_minor');
  if (major === undefined || minor === undefined) throw bad('node has no xen_major/xen_minor');
  const extra = /^\.?(\d+)/.exec(sexprGet(node, 'xen_extra') ?? '');
  return major * 1_000_000 + minor * 1000 + (extra ? Number(extra[1]) : 0);
}

export function nodeInfoFromSexpr(node: Sexpr): NodeInfo {
  const cpus = int(node, 'nr_cpus');
  if (cpus === undefined) throw bad('node has no nr_cpus');
  const nodes = int(node, 'nr_nodes') ?? 1;
  const cores = int(node, 'cores_per_socket') ?? 1;
  const threads = int(node, 'threads_per_core') ?? 1;
  // Older xends report sockets per NUMA node; newer ones only the totals.
  const sockets = int(node, 'sockets_per_node') ?? Math.max(1, Math.floor(cpus / Math.max(1, nodes * cores * threads)));
  return {
    model: sexprGet(node, 'machine') ?? '',
    memory: (int(node, 'total_memory') ?? 0) * 1024,
    cpus,
    mhz: int(node, 'cpu_mhz') ?? 0,
    nodes,
    sockets,
    cores,
    threads,
  };
}

/** GET /xend/domain/NAME?op=vcpuinfo: `((vcpu (number 0) (online 1) …) …)`. */
export function vcpuInfoFromSexpr(e: Sexpr | undefined): VcpuInfo[] {
  if (!Array.isArray(e)) return [];
  const items = e[0] === 'vcpu' ? [e] : e;
  const out: VcpuInfo[] = [];
  for (const v of items) {
    if (!Array.isArray(v) || v[0] !== 'vcpu') continue;
    const number = int(v, 'number') ?? out.length;
    const online = int(v, 'online') ?? 1;
    const map = sexprChild(v, 'cpumap');
    const cpumap = (map ? map.slice(1) : []).flatMap((x) => (typeof x === 'string' && /^\d+$/.test(x) ? [Number(x)] : Array.isArray(x) ? x.filter((y): y is string => typeof y === 'string' && /^\d+$/.test(y)).map(Number) : []));
    out.push({
      number,
      state: online === 0 ? 'offline' : int(v, 'running') === 1 ? 'running' : 'blocked',
      cpuTime: Math.round((num(v, 'cpu_time') ?? 0) * 1e9),
      cpu: online === 0 ? -1 : (int(v, 'cpu') ?? -1),
      cpumap: [...new Set(cpumap)].sort((a, b) => a - b),
    });
  }
  return out;
}
