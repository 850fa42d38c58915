/**
 * xm and xl configuration files -> the domain model. The two formats share most settings;
 * the differences (disk syntax, spice, vnuma, channels, USB …) are switched on `flavor`.
 */
import {
  canonicalUUID,
  domainDefProblem,
  emptyDevices,
  generateUUID,
  type ChardevDef,
  type DiskDef,
  type DomainDef,
  type GraphicsDef,
  type HostdevDef,
  type InterfaceDef,
  type NumaCell,
} from '../domain/index.js';
import { parseConf } from './conf.js';
import { assignDiskDefaults, bootFromLetters, parseChardevSpec, parseSoundhw, splitDiskTarget } from './xen-common.js';
import { confErr, HVMLOADER, keyValues, MAX_MIB, Settings, unsupported, type ConfigOptions, type Flavor } from './xen-config.js';

function parseXmDisk(spec: string, flavor: Flavor): DiskDef {
  const parts = spec.split(',');
  if (parts.length < 3) throw confErr(flavor, `disk '${spec}' needs path, target and mode`);
  let [src = '', targetText = '', mode = ''] = parts.map((p) => p.trim());
  const d: DiskDef = { type: 'block', device: 'disk', target: { dev: '' } };
  const { dev, kind, valid } = splitDiskTarget(targetText);
  if (kind === 'cdrom') d.device = 'cdrom';
  else if (kind === 'floppy') d.device = 'floppy';
  else if (kind !== undefined && kind !== 'disk') throw confErr(flavor, `disk '${spec}': unknown device kind '${kind}'`);
  if (!valid) throw confErr(flavor, `disk '${spec}': invalid target '${dev}'`);
  d.target.dev = dev;
  if (src === '') {
    d.driver = { name: 'phy', type: 'raw' };
  } else {
    let drv = 'phy';
    let path = src;
    const m = /^([a-z0-9]+):(.*)$/.exec(src);
    if (m && !src.startsWith('/')) {
      drv = m[1]!;
      path = m[2]!;
    }
    let fmt = 'raw';
    if (drv === 'tap' || drv === 'tap2') {
      // the image type as the writer spells a driver type (letters, digits, '-', '_')
      const t = /^([A-Za-z0-9_-]+):(.*)$/.exec(path);
      if (!t) throw confErr(flavor, `disk '${spec}': blktap needs an image type (tap:aio:…)`);
      fmt = t[1] === 'aio' ? 'raw' : t[1]!;
      path = t[2]!;
    }
    if (path === '') throw confErr(flavor, `disk '${spec}' has an empty path`);
    d.type = drv === 'phy' ? 'block' : 'file';
    d.driver = { name: drv, type: fmt };
    d.source = path;
  }
  if (mode === 'r' || mode === 'ro') d.readonly = true;
  else if (mode === 'w!' || mode === 'rw!') d.shareable = true;
  else if (mode !== 'w' && mode !== 'rw' && mode !== '') throw confErr(flavor, `disk '${spec}': invalid mode '${mode}'`);
  return d;
}

