/**
 * Domain XML -> domain model. Accepts what libvirt accepts for the parts modelled here
 * (including older spellings: no unit on <memory>, 'ioemu:' disk targets, uuids without
 * dashes); rejects elements it does not model with VIR_ERR_XML_ERROR rather than
 * silently dropping them, so a round trip never loses configuration unnoticed.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { child, childrenNamed, parseXml, type XmlElement } from '../xml/tree.js';
import {
  emptyDevices,
  type ChardevDef,
  type DiskDef,
  type DomainCPU,
  type DomainClock,
  type DomainDef,
  type DomainFeatures,
  type DomainOS,
  type GraphicsDef,
  type HostdevDef,
  type InterfaceDef,
  type OnOff,
} from './types.js';
import { canonicalUUID, generateUUID } from './uuid.js';
import { domainDefProblem } from './validate.js';

function bad(message: string): VirError {
  return new VirError(message, { code: ErrorCode.XML_ERROR, domain: ErrorDomain.DOMAIN });
}

const where = (el: XmlElement) => `<${el.name}> (line ${el.line})`;

function attr(el: XmlElement, name: string): string | undefined {
  return el.attrs.get(name);
}

function reqAttr(el: XmlElement, name: string): string {
  const v = el.attrs.get(name);
  if (v === undefined) throw bad(`missing attribute '${name}' on ${where(el)}`);
  return v;
}

interface IntOptions {
  allowHex?: boolean;
  allowNegative?: boolean;
  max?: number;
}
const NO_INT_OPTIONS: IntOptions = {};

/** True when s[from…] is one or more characters, each a decimal digit (or hex digit when hex). */
function allDigits(s: string, from: number, hex: boolean): boolean {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    if (hex && ((c >= 97 && c <= 102) || (c >= 65 && c <= 70))) continue;
    return false;
  }
  return true;
}

/**
 * The non-negative decimal integer in text (or hex when allowHex and 0x-prefixed, negative
 * when allowNegative), or why there is none. Callers name the value only when it fails:
 * building that label ("port on <graphics> (line 12)") for every integer read was a
 * measurable part of reading a document (issue 14).
 */
function readInt(text: string, opts: IntOptions): number | 'syntax' | 'range' {
  const t = text.trim();
  let n: number;
  // Character scans rather than regexes: integers are the most frequent values read.
  if (opts.allowHex && t.charCodeAt(0) === 48 && t.charCodeAt(1) === 120 && allDigits(t, 2, true)) n = parseInt(t.slice(2), 16);
  else if (allDigits(t, 0, false) || (opts.allowNegative && t.charCodeAt(0) === 45 && allDigits(t, 1, false))) n = Number(t);
  else return 'syntax';
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(n) || n > max) return 'range';
  return n;
}

function intFailure(why: 'syntax' | 'range', text: string, what: string): VirError {
  return why === 'syntax' ? bad(`invalid ${what} '${text}': expected an integer`) : bad(`${what} '${text}' is out of range`);
}

function int(text: string, what: string, opts: IntOptions = NO_INT_OPTIONS): number {
  const n = readInt(text, opts);
  if (typeof n !== 'number') throw intFailure(n, text, what);
  return n;
}

function intAttr(el: XmlElement, name: string, opts: IntOptions = NO_INT_OPTIONS): number | undefined {
  const v = attr(el, name);
  if (v === undefined) return undefined;
  const n = readInt(v, opts);
  if (typeof n !== 'number') throw intFailure(n, v, `${name} on ${where(el)}`);
  return n;
}

function reqIntAttr(el: XmlElement, name: string, opts: IntOptions): number {
  reqAttr(el, name);
  return intAttr(el, name, opts)!;
}

