/**
 * The domain model -> xm and xl configuration files, settings in the order libvirt writes
 * them. Values that land inside "k=v,k=v" strings are checked so they cannot split them.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import type { ChardevDef, DiskDef, DomainDef, GraphicsDef, InterfaceDef } from '../domain/index.js';
import { formatConfValue, type ConfValue, type FormatConfOptions } from './conf.js';
import { bootToLetters, formatChardevSpec, vncDisplay } from './xen-common.js';
import { HVMLOADER, unsupported, type ConfigOptions, type Flavor } from './xen-config.js';

function xmDiskSpec(d: DiskDef, ioemuPrefix = false): string {
  if (d.source === undefined && d.device !== 'cdrom' && d.device !== 'floppy') {
    throw new VirError(`disk ${d.target.dev} has no source`, { code: ErrorCode.NO_SOURCE, domain: ErrorDomain.XENXM });
  }
  const drv = d.driver?.name;
  let src = '';
  if (d.source !== undefined) {
    if (drv === 'tap' || drv === 'tap2') src = `${drv}:${!d.driver?.type || d.driver.type === 'raw' ? 'aio' : d.driver.type}:${d.source}`;
    else if (d.type === 'block') src = `phy:${d.source}`;
    else src = `${drv === 'phy' ? 'phy' : 'file'}:${d.source}`;
  } else if (d.type === 'network') throw unsupported('xm', 'network disks are not supported by xm');
  // The xm disk spec is comma-separated with no quoting: a comma in the path would shift fields.
  src = plain(src, 'disk source', 'xm');
  let dev = ioemuPrefix && d.device !== 'cdrom' ? `ioemu:${d.target.dev}` : d.target.dev;
  if (d.device === 'cdrom') dev += ':cdrom';
  else if (d.device === 'floppy') dev += ':floppy';
  const mode = d.readonly ? 'r' : d.shareable ? 'w!' : 'w';
  return `${src},${dev},${mode}`;
}

function xlDiskSpec(d: DiskDef): string {
  const parts: string[] = [];
  // target= comes last and may hold commas; every other field must not.
  parts.push(`format=${plain(d.driver?.type ?? 'raw', 'disk format', 'xl')}`);
  parts.push(`vdev=${d.target.dev}`);
  parts.push(`access=${d.readonly ? 'ro' : 'rw'}`);
  const drv = d.driver?.name;
  const backend = drv === 'phy' || (d.type === 'block' && drv !== 'qemu') ? 'phy' : drv === 'tap' || drv === 'tap2' ? 'tap' : 'qdisk';
  parts.push(`backendtype=${backend}`);
  if (d.device === 'cdrom') parts.push('devtype=cdrom');
  if (d.network) {
    if (d.network.protocol !== 'rbd') throw unsupported('xl', `network disk protocol '${d.network.protocol}' is not supported`);
    let t = `rbd:${d.network.name ?? ''}`;
    t += ':auth_supported=none';
    if (d.network.hosts.length) t += ':mon_host=' + d.network.hosts.map((h) => (h.port ? `${h.name}\\:${h.port}` : h.name)).join('\\;');
    parts.push(`target=${t}`);
  } else if (d.source !== undefined) parts.push(`target=${d.source}`);
  return parts.join(',');
}

/** True when v holds none of ',', '=', newline, carriage return. */
function isPlainValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 44 || c === 61 || c === 10 || c === 13) return false;
  }
  return true;
}

/** Values that end up inside "k=v,k=v" strings must not bring their own separators. */
function plain(v: string, what: string, flavor: Flavor): string {
  if (!isPlainValue(v)) throw unsupported(flavor, `${what} '${v}' cannot contain ',', '=' or a newline in a ${flavor} config`);
  return v;
}