/** xl's disk spec: positional target,format,vdev,access then key=value settings. */
function parseXlDisk(spec: string): DiskDef {
  const kv = new Map<string, string>();
  const positional: string[] = [];
  let target: string | undefined;
  const parts = spec.split(',');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!.trim();
    const eq = p.indexOf('=');
    const key = eq < 0 ? '' : p.slice(0, eq);
    if (key === 'target') {
      // target= swallows the rest of the spec, commas included.
      target = [p.slice(eq + 1), ...parts.slice(i + 1)].join(',');
      break;
    }
    if (eq >= 0 && /^[a-z_-]+$/.test(key)) kv.set(key, p.slice(eq + 1));
    else positional.push(p);
  }
  const pos = ['target', 'format', 'vdev', 'access'];
  positional.forEach((v, i) => {
    const k = pos[i];
    if (v === '') return; // an empty position just keeps the default
    if (!k) throw confErr('xl', `disk '${spec}': too many positional parameters`);
    if (k === 'target') target = v;
    else kv.set(k, v);
  });
  let vdev = kv.get('vdev') ?? '';
  const d: DiskDef = { type: 'file', device: 'disk', target: { dev: '' } };
  const devtype = kv.get('devtype');
  if (vdev.endsWith(':cdrom')) {
    vdev = vdev.slice(0, -6);
    d.device = 'cdrom';
  }
  if (devtype === 'cdrom') d.device = 'cdrom';
  if (!/^[a-z]+[0-9]*$/.test(vdev)) throw confErr('xl', `disk '${spec}': missing or invalid vdev`);
  d.target.dev = vdev;
  const access = kv.get('access') ?? 'rw';
  if (access === 'ro' || access === 'r') d.readonly = true;
  else if (access !== 'rw' && access !== 'w') throw confErr('xl', `disk '${spec}': invalid access '${access}'`);
  if (d.device === 'cdrom') d.readonly = true;
  const format = kv.get('format') ?? 'raw';
  const backend = kv.get('backendtype');
  if (target !== undefined && target !== '') {
    const rbd = /^rbd:([^:]+)(.*)$/.exec(target);
    if (rbd) {
      d.type = 'network';
      d.network = { protocol: 'rbd', name: rbd[1]!, hosts: [] };
      const mon = /:mon_host=((?:[^:\\]|\\.)*)/.exec(rbd[2]!);
      if (mon) {
        for (const h of mon[1]!.split('\\;')) {
          const [name, port] = h.split('\\:');
          d.network.hosts.push(port === undefined ? { name: name! } : { name: name!, port });
        }
      }
      d.driver = { name: 'qemu', type: format };
    } else {
      d.source = target;
      const phy = backend === 'phy';
      d.type = phy ? 'block' : 'file';
      d.driver = { name: phy ? 'phy' : backend === 'tap' ? 'tap' : 'qemu', type: format };
    }
  } else {
    d.type = 'file';
    d.driver = { name: 'qemu', type: format };
  }
  return d;
}

/**
 * A vif rate as xl reads it (xl-network-configuration(5)): RATE/s with suffix GB/MB/KB/B
 * (bytes, powers of 1000) or Gb/Mb/Kb/b (bits), optionally @INTERVAL (us, ms, s). The
 * domain model keeps the average in KB/s (what xenvirt writes back as "NKB/s"), so a rate
 * that is not a whole number of KB/s, or a replenishment interval other than xl's 50 ms,
 * has no place in it and is refused rather than rounded or dropped.
 */
export function rateKBps(rate: string, spec: string, flavor: Flavor): number {
  const m = /^(\d{1,12})([GMK]?)([Bb])\/s(?:@(\d{1,12})(us|ms|s)?)?$/.exec(rate);
  if (!m) throw confErr(flavor, `vif '${spec}': invalid rate '${rate}'`);
  const unit = { '': 1, K: 1e3, M: 1e6, G: 1e9 }[m[2] as '' | 'K' | 'M' | 'G'];
  const bytes = (Number(m[1]) * unit) / (m[3] === 'b' ? 8 : 1);
  if (m[4] !== undefined) {
    const us = Number(m[4]) * (m[5] === 'us' ? 1 : m[5] === 'ms' ? 1e3 : 1e6);
    if (us !== 50_000) throw unsupported(flavor, `vif '${spec}': 'rate' interval '@${m[4]}${m[5] ?? ''}' is not modelled by xenvirt (only the default 50ms)`);
  }
  if (!Number.isInteger(bytes / 1000) || bytes < 1000) throw unsupported(flavor, `vif '${spec}': 'rate' ${rate} is not a whole number of KB/s, which xenvirt keeps`);
  return bytes / 1000;
}

const VIF_KEYS = new Set(['mac', 'bridge', 'ip', 'rate', 'script', 'vifname', 'model', 'type', 'backend']);

