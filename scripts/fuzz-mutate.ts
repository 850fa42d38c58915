/**
 * Mutation fuzzing of the converters' parsers: seeded, reproducible mutations of valid
 * documents (libvirt's fixtures when present, plus built-in seeds), fed through the public
 * API. Every outcome must be a result or a VirError; anything else (TypeError, RangeError,
 * a hang) is a bug and is reported with the input that caused it.
 */
import { parseDomainXML } from '../lib/domain/index.js';
import { isVirError } from '../lib/errors.js';
import { xenCapabilities, xmlFromNative } from '../lib/index.js';
import type { NativeFormat } from '../lib/convert/index.js';
import { domainToSexpr } from '../lib/convert/xend-sexpr.js';
import { domainToXM } from '../lib/convert/xm-config.js';
import { domainToXL } from '../lib/convert/xl-config.js';

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Characters that mean something to one of the syntaxes, so mutations hit the parsers' edges.
const SPECIAL = ['(', ')', "'", '"', '\\', '[', ']', ',', '=', '#', '\n', ' ', '<', '>', '&', ';', ':', '/', '0', '9', '-', '"""', '<!DOCTYPE x>', '&amp;', '\u0000', '\u00e9', '99999999999999999999', '-1', ''];

export function mutate(seed: string, r: () => number, others: string[]): string {
  let s = seed;
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const pos = Math.floor(r() * (s.length + 1));
    const len = Math.floor(r() * Math.min(40, s.length - pos + 1));
    switch (Math.floor(r() * 9)) {
      case 0: // delete a range
        s = s.slice(0, pos) + s.slice(pos + len);
        break;
      case 1: // insert a syntax character
        s = s.slice(0, pos) + SPECIAL[Math.floor(r() * SPECIAL.length)] + s.slice(pos);
        break;
      case 2: // replace one character
        s = s.slice(0, pos) + SPECIAL[Math.floor(r() * SPECIAL.length)] + s.slice(pos + 1);
        break;
      case 3: // duplicate a range
        s = s.slice(0, pos + len) + s.slice(pos, pos + len) + s.slice(pos + len);
        break;
      case 4: // truncate
        s = s.slice(0, pos);
        break;
      case 5: { // splice in a piece of another document
        const o = others[Math.floor(r() * others.length)] ?? '';
        const op = Math.floor(r() * o.length);
        s = s.slice(0, pos) + o.slice(op, op + 1 + Math.floor(r() * 80)) + s.slice(pos);
        break;
      }
      case 6: // make a number absurd
        s = s.replace(/\d+/, (m) => (r() < 0.5 ? m + '0000000000000' : '-' + m));
        break;
      case 7: // deep nesting
        s = s.slice(0, pos) + '(['.repeat(1 + Math.floor(r() * 400)) + s.slice(pos);
        break;
      default: // swap two ranges
        {
          const p2 = Math.floor(r() * (s.length + 1));
          const a = s.slice(pos, pos + len);
          const b = s.slice(p2, p2 + len);
          s = pos < p2 ? s.slice(0, pos) + b + s.slice(pos + len, p2) + a + s.slice(p2 + len) : s;
        }
    }
  }
  return s;
}

export type Target = 'sexpr' | 'xm' | 'xl' | 'xml' | 'caps';
export const TARGETS: Target[] = ['sexpr', 'xm', 'xl', 'xml', 'caps'];