// Options of the integers read with bounds, built once.
const PORT: IntOptions = { allowNegative: true, max: 65535 };
const CHARDEV_PORT: IntOptions = { max: 65535 };
const VLAN_TAG: IntOptions = { max: 4095 };
const IP_PREFIX: IntOptions = { max: 128 };
const PCI_DOMAIN: IntOptions = { allowHex: true, max: 0xffff };
const PCI_BUS: IntOptions = { allowHex: true, max: 0xff };
const PCI_SLOT: IntOptions = { allowHex: true, max: 0x1f };
const PCI_FUNCTION: IntOptions = { allowHex: true, max: 7 };
const HEX: IntOptions = { allowHex: true };
const VCPUS: IntOptions = { max: 16384 };

const UNIT_SCALE: Record<string, number> = {
  b: 1, bytes: 1,
  k: 1024, kib: 1024, kb: 1000,
  m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
  t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
};

// libvirt caps memory at what fits in unsigned long long bytes; a safe-integer KiB bound is tighter and plenty.
const MAX_KIB = 2 ** 50;

/** A memory size in KiB from an element with an optional unit attribute (default KiB). */
function memoryKiB(el: XmlElement): number {
  const unit = attr(el, 'unit');
  const scale = unit === undefined ? 1024 : UNIT_SCALE[unit.toLowerCase()]; // KiB by default
  if (scale === undefined) throw bad(`unknown memory unit '${unit}' on ${where(el)}`);
  const n = readInt(el.text, NO_INT_OPTIONS);
  if (typeof n !== 'number') throw intFailure(n, el.text, `<${el.name}> size`);
  const kib = Math.ceil((n * scale) / 1024);
  if (!Number.isSafeInteger(kib) || kib > MAX_KIB) throw bad(`<${el.name}> size '${el.text.trim()}' is too large`);
  return kib;
}

function onOff(v: string | undefined, el: XmlElement): OnOff {
  if (v === undefined || v === 'on' || v === 'yes') return 'on';
  if (v === 'off' || v === 'no') return 'off';
  throw bad(`invalid state '${v}' on ${where(el)}`);
}

// The children each modelled element may have (anything else is refused, not dropped).
const OS_CHILDREN = new Set(['type', 'loader', 'kernel', 'initrd', 'cmdline', 'boot', 'acpi']);
const CPU_CHILDREN = new Set(['feature', 'numa']);
const CLOCK_CHILDREN = new Set(['timer']);
const DISK_CHILDREN = new Set(['driver', 'source', 'target', 'readonly', 'shareable', 'address', 'backingStore']);
const INTERFACE_CHILDREN = new Set(['mac', 'source', 'vlan', 'virtualport', 'ip', 'bandwidth', 'script', 'backenddomain', 'target', 'model']);
const CHARDEV_CHILDREN = new Set(['source', 'protocol', 'target']);
const GRAPHICS_CHILDREN = new Set(['listen', 'mouse', 'clipboard']);
const HOSTDEV_CHILDREN = new Set(['source']);
const CPUTUNE_CHILDREN = new Set(['shares']);

function only(el: XmlElement, allowed: Set<string>): void {
  for (const c of el.children) {
    if (!allowed.has(c.name)) throw bad(`unsupported element <${c.name}> inside <${el.name}> (line ${c.line})`);
  }
}

// Attribute and child names read in a loop, hoisted so a parse does not build the lists again.
const LOADER_ATTRS = ['readonly', 'type', 'format'] as const;
const OS_TEXTS = ['kernel', 'initrd', 'cmdline'] as const;
const INTERFACE_SOURCE_ATTRS = ['bridge', 'network', 'dev'] as const;
const CHARDEV_SOURCE_ATTRS = ['mode', 'path', 'host', 'service'] as const;
const GRAPHICS_ATTRS = ['listen', 'keymap', 'passwd', 'display', 'xauth'] as const;
const CONTROLLER_INTS = ['ports', 'maxGrantFrames', 'maxEventChannels'] as const;

