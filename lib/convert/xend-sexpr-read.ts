/**
 * xend's domain S-expression (what `xm list --long` and xend's HTTP API return) -> the
 * domain model, for xend config versions 1 to 4 (xend 3.0.2, 3.0.3, 3.0.4, 3.1.0+).
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { canonicalUUID, domainDefProblem, emptyDevices, type ChardevDef, type DiskDef, type DomainDef, type GraphicsDef, type InterfaceDef } from '../domain/index.js';
import { parseSexpr, sexprChild, sexprChildren, sexprGet, sexprInt, type Sexpr, type SexprList } from './sexpr.js';
import { assignDiskDefaults, bootFromLetters, parseChardevSpec, parseSoundhw, popcount, splitDiskTarget } from './xen-common.js';

export interface SexprOptions {
  xendConfigVersion?: 1 | 2 | 3 | 4;
  /** Console tty from XenStore, when known (no XenStore => unknown). */
  tty?: string;
  /** VNC port of old-style image graphics from XenStore, when known. */
  vncPort?: number;
}

function err(message: string): VirError {
  return new VirError(message, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.SEXPR });
}

const MAX_MIB = 2 ** 40; // a petabyte of guest memory is already absurd

function mib(node: Sexpr, field: string): number | undefined {
  const v = sexprInt(node, field);
  if (v === undefined) return undefined;
  if (v < 0 || v > MAX_MIB) throw err(`S-expression field '${field}' is out of range: ${v}`);
  return v;
}

// ---------------------------------------------------------------------------------------
// S-expression -> model

function parseDisk(dev: SexprList, kind: string): DiskDef {
  const targetText = sexprGet(dev, 'dev');
  if (!targetText) throw err(`domain information incomplete: ${kind} device has no dev`);
  const uname = sexprGet(dev, 'uname');
  const mode = sexprGet(dev, 'mode') ?? 'w';
  const d: DiskDef = { type: 'file', device: 'disk', target: { dev: '' } };
  // xend accepts unknown suffixes (it ignores them), so only cdrom/floppy change the kind.
  const { dev: target, kind: suffix, valid } = splitDiskTarget(targetText);
  if (suffix === 'cdrom') d.device = 'cdrom';
  else if (suffix === 'floppy') d.device = 'floppy';
  if (!valid) throw err(`invalid disk target '${target}'`);
  d.target.dev = target;
  if (uname !== undefined && uname !== '') {
    const c = uname.indexOf(':');
    if (c < 0) throw err(`disk uname '${uname}' has no driver prefix`);
    const drv = uname.slice(0, c);
    let path = uname.slice(c + 1);
    d.driver = { name: drv };
    if (drv === 'tap' || drv === 'tap2') {
      const c2 = path.indexOf(':');
      if (c2 < 0) throw err(`disk uname '${uname}' has no blktap image type`);
      const t = path.slice(0, c2);
      d.driver.type = t === 'aio' ? 'raw' : t;
      path = path.slice(c2 + 1);
    }
    if (path === '') throw err(`disk uname '${uname}' has no path`);
    d.type = drv === 'phy' ? 'block' : 'file';
    d.source = path;
  } else if (d.device !== 'cdrom' && d.device !== 'floppy') {
    throw err(`disk ${target} has no source (uname)`);
  }
  if (mode === 'r' || mode === 'ro') d.readonly = true;
  if (mode === 'w!' || mode === 'w+') d.shareable = true;
  if (d.device === 'cdrom') d.readonly = true;
  return d;
}

