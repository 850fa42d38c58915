/**
 * Domain model -> domain XML, in libvirt's exact layout: two-space indent, attributes
 * in libvirt's order, single quotes, empty elements self-closed.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { escapeAttr as escapeAttrSlow, escapeText as escapeTextSlow } from '../xml/tree.js';

// Characters XML 1.0 cannot carry at all, even escaped (controls, non-characters, lone surrogates).
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkXmlChars(s: string): string {
  const m = NOT_XML.exec(s);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new VirError(`cannot write U+${code} in domain XML (value ${JSON.stringify(s.slice(0, 80))})`, {
      code: ErrorCode.XML_ERROR,
      domain: ErrorDomain.DOMAIN,
    });
  }
  return s;
}

// Almost every value needs no escaping: test once, and only then take the full path.
const NEEDS_ATTR_ESCAPE = /[&<>'"\n\r\t\x00-\x1f\ud800-\udfff\ufffe\uffff]/;
const NEEDS_TEXT_ESCAPE = /[&<>\x00-\x1f\ud800-\udfff\ufffe\uffff]/;
const escapeAttr = (s: string) => (NEEDS_ATTR_ESCAPE.test(s) ? escapeAttrSlow(checkXmlChars(s)) : s);
const escapeText = (s: string) => (NEEDS_TEXT_ESCAPE.test(s) ? escapeTextSlow(checkXmlChars(s)) : s);
const INDENT = Array.from({ length: 16 }, (_, i) => '  '.repeat(i));
import type {
  ChardevDef,
  DiskDef,
  DomainDef,
  DomainFeatures,
  GraphicsDef,
  HostdevDef,
  InterfaceDef,
} from './types.js';

/** Attribute list: undefined values are skipped so optional attributes just disappear. */
type Attrs = [string, string | number | undefined][];

function attrs(list: Attrs): string {
  let s = '';
  for (const [k, v] of list) if (v !== undefined) s += ` ${k}='${escapeAttr(String(v))}'`;
  return s;
}

class Out {
  private out = '';
  line(depth: number, s: string): void {
    this.out += (INDENT[depth] ?? '  '.repeat(depth)) + s + '\n';
  }
  empty(depth: number, name: string, a: Attrs = []): void {
    this.line(depth, `<${name}${attrs(a)}/>`);
  }
  text(depth: number, name: string, text: string, a: Attrs = []): void {
    this.line(depth, `<${name}${attrs(a)}>${escapeText(text)}</${name}>`);
  }
  toString(): string {
    return this.out;
  }
}

// libvirt's order for the simple on/off features; names it does not know come after.
const FEATURE_ORDER = ['acpi', 'apic', 'pae', 'hap', 'viridian', 'privnet', 'nonpae'];

function formatFeatures(o: Out, f: DomainFeatures): void {
  const names = [...f.switches.keys()].sort((a, b) => rank(a) - rank(b));
  if (names.length === 0 && !f.xen) return;
  o.line(1, '<features>');
  for (const n of names) {
    const state = f.switches.get(n);
    o.empty(2, n, state === 'off' ? [['state', 'off']] : []);
  }
  if (f.xen) {
    o.line(2, '<xen>');
    if (f.xen.e820_host) o.empty(3, 'e820_host', [['state', f.xen.e820_host]]);
    if (f.xen.passthrough) o.empty(3, 'passthrough', [['state', f.xen.passthrough.state], ['mode', f.xen.passthrough.mode]]);
    o.line(2, '</xen>');
  }
  o.line(1, '</features>');
}

function rank(name: string): number {
  const i = FEATURE_ORDER.indexOf(name);
  return i < 0 ? FEATURE_ORDER.length : i;
}