function parseOS(el: XmlElement): DomainOS {
  only(el, OS_CHILDREN);
  const t = child(el, 'type');
  if (!t || t.text.trim() === '') throw bad('missing <os><type> in domain XML');
  const os: DomainOS = { type: t.text.trim() };
  if (attr(t, 'arch') !== undefined) os.arch = attr(t, 'arch');
  if (attr(t, 'machine') !== undefined) os.machine = attr(t, 'machine');
  const loader = child(el, 'loader');
  if (loader) {
    os.loader = { path: loader.text.trim() };
    for (const k of LOADER_ATTRS) {
      const v = attr(loader, k);
      if (v !== undefined) os.loader[k] = v;
    }
  }
  for (const k of OS_TEXTS) {
    const c = child(el, k);
    if (c) os[k] = c.text;
  }
  const acpi = child(el, 'acpi');
  if (acpi) os.acpiTables = childrenNamed(acpi, 'table').map((tb) => ({ type: reqAttr(tb, 'type'), path: tb.text.trim() }));
  const boots = childrenNamed(el, 'boot').map((b) => reqAttr(b, 'dev'));
  if (boots.length > 0) os.boot = boots;
  return os;
}

function parseFeatures(el: XmlElement): DomainFeatures {
  const f: DomainFeatures = { switches: new Map() };
  for (const c of el.children) {
    // Only plain on/off switches are modelled; anything richer must not be flattened silently.
    // Attribute names are unique (the XML parser refuses duplicates): any but 'state' shows in the count.
    if (c.name !== 'xen' && (c.children.length > 0 || c.attrs.size > (c.attrs.has('state') ? 1 : 0))) {
      throw bad(`unsupported feature <${c.name}> with settings (line ${c.line})`);
    }
    if (c.name === 'xen') {
      f.xen = {};
      for (const x of c.children) {
        if (x.name === 'e820_host') f.xen.e820_host = onOff(attr(x, 'state'), x);
        else if (x.name === 'passthrough') {
          f.xen.passthrough = { state: onOff(attr(x, 'state'), x) };
          const mode = attr(x, 'mode');
          if (mode !== undefined) {
            if (mode !== 'sync_pt' && mode !== 'share_pt') throw bad(`invalid passthrough mode '${mode}' (line ${x.line})`);
            f.xen.passthrough.mode = mode;
          }
        } else throw bad(`unsupported Xen feature <${x.name}> (line ${x.line})`);
      }
    } else {
      f.switches.set(c.name, onOff(attr(c, 'state'), c));
    }
  }
  return f;
}

function parseCPU(el: XmlElement): DomainCPU {
  only(el, CPU_CHILDREN);
  const cpu: DomainCPU = { features: childrenNamed(el, 'feature').map((f) => ({ policy: attr(f, 'policy') ?? 'require', name: reqAttr(f, 'name') })) };
  if (attr(el, 'mode') !== undefined) cpu.mode = attr(el, 'mode');
  const numa = child(el, 'numa');
  if (numa) {
    cpu.numa = childrenNamed(numa, 'cell').map((c) => {
      const mem = { ...c, text: reqAttr(c, 'memory') } as XmlElement;
      const cell = { id: intAttr(c, 'id')!, cpus: reqAttr(c, 'cpus'), memory: memoryKiB(mem) };
      const d = child(c, 'distances');
      return d ? { ...cell, distances: childrenNamed(d, 'sibling').map((s) => ({ id: intAttr(s, 'id')!, value: intAttr(s, 'value')! })) } : cell;
    });
  }
  return cpu;
}

function parseClock(el: XmlElement | undefined): DomainClock {
  if (!el) return { offset: 'utc' };
  only(el, CLOCK_CHILDREN);
  const clock: DomainClock = { offset: attr(el, 'offset') ?? 'utc' };
  if (attr(el, 'adjustment') !== undefined) clock.adjustment = attr(el, 'adjustment');
  if (attr(el, 'basis') !== undefined) clock.basis = attr(el, 'basis');
  const timers = childrenNamed(el, 'timer');
  if (timers.length) {
    clock.timers = timers.map((t) => {
      const timer: NonNullable<DomainClock['timers']>[number] = { name: reqAttr(t, 'name') };
      const present = attr(t, 'present');
      if (present !== undefined) {
        if (present !== 'yes' && present !== 'no') throw bad(`invalid present '${present}' on ${where(t)}`);
        timer.present = present;
      }
      if (attr(t, 'tickpolicy') !== undefined) timer.tickpolicy = attr(t, 'tickpolicy');
      if (attr(t, 'mode') !== undefined) timer.mode = attr(t, 'mode');
      return timer;
    });
  }
  return clock;
}