export const BUILTIN_SEEDS: Record<Target, string[]> = {
  sexpr: [
    "(domain (domid 3)(name 'fv')(memory 400)(maxmem 400)(vcpus 2)(vcpu_avail 1)(uuid 'b5d70dd275cdaca517769660b059d8bc')(on_poweroff 'destroy')(on_reboot 'restart')(on_crash 'restart')(image (hvm (kernel '/usr/lib/xen/boot/hvmloader')(device_model '/usr/lib64/xen/bin/qemu-dm')(boot cd)(acpi 1)(apic 1)(pae 1)(serial (pty /dev/ttyS1))(parallel tcp:h:1)(soundhw all)(usbdevice mouse)(hpet 1)(vnc 1)(vncdisplay 4)(vncunused 0)(keymap ja)))(device (vbd (dev 'ioemu:hda')(uname 'file:/root/foo.img')(mode 'w')))(device (vbd (dev 'hdc:cdrom')(mode 'r')))(device (tap (dev hdb)(uname 'tap:qcow:/x')(mode 'w!')))(device (vif (mac '00:16:3e:1b:b1:47')(bridge 'xenbr0')(script 'vif-bridge')(rate '10MB/s')(type ioemu)))(device (pci (dev (domain 0x0000)(bus 0x01)(slot 0x02)(func 0x3)))))",
    "(domain (domid 6)(name 'pv')(memory 420)(maxmem 420)(vcpus 2)(uuid '596a5d21-71f4-8fb2-e068-e2386a5c413e')(bootloader '/usr/bin/pygrub')(bootloader_args '-q')(localtime 1)(image (linux (kernel '/k')(ramdisk '/r')(args 'a b')))(device (vbd (dev 'xvda')(uname 'phy:/dev/x')(mode 'w')))(device (vif (mac '00:11:22:33:44:55')(ip '1.2.3.4')(script vif-routed)))(device (vfb (type vnc)(vncunused 1)(vnclisten 0.0.0.0)(vncpasswd p))))",
  ],
  xm: [
    'name = "g"\nuuid = "c7a5fdb2-cdaf-9455-926a-d65c16db1809"\nmaxmem = 579\nmemory = 394\nvcpus = 1\npae = 1\nacpi = 1\napic = 1\nhpet = 1\nrtc_timeoffset = 0\nlocaltime = 1\non_poweroff = "destroy"\ndevice_model = "/usr/lib/xen/bin/qemu-dm"\nvnc = 1\nvncunused = 0\nvncdisplay = 3\nvif = [ "mac=00:16:3e:66:92:9c,bridge=xenbr1,script=vif-bridge,model=e1000" ]\npci = [ "0001:0c:1b.2", "01:13.0" ]\nserial = "tcp:127.0.0.1:7777"\nsoundhw = "all"\nbuilder = "hvm"\nkernel = "/usr/lib/xen/boot/hvmloader"\nboot = "dc"\ndisk = [ "phy:/dev/HostVG/g,hda,w", ",hdc:cdrom,r", "tap:aio:/x,hdb,w!" ]\nusb = 1\nusbdevice = "tablet"\n',
    'name = "p"\nmemory = 512\nmaxvcpus = 4\nvcpus = 2\nbootloader = "/usr/bin/pygrub"\nroot = "/dev/xvda2"\nextra = "console=hvc0"\nvfb = [ "type=vnc,vncunused=1,vnclisten=127.0.0.1,vncpasswd=1" ]\ndisk = [ "file:/x,xvda,w" ]\n',
  ],
  xl: [
    'name = "g"\nuuid = "c7a5fdb2-cdaf-9455-926a-d65c16db1809"\nmaxmem = 8192\nmemory = 8192\nvcpus = 8\nhap = 0\nviridian = 1\ntsc_mode = "native"\npassthrough = "share_pt"\nnestedhvm = 1\ncpuid = "host,tm=0,sse3=1"\nbuilder = "hvm"\nbios = "ovmf"\nacpi_firmware = "/a"\nspice = 1\nspiceport = 590\nspicedisable_ticketing = 0\nspicepasswd = "x"\nspiceagent_mouse = 1\nspice_clipboard_sharing = 1\nvnuma = [ [ "pnode=0", "size=4096", "vcpus=0-3", "vdistances=10,21" ], [ "pnode=1", "size=4096", "vcpus=4-7", "vdistances=21,10" ] ]\nvif = [ "mac=00:16:3e:66:92:9c,bridge=ovsbr0:42:43,script=vif-openvswitch,type=vif,rate=10240KB/s" ]\ndisk = [ "format=raw,vdev=hda,access=rw,backendtype=phy,target=/dev/x", "/y,qcow2,hdb,ro,devtype=cdrom", "format=raw,vdev=hdc,target=rbd:pool/image:auth_supported=none:mon_host=m1\\\\:6321\\\\;m2" ]\nserial = [ "pty", "pty" ]\nusbdevice = [ "mouse", "tablet" ]\nusbctrl = [ "type=qusb,version=2,ports=6" ]\nusbdev = [ "hostbus=1,hostaddr=3" ]\nchannel = [ "connection=socket,path=/s,name=org.qemu.guest_agent.0" ]\ndevice_model_args = [ "-a", "b" ]\n',
    'name = "p"\ntype = "pvh"\nmemory = 512\nkernel = "/k"\ncmdline = "root=/dev/xvda1"\ne820_host = 1\nmax_grant_frames = 64\n',
  ],
  xml: [
    "<domain type='xen' id='3'><name>g</name><uuid>c7a5fdb2-cdaf-9455-926a-d65c16db1809</uuid><memory unit='MiB'>512</memory><currentMemory>1024</currentMemory><vcpu current='1'>2</vcpu><os><type arch='x86_64' machine='xenfv'>hvm</type><loader type='rom'>/usr/lib/xen/boot/hvmloader</loader><boot dev='cdrom'/><boot dev='hd'/></os><features><acpi/><apic/><pae/><hap state='off'/></features><clock offset='variable' adjustment='0' basis='localtime'><timer name='hpet' present='yes'/></clock><devices><emulator>/usr/lib/xen/bin/qemu-dm</emulator><disk type='file' device='cdrom'><source file='/iso'/><target dev='hdc'/><readonly/></disk><disk type='block'><driver name='phy'/><source dev='/dev/x'/><target dev='hda'/></disk><interface type='bridge'><mac address='00:16:3e:00:00:01'/><source bridge='br0'/><bandwidth><outbound average='100'/></bandwidth><model type='e1000'/></interface><serial type='udp'><source mode='bind' host='a' service='1'/><source mode='connect' host='b' service='2'/><target port='0'/></serial><input type='tablet' bus='usb'/><graphics type='vnc' port='5901' keymap='de' listen='0.0.0.0' passwd='p'/><sound model='sb16'/><hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x01' slot='0x02' function='0x3'/></source></hostdev></devices></domain>",
    "<domain type='xen'><name>p</name><memory>524288</memory><bootloader>/usr/bin/pygrub</bootloader><bootloader_args>-q</bootloader_args><clock offset='localtime'/><devices><disk type='file' device='disk'><driver name='tap' type='qcow'/><source file='/x'/><target dev='xvda'/><shareable/></disk><interface type='ethernet'><ip address='1.2.3.4'/><script path='vif-routed'/></interface><console type='pty'/><graphics type='sdl' display=':0' xauth='/x'/></devices></domain>",
  ],
  caps: ['xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64\nflags : fpu pae svm lm\n', 'xen-3.0-ia64be hvm-3.0-ia64be xen-3.0-powerpc64\nflags : vmx\n'],
};

