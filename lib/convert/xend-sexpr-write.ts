/**
 * The domain model -> xend's S-expression (`(vm …)`, what `xm new` and xend's domain
 * creation accept), for xend config versions 1 to 4. Every value is quoted as needed so
 * names, paths and command lines cannot inject fields.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import type { ChardevDef, DiskDef, DomainDef, GraphicsDef, InterfaceDef } from '../domain/index.js';
import { quoteAtom } from './sexpr.js';
import { bootToLetters, formatChardevSpec, vncDisplay } from './xen-common.js';
import type { SexprOptions } from './xend-sexpr-read.js';

const q = quoteAtom;
/** A bare atom when it is safe to leave unquoted (what xend itself writes), else quoted. */
const atom = (s: string) => (/^[A-Za-z0-9_.,:@\/+=-]+$/.test(s) ? s : q(s));

function toMiB(kib: number): number {
  return Math.ceil(kib / 1024); // xend counts whole MiB: never round a guest down to nothing
}

function diskSexpr(d: DiskDef, hvm: boolean, version: number): string {
  if (d.type === 'network' || (d.type !== 'file' && d.type !== 'block')) {
    throw new VirError(`unsupported disk type '${d.type}' for xend`, { code: ErrorCode.CONFIG_UNSUPPORTED, domain: ErrorDomain.XEND });
  }
  if (d.source === undefined && d.device !== 'cdrom' && d.device !== 'floppy') {
    throw new VirError(`disk ${d.target.dev} has no source`, { code: ErrorCode.NO_SOURCE, domain: ErrorDomain.XEND });
  }
  const drv = d.driver?.name;
  const kind = drv === 'tap' || drv === 'tap2' ? drv : 'vbd';
  let dev = d.target.dev;
  if (hvm) dev += d.device === 'cdrom' ? ':cdrom' : d.device === 'floppy' ? '' : ':disk';
  else if (d.device === 'cdrom') dev += ':cdrom';
  if (hvm && version === 1 && d.device !== 'cdrom') dev = `ioemu:${d.target.dev}`;
  let s = `(device (${kind} (dev ${q(dev)})`;
  if (d.source !== undefined) {
    let prefix: string;
    if (drv === 'tap' || drv === 'tap2') {
      const t = d.driver?.type === undefined || d.driver.type === 'raw' ? 'aio' : d.driver.type;
      prefix = `${drv}:${t}`;
    } else if (d.type === 'block') prefix = 'phy';
    else prefix = drv === 'phy' ? 'phy' : 'file';
    s += `(uname ${q(`${prefix}:${d.source}`)})`;
  }
  s += `(mode '${d.readonly ? 'r' : d.shareable ? 'w!' : 'w'}')))`;
  return s;
}

function vifSexpr(n: InterfaceDef, hvm: boolean, version: number): string {
  let s = "(device (vif ";
  if (n.mac) s += `(mac ${q(n.mac)})`;
  if (n.bandwidth?.outbound) s += `(rate '${n.bandwidth.outbound.average}KB/s')`;
  if (n.type === 'bridge') {
    if (!n.source?.bridge) throw new VirError('bridge interface needs a <source bridge=…>', { code: ErrorCode.XML_ERROR, domain: ErrorDomain.XEND });
    s += `(bridge ${q(n.source.bridge)})`;
    s += `(script ${q(n.script ?? 'vif-bridge')})`;
  } else if (n.type === 'network') {
    throw new VirError('network interfaces need a running libvirt network; not supported by xend conversion', { code: ErrorCode.CONFIG_UNSUPPORTED, domain: ErrorDomain.XEND });
  } else if (n.script !== undefined) s += `(script ${q(n.script)})`;
  if (n.ips && n.ips.length) s += `(ip ${q(n.ips.map((i) => i.address).join(' '))})`;
  if (n.target !== undefined && !n.target.startsWith('vif')) s += `(vifname ${q(n.target)})`;
  if (n.model !== undefined) s += n.model === 'netfront' ? '(type netfront)' : `(model ${q(n.model)})`;
  // xend 3.0.x (versions 1-3) gives an HVM guest an emulated NIC only for type ioemu.
  if (hvm && (n.model === undefined || (version < 4 && n.model !== 'netfront'))) s += '(type ioemu)';
  return s + '))';
}