function parseDisk(el: XmlElement): DiskDef {
  only(el, DISK_CHILDREN);
  const d: DiskDef = { type: attr(el, 'type') ?? 'file', device: attr(el, 'device') ?? 'disk', target: { dev: '' } };
  const drv = child(el, 'driver');
  if (drv) {
    d.driver = {};
    if (attr(drv, 'name') !== undefined) d.driver.name = attr(drv, 'name');
    if (attr(drv, 'type') !== undefined) d.driver.type = attr(drv, 'type');
  }
  const src = child(el, 'source');
  if (src) {
    if (d.type === 'network') {
      d.network = { protocol: reqAttr(src, 'protocol'), hosts: childrenNamed(src, 'host').map((h) => {
        const host: { name: string; port?: string } = { name: reqAttr(h, 'name') };
        if (attr(h, 'port') !== undefined) host.port = attr(h, 'port');
        return host;
      }) };
      if (attr(src, 'name') !== undefined) d.network.name = attr(src, 'name');
    } else {
      const p = attr(src, 'file') ?? attr(src, 'dev') ?? attr(src, 'dir');
      if (p !== undefined && p !== '') d.source = p; // an empty path is an empty drive
    }
  }
  const tgt = child(el, 'target');
  if (!tgt) throw bad(`missing <target> in ${where(el)}`);
  let dev = reqAttr(tgt, 'dev');
  if (dev.startsWith('ioemu:')) dev = dev.slice(6); // old xend spelling of an emulated disk
  d.target.dev = dev;
  const bus = attr(tgt, 'bus') ?? defaultBus(dev);
  if (bus !== undefined) d.target.bus = bus;
  if (child(el, 'readonly')) d.readonly = true;
  if (child(el, 'shareable')) d.shareable = true;
  const addr = child(el, 'address');
  if (addr && attr(addr, 'type') === 'drive') {
    d.address = {
      type: 'drive',
      controller: intAttr(addr, 'controller') ?? 0,
      bus: intAttr(addr, 'bus') ?? 0,
      target: intAttr(addr, 'target') ?? 0,
      unit: intAttr(addr, 'unit') ?? 0,
    };
  }
  return d;
}

/** The bus a disk name implies when the XML gives none (libvirt's rule). */
function defaultBus(dev: string): string | undefined {
  if (dev.startsWith('hd')) return 'ide';
  if (dev.startsWith('sd')) return 'scsi';
  if (dev.startsWith('xvd')) return 'xen';
  if (dev.startsWith('vd')) return 'virtio';
  if (dev.startsWith('fd')) return 'fdc';
  return undefined;
}