/** Run one input through a target; returns 'ok', 'error' (VirError) or throws the bug. */
export function runTarget(target: Target, input: string): 'ok' | 'error' {
  try {
    switch (target) {
      case 'sexpr':
      case 'xm':
      case 'xl': {
        const xml = xmlFromNative(target === 'sexpr' ? 'xen-sxpr' : target === 'xm' ? 'xen-xm' : 'xen-xl', input);
        // What we emit must read back: a VirError here is a bug, not a rejected input.
        try {
          parseDomainXML(xml);
        } catch (e) {
          throw new Error(`emitted XML does not parse back: ${(e as Error).message}`);
        }
        break;
      }
      case 'xml': {
        // Parse once (the part under test), then every writer must cope with what parsed.
        const def = parseDomainXML(input, { inactive: true });
        const pairs: [(d: typeof def) => string, NativeFormat][] = [
          [domainToSexpr, 'xen-sxpr'],
          [domainToXM, 'xen-xm'],
          [domainToXL, 'xen-xl'],
        ];
        for (const [write, format] of pairs) {
          let text: string;
          try {
            text = write(def);
          } catch (e) {
            if (!isVirError(e)) throw e;
            continue;
          }
          // What we write must read back (the writer escaped everything it had to).
          try {
            xmlFromNative(format, format === 'xen-sxpr' ? text.replace(/^\(vm /, '(domain ') : text);
          } catch (e) {
            throw new Error(`${format} written from parsed XML does not read back: ${(e as Error).message}`);
          }
        }
        break;
      }
      case 'caps': {
        const nl = input.indexOf('\n');
        xenCapabilities({ arch: 'x86_64', capabilities: nl < 0 ? input : input.slice(0, nl), cpuinfo: nl < 0 ? '' : input.slice(nl + 1) });
        break;
      }
    }
    return 'ok';
  } catch (e) {
    if (isVirError(e)) return 'error';
    throw e;
  }
}

export interface FuzzReport {
  target: Target;
  cases: number;
  ok: number;
  errors: number;
  crashes: { input: string; error: string }[];
  slowest: number; // ms
  slowestInput: string;
}

/** Fuzz one target with `cases` mutations of `seeds`. */
export function fuzzTarget(target: Target, seeds: string[], cases: number, seed: number): FuzzReport {
  const r = rng(seed);
  const rep: FuzzReport = { target, cases, ok: 0, errors: 0, crashes: [], slowest: 0, slowestInput: '' };
  for (let i = 0; i < cases; i++) {
    const base = seeds[Math.floor(r() * seeds.length)]!;
    const input = mutate(base, r, seeds);
    const t0 = performance.now();
    try {
      if (runTarget(target, input) === 'ok') rep.ok++;
      else rep.errors++;
    } catch (e) {
      if (rep.crashes.length < 20) rep.crashes.push({ input, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
    const dt = performance.now() - t0;
    if (dt > rep.slowest) {
      rep.slowest = dt;
      rep.slowestInput = input;
    }
  }
  return rep;
}