function vifSpec(n: InterfaceDef, hvm: boolean, flavor: Flavor, version: number): string {
  const p: string[] = [];
  if (n.mac) p.push(`mac=${n.mac}`);
  if (n.type === 'bridge') {
    let br = plain(n.source?.bridge ?? '', 'bridge', flavor);
    // With Open vSwitch, '.' and ':' in bridge= introduce VLAN tags: a name holding them
    // would be read back as another bridge with tags.
    const ovs = (n.vlan && n.vlan.tags.length > 0) || (n.script ?? '').includes('openvswitch');
    if (ovs && /[.:]/.test(br)) throw unsupported(flavor, `bridge name '${br}' cannot hold '.' or ':' on an Open vSwitch vif (they introduce VLAN tags)`);
    if (n.vlan && n.vlan.tags.length) br += n.vlan.trunk || n.vlan.tags.length > 1 ? ':' + n.vlan.tags.join(':') : '.' + n.vlan.tags[0];
    p.push(`bridge=${br}`);
  } else if (n.type === 'network') {
    throw unsupported(flavor, 'network interfaces need a libvirt network; not supported in native config');
  }
  if (n.ips && n.ips.length) p.push(`ip=${n.ips.map((i) => plain(i.address, 'ip', flavor)).join(' ')}`);
  if (n.script !== undefined) p.push(`script=${plain(n.script, 'script', flavor)}`);
  if (n.model !== undefined) {
    if (n.model === 'netfront') p.push(`type=${flavor === 'xl' ? 'vif' : 'netfront'}`);
    else p.push(`model=${plain(n.model, 'model', flavor)}`);
  }
  // xend gives an HVM guest an emulated NIC for type=ioemu; 3.0.x (versions 1-3) only then.
  if (hvm && flavor === 'xm' && (n.model === undefined || (version < 4 && n.model !== 'netfront'))) p.push('type=ioemu');
  if (n.target !== undefined && !/^vif\d/.test(n.target)) p.push(`vifname=${plain(n.target, 'vifname', flavor)}`);
  if (n.backendDomain !== undefined) p.push(`backend=${plain(n.backendDomain, 'backend', flavor)}`);
  if (n.bandwidth?.outbound) {
    // xl and xend refuse a zero rate ("rate overflow"): there is no vif rate to write for it.
    if (!(n.bandwidth.outbound.average >= 1)) throw unsupported(flavor, `bandwidth average ${n.bandwidth.outbound.average} cannot be written as a vif rate (at least 1 KB/s)`);
    p.push(`rate=${n.bandwidth.outbound.average}KB/s`);
  }
  return p.join(',');
}

function chardevSetting(list: ChardevDef[], flavor: Flavor): ConfValue {
  if (list.length === 0) return 'none';
  if (list.length === 1 && (list[0]!.target.port ?? 0) === 0) return formatChardevSpec(list[0]!);
  // xm takes a list of ports too (libvirt 1.2.0's xmconfigdata fullvirt-serial-dev-2-ports).
  const max = Math.max(...list.map((c, i) => c.target.port ?? i));
  const slots: string[] = new Array(max + 1).fill('none');
  list.forEach((c, i) => (slots[c.target.port ?? i] = formatChardevSpec(c)));
  return slots;
}

// virConf (xm) writes a string holding '"' as """…"""; xl's parser has no such syntax.
const XM_FORMAT: FormatConfOptions = { tripleQuotes: true };
const XL_FORMAT: FormatConfOptions = { tripleQuotes: false };