function graphicsImage(g: GraphicsDef): string {
  if (g.type === 'sdl') {
    let s = '(sdl 1)';
    if (g.display) s += `(display ${q(g.display)})`;
    if (g.xauth) s += `(xauthority ${q(g.xauth)})`;
    return s;
  }
  let s = '(vnc 1)';
  if (g.autoport || g.port === undefined || g.port < 0) s += '(vncunused 1)';
  else s += `(vncunused 0)(vncdisplay ${vncDisplay(g.port, ErrorDomain.XEND)})`;
  if (g.listen) s += `(vnclisten ${q(g.listen)})`;
  if (g.passwd !== undefined) s += `(vncpasswd ${q(g.passwd)})`;
  if (g.keymap) s += `(keymap ${q(g.keymap)})`;
  return s;
}

function graphicsVfb(g: GraphicsDef): string {
  if (g.type === 'sdl') {
    let s = '(device (vfb (type sdl)';
    if (g.display) s += `(display ${q(g.display)})`;
    if (g.xauth) s += `(xauthority ${q(g.xauth)})`;
    return s + '))';
  }
  let s = '(device (vfb (type vnc)';
  if (g.autoport || g.port === undefined || g.port < 0) s += '(vncunused 1)';
  else s += `(vncunused 0)(vncdisplay ${vncDisplay(g.port, ErrorDomain.XEND)})`;
  if (g.listen) s += `(vnclisten ${q(g.listen)})`;
  if (g.passwd !== undefined) s += `(vncpasswd ${q(g.passwd)})`;
  if (g.keymap) s += `(keymap ${q(g.keymap)})`;
  return s + '))';
}

function chardevList(list: ChardevDef[]): string {
  if (list.length === 0) return 'none';
  const maxPort = Math.max(...list.map((c, i) => c.target.port ?? i));
  if (list.length === 1 && (list[0]!.target.port ?? 0) === 0) return atom(formatChardevSpec(list[0]!));
  const slots: string[] = new Array(maxPort + 1).fill('none');
  list.forEach((c, i) => (slots[c.target.port ?? i] = atom(formatChardevSpec(c))));
  return `(${slots.join(' ')})`;
}