function parseVif(spec: string, flavor: Flavor): InterfaceDef {
  const kv = keyValues(spec);
  for (const k of kv.keys()) if (!VIF_KEYS.has(k)) throw unsupported(flavor, `vif '${spec}': key '${k}' is not modelled by xenvirt`);
  const bridge = kv.get('bridge');
  const script = kv.get('script');
  const n: InterfaceDef = { type: bridge ? 'bridge' : 'ethernet' };
  const mac = kv.get('mac');
  if (mac !== undefined) {
    if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) throw confErr(flavor, `vif '${spec}': invalid MAC address '${mac}'`);
    n.mac = mac.toLowerCase();
  }
  if (bridge) {
    // Open vSwitch bridges carry VLANs: br.TAG or br:TAG:TAG… (trunk)
    const ovs = (script ?? '').includes('openvswitch');
    const m = ovs ? /^([^.:]+)([.:])(.*)$/.exec(bridge) : null;
    if (m) {
      const tags = m[3]!.split(':').map((t) => {
        if (!/^\d+$/.test(t) || Number(t) > 4095) throw confErr(flavor, `vif '${spec}': invalid VLAN tag '${t}'`);
        return Number(t);
      });
      n.source = { bridge: m[1]! };
      n.vlan = { trunk: m[2] === ':' && tags.length > 1, tags };
    } else n.source = { bridge };
    if (ovs) n.virtualport = 'openvswitch';
  }
  const ip = kv.get('ip');
  if (ip) n.ips = ip.split(/\s+/).filter(Boolean).map((address) => ({ address, family: address.includes(':') ? 'ipv6' : 'ipv4' }));
  const rate = kv.get('rate');
  if (rate) n.bandwidth = { outbound: { average: rateKBps(rate, spec, flavor) } };
  if (script) n.script = script;
  const vifname = kv.get('vifname');
  if (vifname) n.target = vifname;
  const model = kv.get('model');
  const type = kv.get('type');
  if (model) n.model = model;
  else if (type === 'netfront' || type === 'vif') n.model = 'netfront';
  // type=ioemu is the default reading of an HVM vif (emulated + PV) for xl and xend, so the
  // model keeps its meaning without it; any other type has no place in the model.
  if (type !== undefined && type !== 'ioemu' && type !== 'netfront' && type !== 'vif') throw unsupported(flavor, `vif '${spec}': type '${type}' is not modelled by xenvirt`);
  const be = kv.get('backend');
  if (be) n.backendDomain = be;
  return n;
}

function parsePci(spec: string, flavor: Flavor): HostdevDef {
  const [addr = '', ...opts] = spec.split(',');
  const m = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/.exec(addr.trim());
  if (!m) throw confErr(flavor, `pci '${spec}': expected [DDDD:]BB:SS.F`);
  const h: HostdevDef = {
    mode: 'subsystem',
    type: 'pci',
    managed: false,
    pci: { domain: parseInt(m[1] ?? '0', 16), bus: parseInt(m[2]!, 16), slot: parseInt(m[3]!, 16), function: Number(m[4]) },
  };
  if (h.pci!.slot > 0x1f) throw confErr(flavor, `pci '${spec}': slot out of range`);
  const kv = keyValues(opts.join(','));
  if (kv.get('permissive') === '1') h.writeFiltering = 'no';
  return h;
}

/**
 * VNC settings (top-level for HVM, inside a vfb for PV). vncunused=0 fixes the display;
 * otherwise the display is found at run time, starting from vncdisplay when one is given
 * (xl.cfg(5): the port is 5900 + display), which the model keeps as autoport with a port.
 */
function vncFrom(kv: { get(k: string): string | undefined }, flavor: Flavor): GraphicsDef {
  const g: GraphicsDef = { type: 'vnc', listens: [] };
  const unused = kv.get('vncunused');
  const displayText = kv.get('vncdisplay');
  let display: number | undefined;
  if (displayText !== undefined || unused === '0') {
    const n = displayText === undefined ? 0 : /^\d{1,5}$/.test(displayText) ? Number(displayText) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 65535 - 5900) throw confErr(flavor, `invalid vncdisplay '${displayText}'`);
    display = n;
  }
  if (unused === undefined || unused !== '0') {
    g.port = display === undefined ? -1 : 5900 + display;
    g.autoport = true;
  } else {
    g.port = 5900 + display!;
    g.autoport = false;
  }
  const listen = kv.get('vnclisten');
  if (listen) g.listen = listen;
  g.listens.push(listen ? { type: 'address', address: listen } : { type: 'address' });
  const pw = kv.get('vncpasswd');
  if (pw !== undefined && pw !== '') g.passwd = pw;
  const keymap = kv.get('keymap');
  if (keymap) g.keymap = keymap;
  return g;
}

function sdlFrom(kv: { get(k: string): string | undefined }): GraphicsDef {
  const g: GraphicsDef = { type: 'sdl', listens: [] };
  const display = kv.get('display');
  if (display) g.display = display;
  const xauth = kv.get('xauthority');
  if (xauth) g.xauth = xauth;
  return g;
}

function chardevsFrom(s: Settings, name: string): ChardevDef[] {
  const v = s.raw(name);
  if (v === undefined) return [];
  const specs = s.list(name);
  const out: ChardevDef[] = [];
  specs.forEach((spec, port) => {
    if (spec === 'none' || spec === '') return;
    try {
      out.push(parseChardevSpec(spec, port));
    } catch (e) {
      throw confErr(s.flavor, `config value ${name}: ${(e as Error).message}`);
    }
  });
  return out;
}

