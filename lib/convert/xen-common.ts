/**
 * Pieces shared by the xend S-expression and the xm/xl config converters: the character
 * device strings qemu-dm takes for serial/parallel ports, disk bus and address rules,
 * and the devices libvirt adds to every Xen guest.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import type { ChardevDef, DiskDef, DomainDef, DriveAddress } from '../domain/index.js';

export function convError(domain: string, message: string): VirError {
  return new VirError(message, { code: ErrorCode.INTERNAL_ERROR, domain });
}

/** Parse a qemu character device spec ("pty", "tcp:host:port,server,nowait", "/dev/ttyS0", …). */
export function parseChardevSpec(spec: string, port: number): ChardevDef {
  const c: ChardevDef = { type: 'pty', sources: [], target: { port } };
  const bad = () => convError(ErrorDomain.XEN, `invalid character device '${spec}'`);
  if (spec === 'pty' || spec === 'null' || spec === 'stdio' || spec === 'vc') {
    c.type = spec;
  } else if (spec.startsWith('/')) {
    c.type = 'dev';
    c.sources.push({ path: spec });
  } else if (spec.startsWith('file:') || spec.startsWith('pipe:')) {
    c.type = spec.slice(0, 4);
    c.sources.push({ path: spec.slice(5) });
  } else if (spec.startsWith('tcp:') || spec.startsWith('telnet:')) {
    const telnet = spec.startsWith('telnet:');
    const [addr, ...flags] = spec.slice(telnet ? 7 : 4).split(',');
    const i = addr!.lastIndexOf(':');
    if (i < 0) throw bad();
    c.type = 'tcp';
    c.sources.push({ mode: flags.includes('server') || flags.includes('listen') ? 'bind' : 'connect', host: addr!.slice(0, i), service: addr!.slice(i + 1) });
    c.protocol = telnet ? 'telnet' : 'raw';
  } else if (spec.startsWith('udp:')) {
    // udp:[connect-host]:connect-port[@[bind-host]:bind-port]
    const [conn, bind] = spec.slice(4).split('@');
    const split = (s: string) => {
      const i = s.lastIndexOf(':');
      if (i < 0) throw bad();
      return { host: s.slice(0, i), service: s.slice(i + 1) };
    };
    c.type = 'udp';
    const cn = split(conn!);
    if (bind !== undefined) {
      const b = split(bind);
      c.sources.push({ mode: 'bind', ...(b.host ? { host: b.host } : {}), service: b.service });
    }
    c.sources.push({ mode: 'connect', ...(cn.host ? { host: cn.host } : {}), service: cn.service });
  } else if (spec.startsWith('unix:')) {
    const [path, ...flags] = spec.slice(5).split(',');
    c.type = 'unix';
    c.sources.push({ mode: flags.includes('server') || flags.includes('listen') ? 'bind' : 'connect', path: path! });
  } else throw bad();
  return c;
}

/** The qemu spec for a character device (inverse of parseChardevSpec). */
export function formatChardevSpec(c: ChardevDef): string {
  const src = c.sources[0];
  const need = (v: string | undefined, what: string) => {
    if (v === undefined || v === '') throw convError(ErrorDomain.XEN, `${c.type} character device needs a ${what}`);
    return safe(v, what);
  };
  // The spec is one unquoted token with ',' '@' as separators: values must not contain them.
  const safe = (v: string, what: string) => {
    if (/[,@\n\r]/.test(v)) {
      throw new VirError(`${c.type} character device ${what} '${v}' cannot be written in a qemu device spec`, { code: ErrorCode.CONFIG_UNSUPPORTED, domain: ErrorDomain.XEN });
    }
    return v;
  };
  const host = (v: string | undefined) => (v === undefined ? '' : safe(v, 'host'));
  switch (c.type) {
    case 'pty':
    case 'null':
    case 'stdio':
    case 'vc':
      return c.type;
    case 'dev': {
      const p = need(src?.path, 'source path');
      if (!p.startsWith('/')) throw new VirError(`device path '${p}' must be absolute`, { code: ErrorCode.CONFIG_UNSUPPORTED, domain: ErrorDomain.XEN });
      return p;
    }
    case 'file':
    case 'pipe':
      return `${c.type}:${need(src?.path, 'source path')}`;
    case 'tcp': {
      const pre = c.protocol === 'telnet' ? 'telnet' : 'tcp';
      return `${pre}:${host(src?.host)}:${need(src?.service, 'service')}${src?.mode === 'bind' ? ',server,nowait' : ''}`;
    }
    case 'udp': {
      const conn = c.sources.find((s) => s.mode === 'connect') ?? c.sources.find((s) => s.mode !== 'bind');
      const bind = c.sources.find((s) => s.mode === 'bind');
      let s = `udp:${host(conn?.host)}:${need(conn?.service, 'connect service')}`;
      if (bind) s += `@${host(bind.host)}:${need(bind.service, 'bind service')}`;
      return s;
    }
    case 'unix':
      return `unix:${need(src?.path, 'socket path')}${src?.mode === 'bind' ? ',server,nowait' : ''}`;
    default:
      throw new VirError(`unsupported character device type '${c.type}'`, { code: ErrorCode.CONFIG_UNSUPPORTED, domain: ErrorDomain.XEN });
  }
}