/** Domain model -> xend S-expression (`(vm …)`), on one line as xend takes it. */
export function domainToSexpr(def: DomainDef, opts: SexprOptions = {}): string {
  const version = opts.xendConfigVersion ?? 4;
  const hvm = def.os.type === 'hvm';
  if (!hvm && def.os.type !== 'linux' && def.os.type !== 'xen') {
    throw new VirError(`unsupported OS type '${def.os.type}' for xend`, { code: ErrorCode.OS_TYPE, domain: ErrorDomain.XEND });
  }
  if (!hvm && !def.os.kernel && !def.bootloader) {
    throw new VirError('a paravirtualized guest needs a <kernel> or a <bootloader>', { code: ErrorCode.NO_KERNEL, domain: ErrorDomain.XEND });
  }
  let s = `(vm (name ${q(def.name)})(memory ${toMiB(def.currentMemory)})(maxmem ${toMiB(def.memory)})(vcpus ${def.vcpus})`;
  if (def.vcpuCurrent !== undefined && def.vcpuCurrent < def.vcpus) s += `(vcpu_avail ${(1n << BigInt(def.vcpuCurrent)) - 1n})`;
  if (def.cpuset) s += `(cpus ${q(def.cpuset)})`;
  if (def.cputune?.shares !== undefined) s += `(cpu_weight ${def.cputune.shares})`;
  s += `(uuid ${q(def.uuid)})`;
  if (def.bootloader !== undefined) s += `(bootloader${def.bootloader ? ' ' + q(def.bootloader) : ''})`;
  if (def.bootloaderArgs !== undefined) s += `(bootloader_args ${q(def.bootloaderArgs)})`;
  s += `(on_poweroff ${q(def.onPoweroff)})(on_reboot ${q(def.onReboot)})(on_crash ${q(def.onCrash)})`;

  const localtime = def.clock.offset === 'localtime' || (def.clock.offset === 'variable' && def.clock.basis === 'localtime') ? 1 : 0;
  const dv = def.devices;
  const graphics = dv.graphics[0];
  const os = def.os;
  if (hvm) {
    const loader = os.loader?.path;
    if (!loader && !os.kernel) throw new VirError('HVM domain needs a <loader> or <kernel>', { code: ErrorCode.NO_KERNEL, domain: ErrorDomain.XEND });
    s += '(image (hvm ';
    if (os.kernel) {
      s += `(kernel ${q(os.kernel)})`;
      if (os.initrd) s += `(ramdisk ${q(os.initrd)})`;
      if (os.cmdline) s += `(args ${q(os.cmdline)})`;
      if (loader) s += `(loader ${q(loader)})`;
    } else s += `(kernel ${q(loader!)})`;
    s += `(vcpus ${def.vcpus})`;
    if (def.vcpuCurrent !== undefined && def.vcpuCurrent < def.vcpus) s += `(vcpu_avail ${(1n << BigInt(def.vcpuCurrent)) - 1n})`;
    s += `(boot ${bootToLetters(os.boot)})`;
    if (version === 1) {
      const cd = dv.disks.find((d) => d.device === 'cdrom' && d.target.dev === 'hdc' && d.source);
      if (cd) s += `(cdrom ${q(cd.source!)})`;
    }
    const f = def.features?.switches;
    for (const k of ['acpi', 'apic', 'pae', 'hap', 'viridian']) if (f?.get(k) === 'on') s += `(${k} 1)`;
    s += '(usb 1)';
    const usbInput = dv.inputs.find((i) => i.bus === 'usb' && (i.type === 'mouse' || i.type === 'tablet'));
    if (usbInput) s += `(usbdevice ${usbInput.type})`;
    s += `(parallel ${chardevList(dv.parallels)})`;
    // An HVM guest's console is its first serial port; a console alone still means one.
    const serials = dv.serials.length === 0 && dv.consoles.length > 0 ? [{ ...dv.consoles[0]!, target: { port: 0 } }] : dv.serials;
    s += `(serial ${chardevList(serials)})`;
    if (dv.sounds.length) s += `(soundhw ${q(dv.sounds.map((x) => x.model).join(','))})`;
    if (dv.emulator) s += `(device_model ${q(dv.emulator)})`;
    const hpet = def.clock.timers?.find((t) => t.name === 'hpet');
    if (hpet?.present) s += `(hpet ${hpet.present === 'yes' ? 1 : 0})`;
    // xend 3.0.2 (version 1) knew only vnc/sdl for HVM: the display was the domain id.
    if (graphics) s += version === 1 ? (graphics.type === 'sdl' ? '(sdl 1)' : '(vnc 1)') : graphicsImage(graphics);
    const adj = def.clock.offset === 'variable' && def.clock.adjustment && /^-?\d+$/.test(def.clock.adjustment) ? def.clock.adjustment : '0';
    s += `(rtc_timeoffset ${adj})(localtime ${localtime})))`;
  } else {
    s += '(image (linux ';
    // With a bootloader, kernel and initrd are whatever it extracted last time: not config.
    if (os.kernel && !def.bootloader) s += `(kernel ${q(os.kernel)})`;
    if (os.initrd && !def.bootloader) s += `(ramdisk ${q(os.initrd)})`;
    if (os.cmdline) s += `(args ${q(os.cmdline)})`;
    if (dv.emulator) s += `(device_model ${q(dv.emulator)})`;
    // xend before 3.0.4 only knew framebuffers configured in the image.
    // (with a bootloader and no kernel there was no image for it to go in: libvirt 1.2.0's fixtures)
    if (graphics && version < 3 && !(def.bootloader !== undefined && !os.kernel)) s += graphicsImage(graphics);
    s += `(localtime ${localtime})))`;
  }
  s += `(localtime ${localtime})`;

  for (const d of dv.disks) {
    if (hvm && version === 1 && d.device === 'cdrom' && d.target.dev === 'hdc') continue;
    s += diskSexpr(d, hvm, version);
  }
  for (const n of dv.interfaces) s += vifSexpr(n, hvm, version);
  const pci = dv.hostdevs.filter((h) => h.type === 'pci' && h.pci);
  if (pci.length) {
    s += '(device (pci ';
    for (const h of pci) {
      const p = h.pci!;
      const hx = (n: number, w: number) => '0x' + n.toString(16).padStart(w, '0');
      s += `(dev (domain ${hx(p.domain, 4)})(bus ${hx(p.bus, 2)})(slot ${hx(p.slot, 2)})(func ${hx(p.function, 1)}))`;
    }
    s += '))';
  }
  if (!hvm && graphics && version >= 3) s += '(device (vkbd))' + graphicsVfb(graphics);
  return s + ')';
}