export function domainToConfig(def: DomainDef, flavor: Flavor, opts: ConfigOptions = {}): string {
  const version = flavor === 'xm' ? (opts.xendConfigVersion ?? 4) : 4;
  const hvm = def.os.type === 'hvm';
  const pvh = def.os.type === 'xenpvh';
  if (!hvm && !pvh && def.os.type !== 'linux' && def.os.type !== 'xen') {
    throw new VirError(`unsupported OS type '${def.os.type}'`, { code: ErrorCode.OS_TYPE, domain: flavor === 'xl' ? ErrorDomain.XENXL : ErrorDomain.XENXM });
  }
  if (pvh && flavor === 'xm') throw unsupported(flavor, 'PVH guests need xl');
  if (!hvm && !pvh && !def.os.kernel && !def.bootloader) {
    throw new VirError('a paravirtualized guest needs a <kernel> or a <bootloader>', { code: ErrorCode.NO_KERNEL, domain: flavor === 'xl' ? ErrorDomain.XENXL : ErrorDomain.XENXM });
  }
  // Each setting is written as it is decided (the names are this file's literals, all valid).
  // A value that cannot be written is reported after every other check, as when the
  // settings were collected first and written at the end.
  const fmt = flavor === 'xm' ? XM_FORMAT : XL_FORMAT;
  let out = '';
  let unwritable: unknown;
  const set = (name: string, value: ConfValue) => {
    if (unwritable !== undefined) return;
    try {
      out += `${name} = ${formatConfValue(value, fmt)}\n`;
    } catch (err) {
      unwritable = err;
    }
  };
  const dv = def.devices;
  set('name', def.name);
  set('uuid', def.uuid);
  set('maxmem', Math.ceil(def.memory / 1024)); // whole MiB, rounded up like libvirt
  set('memory', Math.ceil(def.currentMemory / 1024));
  if (def.vcpuCurrent !== undefined && def.vcpuCurrent < def.vcpus && flavor === 'xm' && version < 4) {
    // xend 3.0.x: vcpus is the maximum, vcpu_avail the bitmap of those online.
    set('vcpus', def.vcpus);
    set('vcpu_avail', Number((1n << BigInt(def.vcpuCurrent)) - 1n));
  } else if (def.vcpuCurrent !== undefined && def.vcpuCurrent < def.vcpus) {
    set('maxvcpus', def.vcpus);
    set('vcpus', def.vcpuCurrent);
  } else set('vcpus', def.vcpus);
  if (def.cpuset) set('cpus', def.cpuset);
  if (def.cputune?.shares !== undefined) set('cpu_weight', def.cputune.shares);

  const sw = def.features?.switches;
  if (hvm) {
    set('pae', sw?.get('pae') === 'on' ? 1 : 0);
    set('acpi', sw?.get('acpi') === 'on' ? 1 : 0);
    set('apic', sw?.get('apic') === 'on' ? 1 : 0);
    if (sw?.get('hap') === 'off') set('hap', 0);
    else if (flavor === 'xl' && sw?.get('hap') === 'on') set('hap', 1);
    set('viridian', sw?.get('viridian') === 'on' ? 1 : 0);
  }
  const xenf = def.features?.xen;
  if (flavor === 'xl' && xenf?.e820_host === 'on') set('e820_host', 1);
  if (flavor === 'xl' && xenf?.passthrough) {
    const pt = xenf.passthrough;
    set('passthrough', pt.state === 'off' ? 'disabled' : pt.mode ?? 'enabled');
  }
  const timers = def.clock.timers ?? [];
  const tsc = timers.find((t) => t.name === 'tsc');
  if (flavor === 'xl' && tsc?.mode) {
    const m = { auto: 'default', native: 'native', emulate: 'always_emulate', paravirt: 'native_paravirt' }[tsc.mode];
    if (!m) throw unsupported(flavor, `tsc mode '${tsc.mode}' is not supported`);
    set('tsc_mode', m);
  }
  const hpet = timers.find((t) => t.name === 'hpet');
  if (hvm && hpet?.present) set('hpet', hpet.present === 'yes' ? 1 : 0);
  const localtime = def.clock.offset === 'localtime' || (def.clock.offset === 'variable' && def.clock.basis === 'localtime') ? 1 : 0;
  if (hvm) {
    const adj = def.clock.offset === 'variable' && def.clock.adjustment && /^-?\d+$/.test(def.clock.adjustment) ? Number(def.clock.adjustment) : 0;
    set('rtc_timeoffset', adj);
  }
  set('localtime', localtime);
  set('on_poweroff', def.onPoweroff);
  set('on_reboot', def.onReboot);
  set('on_crash', def.onCrash);
  if (flavor === 'xl' && pvh) set('type', 'pvh'); // 'pv' is xl's default: only pvh needs saying

  // xend before 3.1.0 (config versions 1-3) reads device_model; later xm and xl the override.
  if (hvm && dv.emulator) set(flavor === 'xm' && version < 4 ? 'device_model' : 'device_model_override', dv.emulator);

  // HVM graphics are top-level settings; spice goes at the end like libvirt writes it.
  const vnc = dv.graphics.find((g) => g.type === 'vnc');
  const sdl = dv.graphics.find((g) => g.type === 'sdl');
  const spice = dv.graphics.find((g) => g.type === 'spice');
  const vncSettings = (g: GraphicsDef | undefined, sdlG: GraphicsDef | undefined) => {
    set('sdl', sdlG ? 1 : 0);
    if (sdlG?.display) set('display', sdlG.display);
    if (sdlG?.xauth) set('xauthority', sdlG.xauth);
    set('vnc', g ? 1 : 0);
    if (g) {
      if (g.autoport || g.port === undefined || g.port < 0) {
        set('vncunused', 1);
        // A display to start the search from (autoport with a port) is kept.
        if (g.port !== undefined && g.port >= 5900) set('vncdisplay', g.port - 5900);
      } else {
        set('vncunused', 0);
        set('vncdisplay', vncDisplay(g.port, flavor === 'xl' ? ErrorDomain.XENXL : ErrorDomain.XENXM));
      }
      if (g.listen) set('vnclisten', g.listen);
      if (g.passwd !== undefined) set('vncpasswd', g.passwd);
      if (g.keymap) set('keymap', g.keymap);
    }
  };
  if (hvm && !spice) vncSettings(vnc, sdl);
  const oldPvfb = !hvm && version < 3 && dv.graphics.length > 0;
  if (oldPvfb) vncSettings(vnc, sdl);
  if (!hvm && !oldPvfb) {
    const vfbs: string[] = [];
    for (const g of dv.graphics) {
      if (g.type === 'vnc') {
        // xl's vfb has no type= key (it enables a framebuffer with vnc=1 / sdl=1).
        const p = [flavor === 'xl' ? 'vnc=1' : 'type=vnc'];
        if (g.autoport || g.port === undefined || g.port < 0) {
          p.push('vncunused=1');
          if (g.port !== undefined && g.port >= 5900) p.push(`vncdisplay=${g.port - 5900}`);
        } else p.push('vncunused=0', `vncdisplay=${vncDisplay(g.port, flavor === 'xl' ? ErrorDomain.XENXL : ErrorDomain.XENXM)}`);
        if (g.listen) p.push(`vnclisten=${plain(g.listen, 'vnclisten', flavor)}`);
        if (g.passwd !== undefined) p.push(`vncpasswd=${plain(g.passwd, 'vncpasswd', flavor)}`);
        if (g.keymap) p.push(`keymap=${plain(g.keymap, 'keymap', flavor)}`);
        vfbs.push(p.join(','));
      } else if (g.type === 'sdl') {
        const p = [flavor === 'xl' ? 'sdl=1' : 'type=sdl'];
        if (g.display) p.push(`display=${plain(g.display, 'display', flavor)}`);
        if (g.xauth) p.push(`xauthority=${plain(g.xauth, 'xauthority', flavor)}`);
        vfbs.push(p.join(','));
      }
    }
    if (vfbs.length) set('vfb', vfbs);
  }
  if (dv.interfaces.length) set('vif', dv.interfaces.map((n) => vifSpec(n, hvm, flavor, version)));
  const pci = dv.hostdevs.filter((h) => h.type === 'pci' && h.pci);
  if (pci.length) {
    set('pci', pci.map((h) => {
      const p = h.pci!;
      const hx = (n: number, w: number) => n.toString(16).padStart(w, '0');
      return `${hx(p.domain, 4)}:${hx(p.bus, 2)}:${hx(p.slot, 2)}.${hx(p.function, 1)}${h.writeFiltering === 'no' ? ',permissive=1' : ''}`;
    }));
  }
  if (hvm) {
    set('parallel', chardevSetting(dv.parallels, flavor));
    const serials = dv.serials.length === 0 && dv.consoles.length > 0 && dv.consoles[0]!.target.type === 'serial' ? [{ ...dv.consoles[0]!, target: { port: 0 } }] : dv.serials;
    set('serial', chardevSetting(serials, flavor));
    if (dv.sounds.length) set('soundhw', dv.sounds.map((x) => plain(x.model, 'sound model', flavor)).join(','));
    set('builder', 'hvm');
    if (flavor === 'xl' && def.os.acpiTables?.length) set('acpi_firmware', def.os.acpiTables[0]!.path);
    const loader = def.os.loader;
    if (flavor === 'xm') {
      set('kernel', loader?.path ?? HVMLOADER);
    } else {
      if (loader?.type === 'pflash') {
        set('bios', 'ovmf');
        set('bios_path_override', loader.path);
      }
      if (def.os.kernel) set('kernel', def.os.kernel);
      if (def.os.initrd) set('ramdisk', def.os.initrd);
      if (def.os.cmdline) set('cmdline', def.os.cmdline);
    }
    set('boot', bootToLetters(def.os.boot));
  } else {
    if (def.bootloader !== undefined) set('bootloader', def.bootloader);
    // xl reads bootloader_args (a list); bootargs is xm's name.
    if (def.bootloaderArgs !== undefined) set(flavor === 'xl' ? 'bootloader_args' : 'bootargs', flavor === 'xl' ? def.bootloaderArgs.split(/\s+/).filter(Boolean) : def.bootloaderArgs);
    const xenbus = dv.controllers.find((c) => c.type === 'xenbus');
    if (flavor === 'xl' && xenbus?.maxGrantFrames !== undefined) set('max_grant_frames', xenbus.maxGrantFrames);
    if (flavor === 'xl' && xenbus?.maxEventChannels !== undefined) set('max_event_channels', xenbus.maxEventChannels);
    if (def.os.kernel) set('kernel', def.os.kernel);
    if (def.os.initrd) set('ramdisk', def.os.initrd);
    if (def.os.cmdline) set(flavor === 'xl' ? 'cmdline' : 'extra', def.os.cmdline);
  }
  if (flavor === 'xl' && def.cpu) {
    const c = def.cpu;
    if (c.mode === 'host-passthrough') {
      const nested = c.features.find((f) => f.name === 'vmx' || f.name === 'svm');
      if (hvm) set('nestedhvm', nested && (nested.policy === 'disable' || nested.policy === 'forbid') ? 0 : 1);
      const rest = c.features.filter((f) => f !== nested);
      if (rest.length) {
        const rename: Record<string, string> = { pni: 'sse3', pdpe1gb: 'page1gb', lahf_lm: 'lahfsahf', cmp_legacy: 'cmplegacy', cr8legacy: 'altmovcr8', nodeid_msr: 'nodeid' };
        const val: Record<string, string> = { disable: '0', forbid: '0', force: '1', require: '1', optional: 'x' };
        set('cpuid', ['host', ...rest.map((f) => `${rename[f.name] ?? f.name}=${val[f.policy] ?? 'x'}`)].join(','));
      }
    }
    if (c.numa && c.numa.length) {
      set('vnuma', c.numa.map((cell) => {
        const dist = cell.distances && cell.distances.length ? cell.distances : undefined;
        const all = c.numa!.map((o) => {
          const found = dist?.find((x) => x.id === o.id);
          if (found) return found.value;
          // Missing distances mirror the other node's entry, else libvirt's defaults.
          const mirror = c.numa!.find((x) => x.id === o.id)?.distances?.find((x) => x.id === cell.id);
          if (mirror) return mirror.value;
          return o.id === cell.id ? 10 : 20;
        });
        return [`pnode=${cell.id}`, `size=${Math.ceil(cell.memory / 1024)}`, `vcpus=${cell.cpus}`, `vdistances=${all.join(',')}`];
      }));
    }
  }
  let disks = dv.disks;
  if (hvm && version === 1) {
    const cd = disks.find((d) => d.device === 'cdrom' && d.target.dev === 'hdc' && d.source !== undefined);
    if (cd) {
      set('cdrom', cd.source!);
      disks = disks.filter((d) => d !== cd);
    }
  }
  // xend 3.0.2 (version 1) named an HVM guest's emulated disks ioemu:hdX.
  if (disks.length) set('disk', disks.map((d) => (flavor === 'xl' ? xlDiskSpec(d) : xmDiskSpec(d, hvm && version === 1))));
  if (hvm && spice && flavor === 'xl') {
    vncSettings(vnc, sdl);
    set('spice', 1);
    if (spice.listen) set('spicehost', spice.listen);
    if (spice.port !== undefined && spice.port > 0) set('spiceport', spice.port);
    if (spice.tlsPort !== undefined && spice.tlsPort > 0) set('spicetls_port', spice.tlsPort);
    if (spice.passwd !== undefined) {
      set('spicedisable_ticketing', 0);
      set('spicepasswd', spice.passwd);
    } else set('spicedisable_ticketing', 1);
    if (spice.mouseMode !== undefined) set('spiceagent_mouse', spice.mouseMode === 'client' ? 1 : 0);
    // The clipboard is shared through the vdagent, so only sharing needs it said.
    if (spice.clipboard === 'yes') {
      set('spicevdagent', 1);
      set('spice_clipboard_sharing', 1);
    }
  } else if (spice) throw unsupported(flavor, 'spice graphics need xl');
  if (hvm) {
    const usbInputs = dv.inputs.filter((i) => i.bus === 'usb' && (i.type === 'mouse' || i.type === 'tablet'));
    if (usbInputs.length) {
      set('usb', 1);
      if (usbInputs.length === 1 || flavor === 'xm') set('usbdevice', usbInputs[0]!.type);
      else set('usbdevice', usbInputs.map((i) => i.type));
    }
  }
  if (flavor === 'xl') {
    const usbCtl = dv.controllers.filter((c) => c.type === 'usb');
    if (usbCtl.length) {
      set('usbctrl', usbCtl.map((c) => {
        const m = /^qusb([12])$/.exec(c.model ?? 'qusb2');
        const p = [`type=qusb`, `version=${m ? m[1] : 2}`];
        if (c.ports !== undefined) p.push(`ports=${c.ports}`);
        return p.join(',');
      }));
    }
    const usbdev = dv.hostdevs.filter((h) => h.type === 'usb' && h.usb);
    if (usbdev.length) set('usbdev', usbdev.map((h) => `hostbus=${h.usb!.bus},hostaddr=${h.usb!.device}`));
    if (dv.channels.length) {
      set('channel', dv.channels.map((c) => {
        const p: string[] = [];
        if (c.type === 'pty') p.push('connection=pty');
        else if (c.type === 'unix') {
          const path = c.sources[0]?.path;
          if (!path) throw new VirError('a unix channel needs a <source path=…>', { code: ErrorCode.NO_SOURCE, domain: ErrorDomain.XENXL });
          p.push('connection=socket', `path=${plain(path, 'channel path', flavor)}`);
        }
        else throw unsupported(flavor, `channel type '${c.type}' is not supported`);
        if (c.target.name) p.push(`name=${plain(c.target.name, 'channel name', flavor)}`);
        return p.join(',');
      }));
    }
    if (def.emulatorArgs && def.emulatorArgs.length) set('device_model_args', def.emulatorArgs);
  }
  if (unwritable !== undefined) throw unwritable;
  return out;
}