/** Disk bus from the target name: hdX ide, sdX scsi, xvdX xen, fdX fdc. */
/**
 * Xen's spelling of a disk target, shared by xend and xm/xl: an optional 'ioemu:'
 * prefix (xend 3.0.x HVM), the device name, an optional ':cdrom' / ':floppy' / ':disk'.
 * Returns the device name, the kind suffix (if any), and whether the name is well formed.
 */
export function splitDiskTarget(text: string): { dev: string; kind: string | undefined; valid: boolean } {
  let dev = text.startsWith('ioemu:') ? text.slice(6) : text;
  let kind: string | undefined;
  const colon = dev.indexOf(':');
  if (colon >= 0) {
    kind = dev.slice(colon + 1);
    dev = dev.slice(0, colon);
  }
  return { dev, kind, valid: /^[a-z]+[0-9]*$/.test(dev) };
}

export function busForTarget(dev: string): string | undefined {
  if (dev.startsWith('hd')) return 'ide';
  if (dev.startsWith('sd')) return 'scsi';
  if (dev.startsWith('xvd')) return 'xen';
  if (dev.startsWith('fd')) return 'fdc';
  if (dev.startsWith('vd')) return 'virtio';
  return undefined;
}

/** Index of a disk name: hda=0 … hdz=25, hdaa=26 … */
export function diskIndex(dev: string): number {
  const m = /^(?:hd|sd|xvd|vd|fd)([a-z]+)/.exec(dev);
  if (!m) return -1;
  let n = 0;
  for (const ch of m[1]!) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

/** libvirt's drive address for an IDE/SCSI/floppy disk from its target name. */
export function driveAddress(d: DiskDef): DriveAddress | undefined {
  const idx = diskIndex(d.target.dev);
  if (idx < 0) return undefined;
  switch (d.target.bus) {
    case 'ide':
      return { type: 'drive', controller: Math.floor(idx / 4), bus: Math.floor((idx % 4) / 2), target: 0, unit: idx % 2 };
    case 'fdc':
      return { type: 'drive', controller: 0, bus: 0, target: 0, unit: idx % 2 };
    case 'scsi':
      return { type: 'drive', controller: Math.floor(idx / 7), bus: 0, target: 0, unit: idx % 7 };
    default:
      return undefined;
  }
}

/** Give disks their bus and address and add the controllers they imply. */
export function assignDiskDefaults(def: DomainDef): void {
  const ctl = new Map<string, Set<number>>();
  for (const d of def.devices.disks) {
    d.target.bus ??= busForTarget(d.target.dev) ?? (def.os.type === 'hvm' ? 'ide' : 'xen');
    if (!d.address) {
      const a = driveAddress(d);
      if (a) d.address = a;
    }
    if (d.address) {
      const t = d.target.bus;
      if (!ctl.has(t)) ctl.set(t, new Set());
      ctl.get(t)!.add(d.address.controller);
    }
  }
  for (const [type, idxs] of ctl) {
    for (const index of [...idxs].sort((a, b) => a - b)) {
      if (!def.devices.controllers.some((c) => c.type === type && c.index === index)) def.devices.controllers.push({ type, index });
    }
  }
}

/** Boot device letters xend uses ("c", "dc" …) <-> libvirt's names. */
const BOOT_LETTER: Record<string, string> = { a: 'fd', c: 'hd', d: 'cdrom', n: 'network' };
export function bootFromLetters(s: string): string[] {
  const out: string[] = [];
  for (const ch of s) {
    const b = BOOT_LETTER[ch];
    if (b && out.length < 4) out.push(b);
  }
  return out;
}
export function bootToLetters(boot: string[] | undefined): string {
  const rev: Record<string, string> = { fd: 'a', hd: 'c', cdrom: 'd', network: 'n' };
  const s = (boot ?? []).map((b) => rev[b] ?? '').join('');
  return s === '' ? 'c' : s;
}

/** Sound models qemu-dm knows; "all" means every one of them. */
export const SOUND_MODELS = ['sb16', 'es1370'];
export function parseSoundhw(s: string): { model: string }[] {
  if (s === 'all') return SOUND_MODELS.map((model) => ({ model }));
  return s.split(',').filter(Boolean).map((model) => ({ model }));
}

/** Number of bits set (for xend's vcpu_avail bitmap). */
export function popcount(n: bigint): number {
  let c = 0;
  while (n > 0n) {
    c += Number(n & 1n);
    n >>= 1n;
  }
  return c;
}

/** VNC display number for a fixed port; xend and xl only know ports from 5900 up. */
export function vncDisplay(port: number, domain: string): number {
  if (port < 5900) {
    throw new VirError(`VNC port ${port} cannot be expressed as a display number (ports start at 5900)`, { code: ErrorCode.CONFIG_UNSUPPORTED, domain });
  }
  return port - 5900;
}