function cpuidFeatures(spec: string, flavor: Flavor): { policy: string; name: string }[] {
  const parts = spec.split(',');
  if (parts[0] !== 'host') throw unsupported(flavor, `cpuid '${spec}': only the 'host,…' syntax is supported`);
  const rename: Record<string, string> = { sse3: 'pni', page1gb: 'pdpe1gb', lahfsahf: 'lahf_lm', cmplegacy: 'cmp_legacy', abm: 'abm', altmovcr8: 'cr8legacy', nodeid: 'nodeid_msr', tm: 'tm' };
  return parts.slice(1).map((p) => {
    const [k = '', v] = p.split('=');
    const policy = v === '0' ? 'disable' : v === '1' ? 'force' : v === 'x' ? 'optional' : v === 'k' || v === 's' ? 'optional' : undefined;
    if (!policy) throw confErr(flavor, `cpuid '${spec}': invalid value for '${k}'`);
    return { policy, name: rename[k] ?? k };
  });
}

function parseVnuma(s: Settings): NumaCell[] {
  const v = s.raw('vnuma');
  if (!Array.isArray(v)) throw confErr(s.flavor, 'config value vnuma was malformed: expected a list of lists');
  const cells: NumaCell[] = v.map((node, id) => {
    if (!Array.isArray(node)) throw confErr(s.flavor, 'config value vnuma was malformed: expected a list of lists');
    const kv = new Map<string, string>();
    for (const x of node) {
      if (typeof x !== 'string' || !x.includes('=')) throw confErr(s.flavor, `vnuma entry '${String(x)}' is not key=value`);
      kv.set(x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1));
    }
    const sizeText = kv.get('size') ?? '';
    const size = /^\d{1,12}$/.test(sizeText) ? Number(sizeText) : NaN;
    if (!(size > 0) || size > MAX_MIB) throw confErr(s.flavor, `vnuma node ${id}: invalid size '${sizeText}'`);
    const cpus = kv.get('vcpus');
    if (!cpus) throw confErr(s.flavor, `vnuma node ${id}: missing vcpus`);
    const cell: NumaCell = { id, cpus, memory: size * 1024 };
    const dist = kv.get('vdistances');
    if (dist) {
      cell.distances = dist.split(',').map((d, i) => {
        if (!/^\d{1,9}$/.test(d.trim())) throw confErr(s.flavor, `vnuma node ${id}: invalid distance '${d}'`);
        return { id: i, value: Number(d) };
      });
    }
    return cell;
  });
  return cells;
}