function diskNameIndex(dev: string): number {
  const m = /^(?:hd|sd|xvd|vd|fd)([a-z]+)/.exec(dev);
  if (!m) return -1;
  let n = 0;
  for (const ch of m[1]!) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

/**
 * Disks are kept ordered by target within each bus, as libvirt keeps them, so that
 * every format lists hda before hdc whatever order the XML used.
 */
function insertDisk(disks: DiskDef[], d: DiskDef): void {
  const idx = diskNameIndex(d.target.dev);
  let at = disks.length;
  for (let i = disks.length - 1; i >= 0; i--) {
    const o = disks[i]!;
    if (o.target.bus !== d.target.bus) continue;
    if (diskNameIndex(o.target.dev) > idx) at = i;
    else break;
  }
  disks.splice(at, 0, d);
}

function parseInterface(el: XmlElement, inactive: boolean): InterfaceDef {
  only(el, INTERFACE_CHILDREN);
  const n: InterfaceDef = { type: reqAttr(el, 'type') };
  const mac = child(el, 'mac');
  if (mac) {
    const m = reqAttr(mac, 'address').toLowerCase();
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m)) throw bad(`invalid MAC address '${attr(mac, 'address')}' (line ${mac.line})`);
    n.mac = m;
  }
  const src = child(el, 'source');
  if (src) {
    n.source = {};
    for (const k of INTERFACE_SOURCE_ATTRS) if (attr(src, k) !== undefined) n.source[k] = attr(src, k);
  }
  const vlan = child(el, 'vlan');
  if (vlan) n.vlan = { trunk: attr(vlan, 'trunk') === 'yes', tags: childrenNamed(vlan, 'tag').map((t) => reqIntAttr(t, 'id', VLAN_TAG)) };
  const vp = child(el, 'virtualport');
  if (vp) n.virtualport = reqAttr(vp, 'type');
  const ips = childrenNamed(el, 'ip');
  if (ips.length) {
    n.ips = ips.map((ip) => {
      const address = reqAttr(ip, 'address');
      const out: NonNullable<InterfaceDef['ips']>[number] = { address, family: attr(ip, 'family') ?? (address.includes(':') ? 'ipv6' : 'ipv4') };
      if (attr(ip, 'prefix') !== undefined) out.prefix = intAttr(ip, 'prefix', IP_PREFIX)!;
      return out;
    });
  }
  const bw = child(el, 'bandwidth');
  const out = bw && child(bw, 'outbound');
  if (out) {
    n.bandwidth = { outbound: { average: intAttr(out, 'average') ?? 0 } };
    if (attr(out, 'peak') !== undefined) n.bandwidth.outbound!.peak = intAttr(out, 'peak');
    if (attr(out, 'burst') !== undefined) n.bandwidth.outbound!.burst = intAttr(out, 'burst');
  }
  const script = child(el, 'script');
  if (script) n.script = reqAttr(script, 'path');
  const be = child(el, 'backenddomain');
  if (be) n.backendDomain = reqAttr(be, 'name');
  const tgt = child(el, 'target');
  // Interface names xen picks itself (vifN.M) mean nothing for an inactive definition.
  if (tgt && attr(tgt, 'dev') !== undefined && !(inactive && /^vif/.test(attr(tgt, 'dev')!))) n.target = attr(tgt, 'dev');
  const model = child(el, 'model');
  if (model) n.model = reqAttr(model, 'type');
  return n;
}

function parseChardev(el: XmlElement, inactive: boolean): ChardevDef {
  only(el, CHARDEV_CHILDREN);
  const c: ChardevDef = { type: attr(el, 'type') ?? 'pty', sources: [], target: {} };
  if (!inactive && attr(el, 'tty') !== undefined && c.type === 'pty') c.tty = attr(el, 'tty');
  for (const s of childrenNamed(el, 'source')) {
    const src: ChardevDef['sources'][number] = {};
    for (const k of CHARDEV_SOURCE_ATTRS) if (attr(s, k) !== undefined) src[k] = attr(s, k);
    if (c.type === 'pty' && inactive) continue; // a pty path is assigned when the guest runs
    c.sources.push(src);
  }
  const proto = child(el, 'protocol');
  if (proto) c.protocol = reqAttr(proto, 'type');
  const tgt = child(el, 'target');
  if (tgt) {
    if (attr(tgt, 'type') !== undefined) c.target.type = attr(tgt, 'type');
    if (attr(tgt, 'name') !== undefined) c.target.name = attr(tgt, 'name');
    if (attr(tgt, 'port') !== undefined) c.target.port = intAttr(tgt, 'port', CHARDEV_PORT);
  }
  return c;
}