function formatDisk(o: Out, d: DiskDef): void {
  o.line(2, `<disk${attrs([['type', d.type], ['device', d.device]])}>`);
  if (d.driver && (d.driver.name !== undefined || d.driver.type !== undefined)) {
    o.empty(3, 'driver', [['name', d.driver.name], ['type', d.driver.type]]);
  }
  if (d.network) {
    const n = d.network;
    const a: Attrs = [['protocol', n.protocol], ['name', n.name]];
    if (n.hosts.length === 0) o.empty(3, 'source', a);
    else {
      o.line(3, `<source${attrs(a)}>`);
      for (const h of n.hosts) o.empty(4, 'host', [['name', h.name], ['port', h.port]]);
      o.line(3, '</source>');
    }
  } else if (d.source !== undefined) {
    o.empty(3, 'source', [[d.type === 'block' ? 'dev' : d.type === 'dir' ? 'dir' : 'file', d.source]]);
  }
  o.empty(3, 'target', [['dev', d.target.dev], ['bus', d.target.bus]]);
  if (d.readonly) o.empty(3, 'readonly');
  if (d.shareable) o.empty(3, 'shareable');
  if (d.address) {
    const a = d.address;
    o.empty(3, 'address', [['type', 'drive'], ['controller', a.controller], ['bus', a.bus], ['target', a.target], ['unit', a.unit]]);
  }
  o.line(2, '</disk>');
}

function formatInterface(o: Out, n: InterfaceDef): void {
  o.line(2, `<interface${attrs([['type', n.type]])}>`);
  if (n.mac) o.empty(3, 'mac', [['address', n.mac]]);
  if (n.source) o.empty(3, 'source', [['bridge', n.source.bridge], ['network', n.source.network], ['dev', n.source.dev]]);
  if (n.vlan) {
    o.line(3, `<vlan${n.vlan.trunk ? " trunk='yes'" : ''}>`);
    for (const t of n.vlan.tags) o.empty(4, 'tag', [['id', t]]);
    o.line(3, '</vlan>');
  }
  if (n.virtualport) o.empty(3, 'virtualport', [['type', n.virtualport]]);
  for (const ip of n.ips ?? []) o.empty(3, 'ip', [['address', ip.address], ['family', ip.family], ['prefix', ip.prefix]]);
  if (n.bandwidth?.outbound) {
    const b = n.bandwidth.outbound;
    o.line(3, '<bandwidth>');
    o.empty(4, 'outbound', [['average', b.average], ['peak', b.peak], ['burst', b.burst]]);
    o.line(3, '</bandwidth>');
  }
  if (n.script !== undefined) o.empty(3, 'script', [['path', n.script]]);
  if (n.backendDomain !== undefined) o.empty(3, 'backenddomain', [['name', n.backendDomain]]);
  if (n.target !== undefined) o.empty(3, 'target', [['dev', n.target]]);
  if (n.model !== undefined) o.empty(3, 'model', [['type', n.model]]);
  o.line(2, '</interface>');
}

function formatChardev(o: Out, kind: string, c: ChardevDef): void {
  o.line(2, `<${kind}${attrs([['type', c.type], ['tty', c.tty]])}>`);
  for (const s of c.sources) o.empty(3, 'source', [['mode', s.mode], ['host', s.host], ['service', s.service], ['path', s.path]]);
  if (c.protocol) o.empty(3, 'protocol', [['type', c.protocol]]);
  o.empty(3, 'target', [['type', c.target.type], ['name', c.target.name], ['port', c.target.port]]);
  o.line(2, `</${kind}>`);
}

function formatGraphics(o: Out, g: GraphicsDef): void {
  const yesNo = (b: boolean | undefined) => (b === undefined ? undefined : b ? 'yes' : 'no');
  let a: Attrs;
  if (g.type === 'sdl') {
    a = [['type', g.type], ['display', g.display], ['xauth', g.xauth], ['fullscreen', yesNo(g.fullscreen)]];
  } else {
    a = [
      ['type', g.type],
      ['port', g.port],
      ['tlsPort', g.tlsPort],
      ['autoport', yesNo(g.autoport)],
      ['listen', g.listen],
      ['keymap', g.keymap],
      ['passwd', g.passwd],
    ];
  }
  const hasChildren = g.listens.length > 0 || g.mouseMode !== undefined || g.clipboard !== undefined;
  if (!hasChildren) {
    o.empty(2, 'graphics', a);
    return;
  }
  o.line(2, `<graphics${attrs(a)}>`);
  for (const l of g.listens) o.empty(3, 'listen', [['type', l.type], ['address', l.address], ['network', l.network]]);
  if (g.mouseMode !== undefined) o.empty(3, 'mouse', [['mode', g.mouseMode]]);
  if (g.clipboard !== undefined) o.empty(3, 'clipboard', [['copypaste', g.clipboard]]);
  o.line(2, '</graphics>');
}