function parseVif(dev: SexprList, index: number, domid: number | undefined): InterfaceDef {
  const bridge = sexprGet(dev, 'bridge');
  const script = sexprGet(dev, 'script');
  const n: InterfaceDef = { type: bridge !== undefined || (script ?? '').includes('bridge') ? 'bridge' : 'ethernet' };
  const mac = sexprGet(dev, 'mac');
  if (mac !== undefined) {
    if (!/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/.test(mac)) throw err(`invalid MAC address '${mac}'`);
    n.mac = mac.toLowerCase().split(':').map((p) => p.padStart(2, '0')).join(':');
  }
  if (bridge !== undefined) n.source = { bridge };
  const ip = sexprGet(dev, 'ip');
  if (ip) n.ips = ip.split(/\s+/).filter(Boolean).map((address) => ({ address, family: address.includes(':') ? 'ipv6' : 'ipv4' }));
  const rate = sexprGet(dev, 'rate');
  if (rate !== undefined) {
    const m = /^(\d{1,12})([KMG]?)B\/s(?:@\d{1,12}[mu]?s)?$/.exec(rate);
    if (!m) throw err(`invalid vif rate '${rate}'`);
    const scale = { '': 1 / 1024, K: 1, M: 1024, G: 1024 * 1024 }[m[2] as '' | 'K' | 'M' | 'G'];
    n.bandwidth = { outbound: { average: Math.max(1, Math.floor(Number(m[1]) * scale)) } };
  }
  if (script !== undefined) n.script = script;
  if (domid !== undefined && domid > 0) n.target = `vif${domid}.${index}`;
  const model = sexprGet(dev, 'model');
  const type = sexprGet(dev, 'type');
  if (model !== undefined) n.model = model;
  else if (type !== undefined && type !== 'ioemu') n.model = type;
  return n;
}

function parseVfb(dev: SexprList): GraphicsDef | undefined {
  const type = sexprGet(dev, 'type') ?? (sexprGet(dev, 'vnc') === '1' ? 'vnc' : sexprGet(dev, 'sdl') === '1' ? 'sdl' : undefined);
  if (type === 'vnc') return vncGraphics(dev);
  if (type === 'sdl') return sdlGraphics(dev);
  return undefined;
}

function vncGraphics(node: SexprList, knownPort?: number): GraphicsDef {
  const g: GraphicsDef = { type: 'vnc', listens: [] };
  const unused = sexprGet(node, 'vncunused');
  const display = sexprInt(node, 'vncdisplay');
  if (display !== undefined && display >= 0 && display < 65536 - 5900) {
    g.port = 5900 + display;
    g.autoport = unused !== undefined && unused !== '0';
  } else if (knownPort !== undefined) {
    g.port = knownPort;
    g.autoport = false;
  } else {
    g.port = -1;
    g.autoport = true;
  }
  const listen = sexprGet(node, 'vnclisten');
  if (listen !== undefined && listen !== '') {
    g.listen = listen;
    g.listens.push({ type: 'address', address: listen });
  } else g.listens.push({ type: 'address' });
  const keymap = sexprGet(node, 'keymap');
  if (keymap !== undefined && keymap !== '') g.keymap = keymap;
  return g;
}

function sdlGraphics(node: SexprList): GraphicsDef {
  const g: GraphicsDef = { type: 'sdl', listens: [] };
  const display = sexprGet(node, 'display');
  if (display) g.display = display;
  const xauth = sexprGet(node, 'xauthority');
  if (xauth) g.xauth = xauth;
  return g;
}

function parseChardevList(value: Sexpr | undefined, what: string): ChardevDef[] {
  if (value === undefined) return [];
  const specs: string[] = typeof value === 'string' ? [value] : value.filter((v): v is string => typeof v === 'string');
  if (Array.isArray(value) && specs.length !== value.length) throw err(`invalid ${what} list`);
  const out: ChardevDef[] = [];
  specs.forEach((spec, port) => {
    if (spec === 'none' || spec === '') return;
    try {
      out.push(parseChardevSpec(spec, port));
    } catch (e) {
      throw err(`invalid ${what} device '${spec}': ${(e as Error).message}`);
    }
  });
  return out;
}

/** xend S-expression text (a `(domain …)`) -> domain model. */
export function domainFromSexpr(text: string, opts: SexprOptions = {}): DomainDef {
  const root = parseSexpr(text, { lenient: true });
  if (!Array.isArray(root) || (root[0] !== 'domain' && root[0] !== 'vm')) throw err("expected a (domain …) S-expression");
  return domainFromSexprNode(root, opts);
}