function parseGraphics(el: XmlElement): GraphicsDef {
  only(el, GRAPHICS_CHILDREN);
  const g: GraphicsDef = { type: reqAttr(el, 'type'), listens: [] };
  const port = intAttr(el, 'port', PORT);
  if (port !== undefined) g.port = port;
  const tls = intAttr(el, 'tlsPort', PORT);
  if (tls !== undefined) g.tlsPort = tls;
  const autoport = attr(el, 'autoport');
  if (autoport !== undefined) g.autoport = autoport === 'yes';
  if (port === -1 && g.type !== 'sdl') g.autoport = true; // port -1 has always meant "pick one"
  for (const k of GRAPHICS_ATTRS) if (attr(el, k) !== undefined) g[k] = attr(el, k);
  if (attr(el, 'fullscreen') !== undefined) g.fullscreen = attr(el, 'fullscreen') === 'yes';
  for (const l of childrenNamed(el, 'listen')) {
    const li: GraphicsDef['listens'][number] = { type: attr(l, 'type') ?? 'address' };
    if (attr(l, 'address') !== undefined) li.address = attr(l, 'address');
    if (attr(l, 'network') !== undefined) li.network = attr(l, 'network');
    g.listens.push(li);
  }
  if (g.listen !== undefined && g.listens.length === 0) g.listens.push({ type: 'address', address: g.listen });
  if (g.listen === undefined && g.listens[0]?.address !== undefined) g.listen = g.listens[0].address;
  const mouse = child(el, 'mouse');
  if (mouse) g.mouseMode = reqAttr(mouse, 'mode');
  const clip = child(el, 'clipboard');
  if (clip) g.clipboard = reqAttr(clip, 'copypaste');
  return g;
}

function parseHostdev(el: XmlElement): HostdevDef {
  only(el, HOSTDEV_CHILDREN);
  const h: HostdevDef = { mode: attr(el, 'mode') ?? 'subsystem', type: reqAttr(el, 'type'), managed: attr(el, 'managed') === 'yes' };
  const src = child(el, 'source');
  if (!src) throw bad(`missing <source> in ${where(el)}`);
  if (attr(src, 'writeFiltering') !== undefined) h.writeFiltering = attr(src, 'writeFiltering');
  const a = child(src, 'address');
  if (!a) throw bad(`missing <address> in ${where(src)}`);
  if (h.type === 'pci') {
    h.pci = {
      domain: intAttr(a, 'domain', PCI_DOMAIN) ?? 0,
      bus: intAttr(a, 'bus', PCI_BUS) ?? 0,
      slot: intAttr(a, 'slot', PCI_SLOT) ?? 0,
      function: intAttr(a, 'function', PCI_FUNCTION) ?? 0,
    };
  } else if (h.type === 'usb') {
    h.usb = { bus: intAttr(a, 'bus', HEX) ?? 0, device: intAttr(a, 'device', HEX) ?? 0 };
  } else throw bad(`unsupported hostdev type '${h.type}' (line ${el.line})`);
  return h;
}