export function domainFromConfig(text: string, flavor: Flavor, _opts: ConfigOptions = {}): DomainDef {
  const s = new Settings(parseConf(text), flavor);
  const name = s.str('name');
  if (!name) throw confErr(flavor, 'config value name was missing');
  const uuidText = s.str('uuid');
  let uuid: string;
  if (uuidText !== undefined) {
    const u = canonicalUUID(uuidText);
    if (!u) throw confErr(flavor, `config value uuid '${uuidText}' is not a UUID`);
    uuid = u;
  } else uuid = generateUUID();

  const builder = s.str('builder');
  const xlType = flavor === 'xl' ? s.str('type') : undefined;
  const hvm = xlType ? xlType === 'hvm' : builder === 'hvm';
  const pvh = xlType === 'pvh';
  if (xlType && !['hvm', 'pv', 'pvh'].includes(xlType)) throw confErr(flavor, `config value type '${xlType}' is not hvm, pv or pvh`);

  const memory = s.int('memory', 0, MAX_MIB) ?? 128;
  const maxmem = Math.max(s.int('maxmem', 0, MAX_MIB) ?? memory, memory);
  const vcpusSetting = s.int('vcpus', 1, 16384) ?? 1;
  const maxvcpus = s.int('maxvcpus', 1, 16384);

  const def: DomainDef = {
    type: 'xen',
    name,
    uuid,
    memory: maxmem * 1024,
    currentMemory: memory * 1024,
    vcpus: maxvcpus ?? vcpusSetting,
    os: hvm
      ? { type: 'hvm', arch: 'x86_64', machine: 'xenfv' }
      : pvh
        ? { type: 'xenpvh', arch: 'x86_64', machine: 'xenpvh' }
        : { type: 'linux', arch: 'x86_64', machine: 'xenpv' },
    clock: { offset: 'utc' },
    onPoweroff: s.str('on_poweroff') ?? 'destroy',
    onReboot: s.str('on_reboot') ?? 'restart',
    // xl's own default is destroy, but libvirt's fixture (xlconfigdata paravirt-cmdline-
    // bogus-extra-root) fixes restart for a file without on_crash, and the fixtures win.
    onCrash: s.str('on_crash') ?? 'restart',
    devices: emptyDevices(),
  };
  for (const k of ['onPoweroff', 'onReboot', 'onCrash'] as const) {
    if (!['destroy', 'restart', 'preserve', 'rename-restart', 'coredump-destroy', 'coredump-restart'].includes(def[k])) {
      throw confErr(flavor, `config value ${k === 'onPoweroff' ? 'on_poweroff' : k === 'onReboot' ? 'on_reboot' : 'on_crash'} '${def[k]}' is not a lifecycle action`);
    }
  }
  if (maxvcpus !== undefined && vcpusSetting < maxvcpus) def.vcpuCurrent = vcpusSetting;
  // xend's vcpu_avail: bitmap of the vCPUs online out of vcpus; the model says "the first N".
  const avail = flavor === 'xm' ? s.int('vcpu_avail', 0, Number.MAX_SAFE_INTEGER) : undefined;
  if (avail !== undefined && maxvcpus === undefined) {
    const n = Math.log2(avail + 1);
    if (!Number.isInteger(n) || n < 1) throw unsupported(flavor, `config setting 'vcpu_avail' = ${avail}: only the first N vCPUs online (1, 3, 7 …) is modelled by xenvirt`);
    if (n < def.vcpus) def.vcpuCurrent = n;
  }
  // The credit scheduler's weight (xl.cfg(5) cpu_weight; xend's too) is <cputune><shares>.
  const weight = s.int('cpu_weight', 1, 65535);
  if (weight !== undefined) def.cputune = { shares: weight };
  const cpus = s.str('cpus');
  if (cpus) def.cpuset = cpus;

  const bootloader = s.str('bootloader');
  if (bootloader) def.bootloader = bootloader;
  const bootargs = flavor === 'xl' ? bootloaderArgs(s) : s.str('bootargs');
  if (bootargs && bootloader) def.bootloaderArgs = bootargs;

  // OS
  const kernel = s.str('kernel');
  const ramdisk = s.str('ramdisk');
  // xl's cmdline wins; otherwise (and always for xm, which has no cmdline) root= and extra= make it.
  let cmdline = flavor === 'xl' ? s.str('cmdline') : undefined;
  if (cmdline !== undefined) s.ignore('root', 'extra'); // xl ignores them when cmdline is set
  else {
    const extra = s.str('extra');
    const root = s.str('root');
    if (root && extra) cmdline = `root=${root} ${extra}`;
    else if (root) cmdline = `root=${root}`;
    else if (extra) cmdline = extra;
  }
  if (hvm) {
    if (flavor === 'xm') {
      def.os.loader = { path: kernel ?? HVMLOADER, type: 'rom', format: 'raw' };
    } else {
      const bios = s.str('bios');
      const override = s.str('bios_path_override');
      if (bios === 'ovmf') def.os.loader = { path: override ?? '/usr/lib/xen/boot/ovmf.bin', readonly: 'yes', type: 'pflash', format: 'raw' };
      else def.os.loader = { path: HVMLOADER, type: 'rom', format: 'raw' };
      if (kernel) def.os.kernel = kernel;
      if (ramdisk && kernel) def.os.initrd = ramdisk;
      if (cmdline && kernel) def.os.cmdline = cmdline;
    }
    const acpiFw = flavor === 'xl' ? s.str('acpi_firmware') : undefined;
    if (acpiFw) def.os.acpiTables = [{ type: 'rawset', path: acpiFw }];
    // xl's default boot order is "cd" (xl.cfg(5)); xend's was "c".
    def.os.boot = bootFromLetters(s.str('boot') ?? (flavor === 'xl' ? 'cd' : 'c'));
  } else {
    if (kernel) def.os.kernel = kernel;
    if (ramdisk) def.os.initrd = ramdisk;
    if (cmdline) def.os.cmdline = cmdline;
    if (!kernel && !bootloader && !pvh) throw confErr(flavor, 'a paravirtualized guest needs a kernel or a bootloader');
  }

  // Features
  const switches = new Map<string, 'on' | 'off'>();
  if (hvm) {
    for (const f of ['acpi', 'apic', 'pae'] as const) if (s.bool(f) ?? true) switches.set(f, 'on');
    const hap = s.bool('hap');
    if (hap !== undefined) switches.set('hap', hap ? 'on' : 'off');
    if (s.bool('viridian')) switches.set('viridian', 'on');
  }
  const xen: NonNullable<DomainDef['features']>['xen'] = {};
  if (flavor === 'xl') {
    if (s.bool('e820_host')) xen.e820_host = 'on';
    const pt = s.str('passthrough');
    if (pt !== undefined) {
      if (pt === 'disabled') xen.passthrough = { state: 'off' };
      else if (pt === 'enabled') xen.passthrough = { state: 'on' };
      else if (pt === 'sync_pt' || pt === 'share_pt') xen.passthrough = { state: 'on', mode: pt };
      else throw confErr(flavor, `config value passthrough '${pt}' is not valid`);
    }
  }
  if (switches.size || xen.e820_host || xen.passthrough) {
    def.features = { switches };
    if (xen.e820_host || xen.passthrough) def.features.xen = xen;
  }

  // CPU
  if (flavor === 'xl') {
    const nested = s.bool('nestedhvm');
    const cpuid = s.str('cpuid');
    if (nested !== undefined || cpuid) {
      def.cpu = { mode: 'host-passthrough', features: [] };
      if (nested === false) def.cpu.features.push({ policy: 'disable', name: hvmVirtFlag() });
      if (cpuid) def.cpu.features.push(...cpuidFeatures(cpuid, flavor));
    }
    if (s.raw('vnuma') !== undefined) {
      def.cpu ??= { features: [] };
      def.cpu.numa = parseVnuma(s);
    }
  }

  // Clock
  const localtime = s.bool('localtime') ?? false;
  if (hvm) {
    def.clock = { offset: 'variable', adjustment: String(s.int('rtc_timeoffset', -(2 ** 31), 2 ** 31) ?? 0), basis: localtime ? 'localtime' : 'utc' };
  } else def.clock = { offset: localtime ? 'localtime' : 'utc', adjustment: 'reset' };
  const timers: NonNullable<DomainDef['clock']['timers']> = [];
  const tsc = flavor === 'xl' ? s.str('tsc_mode') : undefined;
  if (tsc) {
    const mode = { default: 'auto', native: 'native', always_emulate: 'emulate', native_paravirt: 'paravirt' }[tsc];
    if (!mode) throw confErr(flavor, `config value tsc_mode '${tsc}' is not valid`);
    timers.push({ name: 'tsc', present: 'yes', mode });
  }
  const hpet = hvm ? s.bool('hpet') : undefined;
  if (hpet !== undefined) timers.push({ name: 'hpet', present: hpet ? 'yes' : 'no' });
  if (timers.length) def.clock.timers = timers;

  // Devices
  const dv = def.devices;
  const dm = s.str('device_model_override') ?? s.str('device_model');
  // No default path: a config without a device model gets the toolstack's own.
  if (dm && (hvm || flavor === 'xm')) dv.emulator = dm;
  for (const spec of s.list('disk')) {
    if (spec.trim() === '') continue;
    const d = flavor === 'xl' && (spec.includes('=') || !/^[a-z0-9]*:/.test(spec)) && !/^[^,]*,[a-z]+[0-9]*(:(cdrom|disk|floppy))?,(r|w|ro|rw|w!)$/.test(spec) ? parseXlDisk(spec) : parseXmDisk(spec, flavor);
    dv.disks.push(d);
  }
  // xend 3.0.2 kept an HVM guest's cdrom in its own setting rather than in disk.
  const cdrom = hvm ? s.str('cdrom') : undefined;
  if (cdrom && !dv.disks.some((d) => d.target.dev === 'hdc')) {
    const phy = cdrom.startsWith('/dev/');
    dv.disks.push({ type: phy ? 'block' : 'file', device: 'cdrom', driver: { name: phy ? 'phy' : 'file', type: 'raw' }, source: cdrom, target: { dev: 'hdc' }, readonly: true });
  }
  sortDisks(dv.disks);

  // xenbus is always there for Xen guests; its limits live on it.
  const xenbus: DomainDef['devices']['controllers'][number] = { type: 'xenbus', index: 0 };
  if (flavor === 'xl') {
    const gf = s.int('max_grant_frames', 1, 2 ** 31);
    if (gf !== undefined) xenbus.maxGrantFrames = gf;
    const ec = s.int('max_event_channels', 1, 2 ** 31);
    if (ec !== undefined) xenbus.maxEventChannels = ec;
  }
  dv.controllers.push(xenbus);
  assignDiskDefaults(def);
  if (flavor === 'xl') {
    for (const spec of s.list('usbctrl')) {
      const kv = keyValues(spec);
      const version = kv.get('version') ?? '2';
      const type = kv.get('type') ?? 'auto';
      const model = type === 'qusb' ? `qusb${version}` : type === 'devicemodel' ? (version === '1' ? 'piix3-uhci' : 'nec-xhci') : `qusb${version}`;
      const ports = kv.get('ports');
      const ctl: DomainDef['devices']['controllers'][number] = { type: 'usb', index: dv.controllers.filter((c) => c.type === 'usb').length, model };
      if (ports !== undefined) {
        if (!/^\d{1,2}$/.test(ports) || Number(ports) < 1 || Number(ports) > 31) throw confErr(flavor, `usbctrl '${spec}': ports must be 1 to 31`);
        ctl.ports = Number(ports);
      }
      dv.controllers.push(ctl);
    }
  }

  for (const spec of s.list('vif')) dv.interfaces.push(parseVif(spec, flavor));

  if (hvm) {
    dv.serials = chardevsFrom(s, 'serial');
    dv.parallels = chardevsFrom(s, 'parallel');
    const first = dv.serials[0];
    if (first) dv.consoles.push({ ...first, sources: first.sources.map((x) => ({ ...x })), target: { type: 'serial', port: first.target.port ?? 0 } });
  } else dv.consoles.push({ type: 'pty', sources: [], target: { type: 'xen', port: 0 } });

  if (flavor === 'xl') {
    for (const spec of s.list('channel')) {
      const kv = keyValues(spec);
      const conn = kv.get('connection');
      const c: ChardevDef = { type: 'pty', sources: [], target: { type: 'xen' } };
      const nm = kv.get('name');
      if (nm) c.target.name = nm;
      if (conn === 'socket') {
        const path = kv.get('path');
        if (!path) throw confErr(flavor, `channel '${spec}': a socket needs a path`);
        c.type = 'unix';
        c.sources.push({ mode: 'bind', path });
      } else if (conn !== 'pty') throw confErr(flavor, `channel '${spec}': unsupported connection '${conn}'`);
      dv.channels.push(c);
    }
  }

  if (hvm) {
    const usbdev = s.raw('usbdevice');
    if (usbdev !== undefined && (s.bool('usb') ?? true)) {
      for (const u of s.list('usbdevice')) if (u === 'mouse' || u === 'tablet') dv.inputs.push({ type: u, bus: 'usb' });
    }
  }
  // Every Xen guest gets the emulated (HVM) or paravirtual pointer and keyboard.
  const bus = hvm ? 'ps2' : 'xen';
  dv.inputs.push({ type: 'mouse', bus }, { type: 'keyboard', bus });

  // Graphics
  if (hvm) {
    // xl gives an HVM guest VNC unless vnc=0 (xl.cfg(5): vnc defaults to 1); xend did not.
    if (s.bool('vnc') ?? flavor === 'xl') dv.graphics.push(vncFrom({ get: (k) => s.str(k) }, flavor));
    if (s.bool('sdl')) dv.graphics.push(sdlFrom({ get: (k) => s.str(k) }));
    if (flavor === 'xl' && s.bool('spice')) {
      const g: GraphicsDef = { type: 'spice', listens: [] };
      const port = s.int('spiceport', 0, 65535);
      const tls = s.int('spicetls_port', 0, 65535);
      if (port !== undefined) g.port = port;
      if (tls !== undefined) g.tlsPort = tls;
      g.autoport = port === undefined && tls === undefined;
      const host = s.str('spicehost');
      if (host) {
        g.listen = host;
        g.listens.push({ type: 'address', address: host });
      }
      if (s.bool('spicedisable_ticketing') === false) {
        const pw = s.str('spicepasswd');
        if (pw) g.passwd = pw;
      }
      const mouse = s.bool('spiceagent_mouse');
      if (mouse !== undefined) g.mouseMode = mouse ? 'client' : 'server';
      const clip = s.bool('spice_clipboard_sharing');
      // The model has the vdagent only as what clipboard sharing needs.
      if (s.bool('spicevdagent') && !clip) throw unsupported(flavor, 'config setting \'spicevdagent\' without spice_clipboard_sharing is not modelled by xenvirt');
      if (clip !== undefined || mouse !== undefined) g.clipboard = clip ? 'yes' : 'no';
      dv.graphics.push(g);
    }
  } else {
    for (const spec of s.list('vfb')) {
      const kv = keyValues(spec);
      const type = kv.get('type') ?? (kv.get('vnc') === '1' ? 'vnc' : kv.get('sdl') === '1' ? 'sdl' : undefined);
      if (type === 'vnc') dv.graphics.push(vncFrom(kv, flavor));
      else if (type === 'sdl') dv.graphics.push(sdlFrom(kv));
      else throw confErr(flavor, `vfb '${spec}': unknown framebuffer type`);
    }
    // xend before 3.0.4 configured a PV framebuffer with top-level settings, as for HVM.
    if (!s.raw('vfb')) {
      if (s.bool('vnc')) dv.graphics.push(vncFrom({ get: (k) => s.str(k) }, flavor));
      if (s.bool('sdl')) dv.graphics.push(sdlFrom({ get: (k) => s.str(k) }));
    }
  }
  if (hvm) {
    const snd = s.str('soundhw');
    if (snd) dv.sounds = parseSoundhw(snd);
  }
  if (dv.graphics.length) {
    dv.videos.push(hvm ? { model: 'cirrus', vram: 8192, heads: 1, primary: true } : { model: 'xen', vram: 4096, heads: 1, primary: true });
  }
  for (const spec of s.list('pci')) dv.hostdevs.push(parsePci(spec, flavor));
  if (flavor === 'xl') {
    for (const spec of s.list('usbdev')) {
      const kv = keyValues(spec);
      const num = (k: string) => {
        const v = kv.get(k) ?? '';
        return /^\d{1,3}$/.test(v) ? Number(v) : NaN;
      };
      const bus = num('hostbus');
      const device = num('hostaddr');
      if (!Number.isInteger(bus) || !Number.isInteger(device)) throw confErr(flavor, `usbdev '${spec}': needs numeric hostbus and hostaddr`);
      dv.hostdevs.push({ mode: 'subsystem', type: 'usb', managed: false, usb: { bus, device } });
    }
    const args = s.raw('device_model_args');
    if (args !== undefined) def.emulatorArgs = s.list('device_model_args');
  }
  dv.memballoon = { model: 'xen' };
  // Never a silent drop: a setting the reader did not use would be lost by a round trip.
  const unread = s.unread();
  if (unread.length) throw unsupported(flavor, `config setting${unread.length > 1 ? 's' : ''} ${unread.map((n) => `'${n}'`).join(', ')} ${unread.length > 1 ? 'are' : 'is'} not modelled by xenvirt`);
  const problem = domainDefProblem(def);
  if (problem) throw confErr(flavor, problem);
  return def;
}