export function domainFromSexprNode(root: SexprList, opts: SexprOptions = {}): DomainDef {
  const version = opts.xendConfigVersion ?? 4;
  const name = sexprGet(root, 'name');
  if (!name) throw err('domain information incomplete, missing name');
  const uuidText = sexprGet(root, 'uuid');
  if (!uuidText) throw err('domain information incomplete, missing uuid');
  const uuid = canonicalUUID(uuidText);
  if (!uuid) throw err(`invalid uuid '${uuidText}'`);
  const domidRaw = sexprInt(root, 'domid');
  if (domidRaw !== undefined && domidRaw > 0x7fffffff) throw err(`S-expression field 'domid' is out of range: ${domidRaw}`);
  const domid = domidRaw !== undefined && domidRaw >= 0 ? domidRaw : undefined;

  const image = sexprChild(root, 'image');
  const hvmNode = sexprChild(image, 'hvm');
  const linuxNode = sexprChild(image, 'linux');
  const hvm = hvmNode !== undefined;
  const img = hvmNode ?? linuxNode;

  const memory = mib(root, 'memory');
  if (memory === undefined) throw err('domain information incomplete, missing memory');
  let maxmem = mib(root, 'maxmem') ?? memory;
  if (maxmem < memory) maxmem = memory;
  const vcpus = sexprInt(root, 'vcpus') ?? 1;
  if (vcpus < 1 || vcpus > 16384) throw err(`invalid vcpus ${vcpus}`);

  const def: DomainDef = {
    type: 'xen',
    name,
    uuid,
    memory: maxmem * 1024,
    currentMemory: memory * 1024,
    vcpus,
    os: { type: hvm ? 'hvm' : 'linux' },
    clock: { offset: 'utc' },
    onPoweroff: sexprGet(root, 'on_poweroff') || 'destroy',
    onReboot: sexprGet(root, 'on_reboot') || 'restart',
    onCrash: sexprGet(root, 'on_crash') || 'restart',
    devices: emptyDevices(),
  };
  if (domid !== undefined) def.id = domid;
  const avail = sexprGet(root, 'vcpu_avail');
  if (avail !== undefined) {
    if (!/^\d+$/.test(avail)) throw err(`invalid vcpu_avail '${avail}'`);
    const cur = Math.min(popcount(BigInt(avail)), vcpus);
    if (cur > 0 && cur < vcpus) def.vcpuCurrent = cur;
  }
  const bootloader = sexprGet(root, 'bootloader');
  if (bootloader) def.bootloader = bootloader;
  const bootloaderArgs = sexprGet(root, 'bootloader_args');
  if (bootloader && bootloaderArgs) def.bootloaderArgs = bootloaderArgs;

  // OS
  const kernel = sexprGet(img, 'kernel');
  if (hvm) {
    const loader = sexprGet(img, 'loader');
    if (loader) {
      def.os.loader = { path: loader, type: 'rom' };
      if (kernel) def.os.kernel = kernel;
    } else if (kernel) def.os.loader = { path: kernel, type: 'rom' };
    else throw err('domain information incomplete, missing HVM loader');
  } else if (kernel) def.os.kernel = kernel;
  const ramdisk = sexprGet(img, 'ramdisk');
  if (ramdisk && def.os.kernel) def.os.initrd = ramdisk;
  const args = sexprGet(img, 'args');
  if (args) def.os.cmdline = args;
  if (hvm && !def.os.kernel) def.os.boot = bootFromLetters(sexprGet(img, 'boot') ?? 'c');
  if (!hvm && !def.os.kernel && !def.bootloader) throw err('domain information incomplete, missing kernel and bootloader');

  // Features and clock
  if (hvm) {
    const switches = new Map<string, 'on' | 'off'>();
    for (const f of ['acpi', 'apic', 'pae', 'hap', 'viridian'] as const) if (sexprInt(img, f) === 1) switches.set(f, 'on');
    if (switches.size) def.features = { switches };
  }
  const localtime = sexprInt(img, 'localtime') === 1 || sexprInt(root, 'localtime') === 1;
  if (hvm) {
    def.clock = { offset: 'variable', adjustment: String(sexprInt(img, 'rtc_timeoffset') ?? 0), basis: localtime ? 'localtime' : 'utc' };
    const hpet = sexprInt(img, 'hpet');
    if (hpet !== undefined) def.clock.timers = [{ name: 'hpet', present: hpet ? 'yes' : 'no' }];
  } else def.clock = { offset: localtime ? 'localtime' : 'utc', adjustment: 'reset' };

  // Devices
  const dv = def.devices;
  const dm = sexprGet(img, 'device_model');
  if (dm) dv.emulator = dm;
  let vifIndex = 0;
  let vfb: GraphicsDef | undefined;
  for (const devNode of sexprChildren(root, 'device')) {
    const dev = devNode[1];
    if (!Array.isArray(dev) || typeof dev[0] !== 'string') throw err('malformed (device …) entry');
    switch (dev[0]) {
      case 'vbd':
      case 'tap':
      case 'tap2': {
        dv.disks.push(parseDisk(dev, dev[0]));
        break;
      }
      case 'vif':
        dv.interfaces.push(parseVif(dev, vifIndex++, domid));
        break;
      case 'pci':
        for (const p of sexprChildren(dev, 'dev')) {
          const num = (f: string, max: number) => {
            const v = sexprGet(p, f);
            if (v === undefined || !/^(0x)?[0-9a-fA-F]+$/.test(v)) throw err(`PCI device has a missing or invalid ${f}`);
            const n = parseInt(v.replace(/^0x/, ''), 16);
            if (n > max) throw err(`PCI ${f} ${v} out of range`);
            return n;
          };
          dv.hostdevs.push({ mode: 'subsystem', type: 'pci', managed: false, pci: { domain: num('domain', 0xffff), bus: num('bus', 0xff), slot: num('slot', 0x1f), function: num('func', 7) } });
        }
        break;
      case 'vfb':
        vfb ??= parseVfb(dev);
        break;
      default:
        break; // vkbd, console, … carry nothing the model needs
    }
  }
  // Old xend (config version 1) kept the HVM cdrom in the image, not as a device.
  if (hvm && version === 1) {
    const cdrom = sexprGet(img, 'cdrom');
    if (cdrom && !dv.disks.some((d) => d.target.dev === 'hdc')) {
      dv.disks.push({ type: cdrom.startsWith('/dev/') ? 'block' : 'file', device: 'cdrom', driver: { name: cdrom.startsWith('/dev/') ? 'phy' : 'file' }, source: cdrom, target: { dev: 'hdc' }, readonly: true });
    }
  }
  assignDiskDefaults(def);

  if (hvm) {
    dv.serials = parseChardevList(sexprChild(img, 'serial')?.[1], 'serial');
    dv.parallels = parseChardevList(sexprChild(img, 'parallel')?.[1], 'parallel');
    const first = dv.serials[0];
    if (first) dv.consoles.push({ ...first, sources: first.sources.map((s) => ({ ...s })), target: { type: 'serial', port: first.target.port ?? 0 } });
  } else {
    const con: ChardevDef = { type: 'pty', sources: [], target: { type: 'xen', port: 0 } };
    if (opts.tty) {
      con.tty = opts.tty;
      con.sources.push({ path: opts.tty });
    }
    dv.consoles.push(con);
  }

  if (hvm) {
    const usbdev = sexprGet(img, 'usbdevice');
    if (usbdev === 'mouse' || usbdev === 'tablet') dv.inputs.push({ type: usbdev, bus: 'usb' });
  }
  const bus = hvm ? 'ps2' : 'xen';
  dv.inputs.push({ type: 'mouse', bus }, { type: 'keyboard', bus });

  if (vfb) dv.graphics.push(vfb);
  // xend 3.0.2 (config version 1) gave a running HVM guest the VNC display of its domain id.
  else if (sexprInt(img, 'vnc') === 1) dv.graphics.push(vncGraphics(img!, opts.vncPort ?? (hvm && version === 1 && domid !== undefined ? 5900 + domid : undefined)));
  else if (sexprInt(img, 'sdl') === 1) dv.graphics.push(sdlGraphics(img!));

  if (hvm) {
    const snd = sexprGet(img, 'soundhw');
    if (snd) dv.sounds = parseSoundhw(snd);
  }
  if (dv.graphics.length) dv.videos.push(hvm ? { model: 'cirrus', vram: 16384, heads: 1, primary: true } : { model: 'xen', vram: 4096, heads: 1, primary: true });
  dv.memballoon = { model: 'xen' };
  const problem = domainDefProblem(def);
  if (problem) throw err(problem);
  return def;
}