const hex = (n: number, width: number) => '0x' + n.toString(16).padStart(width, '0');

function formatHostdev(o: Out, h: HostdevDef): void {
  o.line(2, `<hostdev${attrs([['mode', h.mode], ['type', h.type], ['managed', h.managed ? 'yes' : 'no']])}>`);
  o.line(3, `<source${attrs([['writeFiltering', h.writeFiltering]])}>`);
  if (h.pci) {
    const p = h.pci;
    o.empty(4, 'address', [['domain', hex(p.domain, 4)], ['bus', hex(p.bus, 2)], ['slot', hex(p.slot, 2)], ['function', hex(p.function, 1)]]);
  } else if (h.usb) {
    o.empty(4, 'address', [['bus', h.usb.bus], ['device', h.usb.device]]);
  }
  o.line(3, '</source>');
  o.line(2, '</hostdev>');
}

/** Format a domain as libvirt does (the layout of `virsh dumpxml`). */
export function formatDomainXML(def: DomainDef, opts: { inactive?: boolean } = {}): string {
  const o = new Out();
  const id = !opts.inactive && def.id !== undefined && def.id >= 0 ? def.id : undefined;
  const ns = def.emulatorArgs && def.emulatorArgs.length > 0 ? 'http://libvirt.org/schemas/domain/xen/1.0' : undefined;
  o.line(0, `<domain${attrs([['type', def.type], ['id', id], ['xmlns:xen', ns]])}>`);
  o.text(1, 'name', def.name);
  o.text(1, 'uuid', def.uuid);
  if (typeof def['title'] === 'string') o.text(1, 'title', def['title']);
  if (typeof def['description'] === 'string') o.text(1, 'description', def['description']);
  o.text(1, 'memory', String(def.memory), [['unit', 'KiB']]);
  o.text(1, 'currentMemory', String(def.currentMemory), [['unit', 'KiB']]);
  const vcpuCurrent = def.vcpuCurrent !== undefined && def.vcpuCurrent !== def.vcpus ? def.vcpuCurrent : undefined;
  o.text(1, 'vcpu', String(def.vcpus), [['placement', 'static'], ['cpuset', def.cpuset], ['current', vcpuCurrent]]);
  if (def.cputune) {
    o.line(1, '<cputune>');
    if (def.cputune.shares !== undefined) o.text(2, 'shares', String(def.cputune.shares));
    o.line(1, '</cputune>');
  }
  if (def.bootloader !== undefined) o.text(1, 'bootloader', def.bootloader);
  if (def.bootloaderArgs !== undefined) o.text(1, 'bootloader_args', def.bootloaderArgs);

  const os = def.os;
  o.line(1, '<os>');
  o.text(2, 'type', os.type, [['arch', os.arch], ['machine', os.machine]]);
  if (os.loader) {
    const l = os.loader;
    o.text(2, 'loader', l.path, [['readonly', l.readonly], ['type', l.type], ['format', l.format]]);
  }
  if (os.kernel !== undefined) o.text(2, 'kernel', os.kernel);
  if (os.initrd !== undefined) o.text(2, 'initrd', os.initrd);
  if (os.cmdline !== undefined) o.text(2, 'cmdline', os.cmdline);
  if (os.acpiTables && os.acpiTables.length > 0) {
    o.line(2, '<acpi>');
    for (const t of os.acpiTables) o.text(3, 'table', t.path, [['type', t.type]]);
    o.line(2, '</acpi>');
  }
  for (const b of os.boot ?? []) o.empty(2, 'boot', [['dev', b]]);
  o.line(1, '</os>');

  if (def.features) formatFeatures(o, def.features);
  if (def.cpu) {
    const c = def.cpu;
    const a: Attrs = [['mode', c.mode]];
    if (c.features.length === 0 && !c.numa) o.empty(1, 'cpu', a);
    else {
      o.line(1, `<cpu${attrs(a)}>`);
      for (const f of c.features) o.empty(2, 'feature', [['policy', f.policy], ['name', f.name]]);
      if (c.numa) {
        o.line(2, '<numa>');
        for (const cell of c.numa) {
          const ca: Attrs = [['id', cell.id], ['cpus', cell.cpus], ['memory', cell.memory], ['unit', 'KiB']];
          if (!cell.distances || cell.distances.length === 0) o.empty(3, 'cell', ca);
          else {
            o.line(3, `<cell${attrs(ca)}>`);
            o.line(4, '<distances>');
            for (const s of cell.distances) o.empty(5, 'sibling', [['id', s.id], ['value', s.value]]);
            o.line(4, '</distances>');
            o.line(3, '</cell>');
          }
        }
        o.line(2, '</numa>');
      }
      o.line(1, '</cpu>');
    }
  }
  const clk = def.clock;
  const ca: Attrs = [['offset', clk.offset], ['adjustment', clk.adjustment], ['basis', clk.basis]];
  if (!clk.timers || clk.timers.length === 0) o.empty(1, 'clock', ca);
  else {
    o.line(1, `<clock${attrs(ca)}>`);
    for (const t of clk.timers) {
      o.empty(2, 'timer', [['name', t.name], ['tickpolicy', t.tickpolicy], ['present', t.present], ['mode', t.mode]]);
    }
    o.line(1, '</clock>');
  }
  o.text(1, 'on_poweroff', def.onPoweroff);
  o.text(1, 'on_reboot', def.onReboot);
  o.text(1, 'on_crash', def.onCrash);

  const dv = def.devices;
  o.line(1, '<devices>');
  if (dv.emulator !== undefined) o.text(2, 'emulator', dv.emulator);
  for (const d of dv.disks) formatDisk(o, d);
  for (const c of dv.controllers) {
    o.empty(2, 'controller', [
      ['type', c.type],
      ['index', c.index],
      ['model', c.model],
      ['ports', c.ports],
      ['maxGrantFrames', c.maxGrantFrames],
      ['maxEventChannels', c.maxEventChannels],
    ]);
  }
  for (const n of dv.interfaces) formatInterface(o, n);
  for (const c of dv.serials) formatChardev(o, 'serial', c);
  for (const c of dv.parallels) formatChardev(o, 'parallel', c);
  for (const c of dv.consoles) formatChardev(o, 'console', c);
  for (const c of dv.channels) formatChardev(o, 'channel', c);
  for (const i of dv.inputs) o.empty(2, 'input', [['type', i.type], ['bus', i.bus]]);
  for (const g of dv.graphics) formatGraphics(o, g);
  for (const s of dv.sounds) o.empty(2, 'sound', [['model', s.model]]);
  for (const v of dv.videos) {
    o.line(2, '<video>');
    o.empty(3, 'model', [['type', v.model], ['vram', v.vram], ['heads', v.heads], ['primary', v.primary ? 'yes' : undefined]]);
    o.line(2, '</video>');
  }
  for (const h of dv.hostdevs) formatHostdev(o, h);
  if (dv.memballoon) o.empty(2, 'memballoon', [['model', dv.memballoon.model]]);
  o.line(1, '</devices>');
  if (ns) {
    o.line(1, '<xen:commandline>');
    for (const a of def.emulatorArgs!) o.empty(2, 'xen:arg', [['value', a]]);
    o.line(1, '</xen:commandline>');
  }
  o.line(0, '</domain>');
  return o.toString();
}
