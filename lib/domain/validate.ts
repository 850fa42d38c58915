/**
 * The invariants every DomainDef must satisfy, whichever format it was read from, so a
 * definition read from xend or a config file is always one parseDomainXML would accept.
 * Returns the first problem as a message (callers raise it with their own error code).
 */
import type { DomainDef } from './types.js';

export const LIFECYCLE_ACTIONS = new Set(['destroy', 'restart', 'preserve', 'rename-restart', 'coredump-destroy', 'coredump-restart']);
export const MAX_MEMORY_KIB = 2 ** 50;
export const MAX_VCPUS = 16384;

const CLOCK_OFFSETS = new Set(['utc', 'localtime', 'variable', 'timezone', 'absolute']);
const DRIVER_WORD = /^[A-Za-z0-9_-]+$/;
const DISK_TARGET = /^[a-z]+[0-9]*$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isCount = (n: unknown, min: number, max: number) => typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max;

export function domainDefProblem(def: DomainDef): string | undefined {
  if (!def.name) return 'domain name is empty';
  if (def.name.includes('/')) return `domain name '${def.name}' must not contain '/'`;
  if (def.name.trim() !== def.name) return `domain name '${def.name}' must not start or end with blanks`;
  if (!UUID.test(def.uuid)) return `malformed uuid '${def.uuid}'`;
  if (def.id !== undefined && !isCount(def.id, -1, 0x7fffffff)) return `domain id ${def.id} is out of range`;
  if (!isCount(def.memory, 0, MAX_MEMORY_KIB)) return `memory ${def.memory} KiB is out of range`;
  if (!isCount(def.currentMemory, 0, def.memory)) return `current memory ${def.currentMemory} KiB is out of range (maximum ${def.memory})`;
  if (!isCount(def.vcpus, 1, MAX_VCPUS)) return `vcpu count ${def.vcpus} is out of range (1 to ${MAX_VCPUS})`;
  if (def.cputune?.shares !== undefined && !isCount(def.cputune.shares, 1, 262144)) return `cpu shares ${def.cputune.shares} are out of range (1 to 262144)`;
  if (def.vcpuCurrent !== undefined && !isCount(def.vcpuCurrent, 1, def.vcpus)) return `current vcpus ${def.vcpuCurrent} must be between 1 and ${def.vcpus}`;
  // Checked one by one rather than through a list built per call: this runs on every read.
  if (!LIFECYCLE_ACTIONS.has(def.onPoweroff)) return `invalid on_poweroff lifecycle action '${def.onPoweroff}'`;
  if (!LIFECYCLE_ACTIONS.has(def.onReboot)) return `invalid on_reboot lifecycle action '${def.onReboot}'`;
  if (!LIFECYCLE_ACTIONS.has(def.onCrash)) return `invalid on_crash lifecycle action '${def.onCrash}'`;
  if (!def.os.type) return 'missing OS type';
  const clk = def.clock;
  if (!CLOCK_OFFSETS.has(clk.offset)) return `invalid clock offset '${clk.offset}'`;
  if (clk.basis !== undefined && clk.basis !== 'utc' && clk.basis !== 'localtime') return `invalid clock basis '${clk.basis}'`;
  if (clk.adjustment !== undefined && clk.adjustment !== 'reset') {
    if (!/^[-+]?\d{1,10}$/.test(clk.adjustment) || Math.abs(Number(clk.adjustment)) > 2 ** 31) return `invalid clock adjustment '${clk.adjustment}'`;
  }
  for (const n of def.devices.interfaces) if (n.mac !== undefined && !MAC.test(n.mac)) return `invalid MAC address '${n.mac}'`;
  for (const d of def.devices.disks) {
    if (!DISK_TARGET.test(d.target.dev)) return `invalid disk target '${d.target.dev}'`;
    const drv = d.driver;
    if (drv) {
      if (drv.name !== undefined && !DRIVER_WORD.test(drv.name)) return `invalid disk driver '${drv.name}'`;
      if (drv.type !== undefined && !DRIVER_WORD.test(drv.type)) return `invalid disk driver '${drv.type}'`;
    }
  }
  for (const c of def.cpu?.numa ?? []) {
    if (!isCount(c.memory, 1, MAX_MEMORY_KIB)) return `NUMA cell ${c.id} memory is out of range`;
    for (const s of c.distances ?? []) if (!isCount(s.value, 0, 255)) return `NUMA distance ${s.value} is out of range (0 to 255)`;
  }
  for (const g of def.devices.graphics) {
    for (const p of [g.port, g.tlsPort]) if (p !== undefined && !isCount(p, -1, 65535)) return `graphics port ${p} is out of range`;
  }
  return undefined;
}