function parseDevices(el: XmlElement | undefined, inactive: boolean): DomainDef['devices'] {
  const dv = emptyDevices();
  if (!el) return dv;
  for (const c of el.children) {
    switch (c.name) {
      case 'emulator': dv.emulator = c.text.trim(); break;
      case 'disk': insertDisk(dv.disks, parseDisk(c)); break;
      case 'controller': {
        const ctl: DomainDef['devices']['controllers'][number] = { type: reqAttr(c, 'type'), index: intAttr(c, 'index') ?? 0 };
        if (attr(c, 'model') !== undefined) ctl.model = attr(c, 'model');
        for (const k of CONTROLLER_INTS) {
          const v = intAttr(c, k);
          if (v !== undefined) ctl[k] = v;
        }
        dv.controllers.push(ctl);
        break;
      }
      case 'interface': dv.interfaces.push(parseInterface(c, inactive)); break;
      case 'serial': dv.serials.push(parseChardev(c, inactive)); break;
      case 'parallel': dv.parallels.push(parseChardev(c, inactive)); break;
      case 'console': dv.consoles.push(parseChardev(c, inactive)); break;
      case 'channel': dv.channels.push(parseChardev(c, inactive)); break;
      case 'input': {
        const i: DomainDef['devices']['inputs'][number] = { type: reqAttr(c, 'type') };
        if (attr(c, 'bus') !== undefined) i.bus = attr(c, 'bus');
        dv.inputs.push(i);
        break;
      }
      case 'graphics': dv.graphics.push(parseGraphics(c)); break;
      case 'sound': dv.sounds.push({ model: reqAttr(c, 'model') }); break;
      case 'video': {
        const m = child(c, 'model');
        if (!m) throw bad(`missing <model> in ${where(c)}`);
        const v: DomainDef['devices']['videos'][number] = { model: reqAttr(m, 'type') };
        const vram = intAttr(m, 'vram');
        if (vram !== undefined) v.vram = vram;
        const heads = intAttr(m, 'heads');
        if (heads !== undefined) v.heads = heads;
        if (attr(m, 'primary') === 'yes') v.primary = true;
        dv.videos.push(v);
        break;
      }
      case 'hostdev': dv.hostdevs.push(parseHostdev(c)); break;
      case 'memballoon': dv.memballoon = { model: reqAttr(c, 'model') }; break;
      default: throw bad(`unsupported device <${c.name}> (line ${c.line})`);
    }
  }
  return dv;
}

/**
 * The first child of each name <domain> may hold, found in one pass over its children that
 * also refuses any other element (a lookup per name rescanned the children each time).
 */
class TopLevel {
  name: XmlElement | undefined = undefined;
  uuid: XmlElement | undefined = undefined;
  title: XmlElement | undefined = undefined;
  description: XmlElement | undefined = undefined;
  memory: XmlElement | undefined = undefined;
  currentMemory: XmlElement | undefined = undefined;
  vcpu: XmlElement | undefined = undefined;
  bootloader: XmlElement | undefined = undefined;
  bootloaderArgs: XmlElement | undefined = undefined;
  cputune: XmlElement | undefined = undefined;
  os: XmlElement | undefined = undefined;
  features: XmlElement | undefined = undefined;
  cpu: XmlElement | undefined = undefined;
  clock: XmlElement | undefined = undefined;
  onPoweroff: XmlElement | undefined = undefined;
  onReboot: XmlElement | undefined = undefined;
  onCrash: XmlElement | undefined = undefined;
  devices: XmlElement | undefined = undefined;
  commandline: XmlElement | undefined = undefined;

  constructor(root: XmlElement) {
    for (const c of root.children) {
      switch (c.name) {
        case 'name': this.name ??= c; break;
        case 'uuid': this.uuid ??= c; break;
        case 'title': this.title ??= c; break;
        case 'description': this.description ??= c; break;
        case 'memory': this.memory ??= c; break;
        case 'currentMemory': this.currentMemory ??= c; break;
        case 'vcpu': this.vcpu ??= c; break;
        case 'bootloader': this.bootloader ??= c; break;
        case 'bootloader_args': this.bootloaderArgs ??= c; break;
        case 'cputune': this.cputune ??= c; break;
        case 'os': this.os ??= c; break;
        case 'features': this.features ??= c; break;
        case 'cpu': this.cpu ??= c; break;
        case 'clock': this.clock ??= c; break;
        case 'on_poweroff': this.onPoweroff ??= c; break;
        case 'on_reboot': this.onReboot ??= c; break;
        case 'on_crash': this.onCrash ??= c; break;
        case 'devices': this.devices ??= c; break;
        case 'xen:commandline': this.commandline ??= c; break;
        default: throw bad(`unsupported element <${c.name}> in domain XML (line ${c.line})`);
      }
    }
  }
}

/** Parse domain XML into the model. A missing uuid gets a fresh random one. */
export function parseDomainXML(xml: string, opts: { inactive?: boolean } = {}): DomainDef {
  return domainFromTree(parseXml(xml), opts);
}

