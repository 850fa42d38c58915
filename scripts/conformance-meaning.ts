/**
 * Comparison by meaning for libvirt 1.2.0's xend fixtures (config versions 1-3), whose
 * layout (key and element order, defaults newer libvirt always writes) differs from the
 * layout xenvirt writes, which is that of today's fixtures. The rule:
 *
 * - S-expressions: the same tree once the children of every list are put in a canonical
 *   order (xend reads `(key value)` pairs by name); devices keep their order relative to
 *   each other. Atoms compare as text ('1' and 1 are the same atom).
 * - xm configs: the same settings with the same values; inside a list, entries in order,
 *   and inside a "k=v,k=v" entry (vif, vfb) the same pairs in any order. Settings that
 *   carry the value the toolstack assumes anyway may be present on one side only
 *   (XM_DEFAULTS below).
 * - Domain XML: both documents parsed into xenvirt's domain model (the same model the
 *   converters produce) and compared field by field, after dropping what newer libvirt
 *   adds to every Xen guest by itself and 1.2.0 did not write (implicit controllers, the
 *   PV keyboard, the xen memballoon, drive addresses: MODEL_IMPLIED below).
 */
import { parseConf, type ConfValue } from '../lib/convert/conf.js';
import { parseSexpr, type Sexpr } from '../lib/convert/sexpr.js';
import { parseDomainXML } from '../lib/domain/index.js';

export interface MeaningDiff {
  where: string;
  expected: unknown;
  actual: unknown;
}

// ---------- S-expressions ----------

/**
 * The tree as a multiset of leaf paths ("vm/image/hvm/acpi=1"); devices get their index
 * among the devices ("vm/device#0/vbd/dev=hda") so they keep their order and identity.
 */
function sexprLeaves(e: Sexpr, prefix: string, out: string[]): void {
  if (typeof e === 'string') {
    out.push(`${prefix}=${e}`);
    return;
  }
  if (e.length === 0) return;
  const [head, ...rest] = e;
  if (typeof head !== 'string') {
    e.forEach((x, i) => sexprLeaves(x, `${prefix}/[${i}]`, out));
    return;
  }
  const here = prefix ? `${prefix}/${head}` : head;
  if (rest.length === 0) out.push(`${here}=()`);
  let device = 0;
  for (const c of rest) {
    if (Array.isArray(c) && c[0] === 'device') sexprLeaves(c.slice(1) as Sexpr, `${here}/device#${device++}`, out);
    else sexprLeaves(c, here, out);
  }
}

function leaves(text: string): string[] {
  const out: string[] = [];
  sexprLeaves(parseSexpr(text, { lenient: true }), '', out);
  return out.sort();
}

export function compareSexpr(expected: string, actual: string): MeaningDiff[] {
  const a = leaves(expected);
  const b = leaves(actual);
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const ca = count(a);
  const cb = count(b);
  const out: MeaningDiff[] = [];
  for (const [k, n] of ca) if ((cb.get(k) ?? 0) < n) out.push({ where: 'missing', expected: k, actual: undefined });
  for (const [k, n] of cb) {
    if ((ca.get(k) ?? 0) >= n) continue;
    // Today's layout repeats localtime inside the image and always says rtc_timeoffset 0.
    const img = /^vm\/image\/[a-z]+\/localtime=(\d)$/.exec(k);
    if (img && ca.has(`vm/localtime=${img[1]}`)) continue;
    if (/^vm\/image\/hvm\/rtc_timeoffset=0$/.test(k)) continue;
    out.push({ where: 'extra', expected: undefined, actual: k });
  }
  return out;
}

// ---------- xm configs ----------

/** Settings whose value is what xend assumes when they are absent. */
const XM_DEFAULTS: Record<string, (v: string) => boolean> = {
  localtime: (v) => v === '0',
  rtc_timeoffset: (v) => v === '0',
  viridian: (v) => v === '0',
  sdl: (v) => v === '0',
  vnc: (v) => v === '0',
  parallel: (v) => v === 'none',
  serial: (v) => v === 'none',
  on_poweroff: (v) => v === 'destroy',
  on_reboot: (v) => v === 'restart',
  on_crash: (v) => v === 'restart',
};