/**
 * xl's bootloader_args: a list of arguments (or, deprecated, one string xl splits at
 * blanks). The model keeps one string, so an argument holding a blank has no place in it.
 */
function bootloaderArgs(s: Settings): string | undefined {
  const v = s.raw('bootloader_args');
  s.ignore('bootargs'); // xm's name: xl does not read it
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return s.str('bootloader_args');
  const args = s.list('bootloader_args');
  for (const a of args) if (/\s/.test(a)) throw unsupported(s.flavor, `config setting 'bootloader_args': argument '${a}' holds a blank, which the model cannot keep`);
  return args.join(' ');
}

/** The CPU flag nested HVM is expressed with (vmx: the flag libvirt's Xen driver uses). */
function hvmVirtFlag(): string {
  return 'vmx';
}

function diskIdx(dev: string): number {
  const m = /^(?:hd|sd|xvd|vd|fd)([a-z]+)/.exec(dev);
  if (!m) return -1;
  let n = 0;
  for (const ch of m[1]!) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

function sortDisks(disks: DiskDef[]): void {
  const busOf = (d: DiskDef) => (d.target.dev.startsWith('hd') ? 0 : d.target.dev.startsWith('sd') ? 1 : d.target.dev.startsWith('xvd') ? 2 : 3);
  const withPos = disks.map((d, i) => ({ d, i }));
  withPos.sort((a, b) => (busOf(a.d) === busOf(b.d) ? diskIdx(a.d.target.dev) - diskIdx(b.d.target.dev) || a.i - b.i : a.i - b.i));
  disks.splice(0, disks.length, ...withPos.map((x) => x.d));
}