/** The model from an already parsed <domain> element (for callers holding a tree). */
export function domainFromTree(root: XmlElement, opts: { inactive?: boolean } = {}): DomainDef {
  const inactive = opts.inactive ?? false;
  if (root.name !== 'domain') throw bad(`expected root element <domain>, found <${root.name}>`);
  const type = attr(root, 'type');
  if (!type) throw bad("missing domain type attribute <domain type='…'>");
  const top = new TopLevel(root);

  const nameEl = top.name;
  const name = nameEl?.text.trim();
  if (!name) throw bad('missing <name> in domain XML');
  if (name.includes('/')) throw bad(`domain name '${name}' must not contain '/'`);

  const uuidEl = top.uuid;
  let uuid: string;
  if (uuidEl) {
    const u = canonicalUUID(uuidEl.text);
    if (!u) throw bad(`malformed uuid '${uuidEl.text.trim()}'`);
    uuid = u;
  } else uuid = generateUUID();

  const memEl = top.memory;
  if (!memEl) throw bad('missing <memory> in domain XML');
  const memory = memoryKiB(memEl);
  const curEl = top.currentMemory;
  let currentMemory = curEl ? memoryKiB(curEl) : memory;
  if (currentMemory > memory) currentMemory = memory;

  const osEl = top.os;
  // A Xen guest defined by its bootloader alone needs no <os>: it is paravirtualised.
  if (!osEl && !(type === 'xen' && top.bootloader)) throw bad('missing <os> in domain XML');

  const def: DomainDef = {
    type,
    name,
    uuid,
    memory,
    currentMemory,
    vcpus: 1,
    os: osEl ? parseOS(osEl) : { type: 'linux' },
    clock: parseClock(top.clock),
    onPoweroff: top.onPoweroff ? top.onPoweroff.text.trim() : 'destroy',
    onReboot: top.onReboot ? top.onReboot.text.trim() : 'restart',
    onCrash: top.onCrash ? top.onCrash.text.trim() : 'destroy',
    devices: parseDevices(top.devices, inactive),
  };
  const idAttr = attr(root, 'id');
  if (!inactive && idAttr !== undefined) {
    const id = int(idAttr, 'domain id', { allowNegative: true, max: 0x7fffffff });
    if (id >= 0) def.id = id;
  }
  if (top.title) def.title = top.title.text;
  if (top.description) def.description = top.description.text;
  const tune = top.cputune;
  if (tune) {
    only(tune, CPUTUNE_CHILDREN);
    const shares = child(tune, 'shares');
    def.cputune = {};
    if (shares) def.cputune.shares = int(shares.text, '<cputune><shares>', { max: 262144 });
  }
  const vcpuEl = top.vcpu;
  if (vcpuEl) {
    def.vcpus = int(vcpuEl.text, '<vcpu> count', VCPUS);
    if (def.vcpus === 0) throw bad('<vcpu> count must be at least 1');
    const cur = intAttr(vcpuEl, 'current', VCPUS);
    if (cur !== undefined) {
      if (cur === 0 || cur > def.vcpus) throw bad(`<vcpu current='${cur}'> must be between 1 and ${def.vcpus}`);
      if (cur !== def.vcpus) def.vcpuCurrent = cur;
    }
    if (attr(vcpuEl, 'cpuset') !== undefined) def.cpuset = attr(vcpuEl, 'cpuset');
  }
  const bl = top.bootloader;
  if (bl) def.bootloader = bl.text.trim();
  const bla = top.bootloaderArgs;
  if (bla) def.bootloaderArgs = bla.text;
  const feat = top.features;
  if (feat) def.features = parseFeatures(feat);
  const cpu = top.cpu;
  if (cpu) def.cpu = parseCPU(cpu);
  const cmd = top.commandline;
  if (cmd) def.emulatorArgs = childrenNamed(cmd, 'xen:arg').map((a) => reqAttr(a, 'value'));
  const problem = domainDefProblem(def);
  if (problem) throw bad(problem);
  return def;
}