function canonicalEntry(v: string): string {
  if (!v.includes('=')) return v;
  return v
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .sort()
    .join(',');
}

function canonicalValue(v: ConfValue): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return canonicalEntry(v);
  return `[${v.map(canonicalValue).join(' | ')}]`;
}

function confMap(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of parseConf(text)) m.set(e.name, canonicalValue(e.value));
  return m;
}

export function compareXm(expected: string, actual: string): MeaningDiff[] {
  const a = confMap(expected);
  const b = confMap(actual);
  const out: MeaningDiff[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k);
    const y = b.get(k);
    if (x === y) continue;
    const present = x === undefined ? y : y === undefined ? x : undefined;
    if (present !== undefined && XM_DEFAULTS[k]?.(present)) continue;
    out.push({ where: k, expected: x, actual: y });
  }
  return out;
}

// ---------- domain XML ----------

/**
 * Layout, not meaning: what today's libvirt (and so xenvirt) writes for every Xen guest
 * and 1.2.0 did not, or writes differently for the same thing:
 * - implicit controllers (xenbus, ide/scsi/fdc for addressed disks), the emulated or PV
 *   mouse and keyboard, the xen memballoon, drive addresses, the video device every
 *   graphical guest gets, listen elements mirroring the listen attribute;
 * - the loader's type='rom' format='raw', a raw disk driver type left unsaid;
 * - the clock: 1.2.0's offset='utc'|'localtime' is today's offset='variable' adjustment='0'
 *   basis='utc'|'localtime' for HVM; adjustment='reset' is the PV spelling of the same;
 * - os arch/machine, which come from the test host's capabilities, not from the input.
 */
function dropImplied(def: any): any {
  const dv = def.devices;
  dv.controllers = dv.controllers.filter((c: any) => !(c.type === 'xenbus' || ((c.type === 'ide' || c.type === 'scsi' || c.type === 'fdc') && c.model === undefined)));
  dv.inputs = dv.inputs.filter((i: any) => !((i.type === 'keyboard' || i.type === 'mouse') && (i.bus === 'xen' || i.bus === 'ps2')));
  delete dv.memballoon;
  dv.videos = [];
  for (const d of dv.disks) {
    delete d.address;
    if (d.driver && d.driver.type === 'raw') delete d.driver.type;
    if (d.driver && Object.keys(d.driver).length === 0) delete d.driver;
  }
  for (const g of dv.graphics) {
    if (g.listens.every((l: any) => l.type === 'address' && (l.address === undefined || l.address === g.listen))) g.listens = [];
  }
  delete def.os.arch;
  delete def.os.machine;
  if (def.os.loader) {
    if (def.os.loader.type === 'rom') delete def.os.loader.type;
    if (def.os.loader.format === 'raw') delete def.os.loader.format;
  }
  const c = def.clock;
  if (c.offset === 'variable' && (c.adjustment === '0' || c.adjustment === undefined) && c.basis) def.clock = { ...c, offset: c.basis, adjustment: undefined, basis: undefined };
  if (def.clock.adjustment === 'reset') def.clock.adjustment = undefined;
  return def;
}

function walk(a: unknown, b: unknown, where: string, out: MeaningDiff[]): void {
  if (a instanceof Map) a = Object.fromEntries(a);
  if (b instanceof Map) b = Object.fromEntries(b);
  if (a === b) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      out.push({ where: `${where}.length`, expected: a.length, actual: b.length });
      return;
    }
    a.forEach((x, i) => walk(x, b[i], `${where}[${i}]`, out));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = a as Record<string, unknown>;
    const kb = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ka), ...Object.keys(kb)])) walk(ka[k], kb[k], where ? `${where}.${k}` : k, out);
    return;
  }
  out.push({ where, expected: a, actual: b });
}

export function compareDomainXml(expected: string, actual: string): MeaningDiff[] {
  const a = dropImplied(parseDomainXML(expected));
  const b = dropImplied(parseDomainXML(actual));
  const out: MeaningDiff[] = [];
  walk(a, b, '', out);
  return out;
}
