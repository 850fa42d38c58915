/**
 * The one domain model every driver and converter shares.
 *
 * Field names follow the domain XML; optional fields are absent when the XML has no such
 * element or attribute, so formatting a parsed document gives the same document back.
 */

export type OnOff = 'on' | 'off';

export interface DomainOS {
  /** 'xen' | 'linux' | 'hvm' | 'xenpvh' … (text of <type>) */
  type: string;
  arch?: string;
  machine?: string;
  loader?: { path: string; readonly?: string; type?: string; format?: string };
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** <acpi><table type=…>path</table></acpi> */
  acpiTables?: { type: string; path: string }[];
  /** <boot dev=…/> in order */
  boot?: string[];
  [k: string]: unknown;
}

export interface DomainFeatures {
  /** Simple switches (acpi, apic, pae, hap, viridian, privnet, nonpae …): on => <x/>, off => <x state='off'/> */
  switches: Map<string, OnOff>;
  /** <xen> sub-features */
  xen?: { e820_host?: OnOff; passthrough?: { state: OnOff; mode?: string } };
}

export interface NumaCell {
  id: number;
  cpus: string;
  memory: number; // KiB
  distances?: { id: number; value: number }[];
}

export interface DomainCPU {
  mode?: string;
  features: { policy: string; name: string }[];
  numa?: NumaCell[];
}

export interface ClockTimer {
  name: string;
  present?: 'yes' | 'no';
  tickpolicy?: string;
  mode?: string;
}

export interface DomainClock {
  offset: string; // utc | localtime | variable | timezone
  adjustment?: string; // 'reset' or seconds
  basis?: string; // utc | localtime (offset=variable)
  timers?: ClockTimer[];
}

export interface DriveAddress {
  type: 'drive';
  controller: number;
  bus: number;
  target: number;
  unit: number;
}

export interface DiskDef {
  type: string; // file | block | network
  device: string; // disk | cdrom | floppy
  driver?: { name?: string; type?: string };
  /** file path (type=file) or device path (type=block); absent for an empty cdrom */
  source?: string;
  network?: { protocol: string; name?: string; hosts: { name: string; port?: string }[] };
  target: { dev: string; bus?: string };
  readonly?: boolean;
  shareable?: boolean;
  address?: DriveAddress;
}

export interface ControllerDef {
  type: string;
  index: number;
  model?: string;
  ports?: number;
  maxGrantFrames?: number;
  maxEventChannels?: number;
}

export interface InterfaceDef {
  type: string; // bridge | ethernet | network | …
  mac?: string;
  source?: { bridge?: string; network?: string; dev?: string };
  vlan?: { trunk?: boolean; tags: number[] };
  virtualport?: string;
  ips?: { address: string; family: string; prefix?: number }[];
  bandwidth?: { outbound?: { average: number; peak?: number; burst?: number } };
  script?: string;
  target?: string;
  model?: string;
  backendDomain?: string;
}

export interface ChardevSource {
  mode?: string;
  path?: string;
  host?: string;
  service?: string;
}

export interface ChardevDef {
  /** pty | dev | file | pipe | null | stdio | vc | udp | tcp | unix */
  type: string;
  tty?: string;
  sources: ChardevSource[];
  protocol?: string; // tcp: raw | telnet
  target: { type?: string; port?: number; name?: string };
}

export interface InputDef {
  type: string;
  bus?: string;
}

export interface GraphicsListen {
  type: string;
  address?: string;
  network?: string;
}

export interface GraphicsDef {
  type: string; // vnc | sdl | spice
  port?: number;
  tlsPort?: number;
  autoport?: boolean;
  listen?: string;
  keymap?: string;
  passwd?: string;
  display?: string;
  xauth?: string;
  fullscreen?: boolean;
  listens: GraphicsListen[];
  mouseMode?: string;
  clipboard?: string;
}

export interface VideoDef {
  model: string;
  vram?: number;
  heads?: number;
  primary?: boolean;
}

export interface HostdevDef {
  mode: string; // subsystem
  type: string; // pci | usb
  managed: boolean;
  writeFiltering?: string;
  pci?: { domain: number; bus: number; slot: number; function: number };
  usb?: { bus: number; device: number };
}

export interface DomainDevices {
  emulator?: string;
  disks: DiskDef[];
  controllers: ControllerDef[];
  interfaces: InterfaceDef[];
  serials: ChardevDef[];
  parallels: ChardevDef[];
  consoles: ChardevDef[];
  channels: ChardevDef[];
  inputs: InputDef[];
  graphics: GraphicsDef[];
  sounds: { model: string }[];
  videos: VideoDef[];
  hostdevs: HostdevDef[];
  memballoon?: { model: string };
}

export interface DomainDef {
  type: string;
  /** live id; absent or -1 => no id attribute */
  id?: number;
  name: string;
  uuid: string;
  /** KiB, maximum (<memory>) */
  memory: number;
  /** KiB (<currentMemory>) */
  currentMemory: number;
  /** <vcpu> count (maximum) */
  vcpus: number;
  /** current='N' when fewer than vcpus are online */
  vcpuCurrent?: number;
  cpuset?: string;
  /** <cputune><shares>: the scheduler weight (xm/xl cpu_weight, xend cpu_weight) */
  cputune?: { shares?: number };
  bootloader?: string;
  bootloaderArgs?: string;
  os: DomainOS;
  features?: DomainFeatures;
  cpu?: DomainCPU;
  clock: DomainClock;
  onPoweroff: string;
  onReboot: string;
  onCrash: string;
  devices: DomainDevices;
  /** <xen:commandline> extra device-model arguments */
  emulatorArgs?: string[];
  [k: string]: unknown;
}

export function emptyDevices(): DomainDevices {
  return {
    disks: [],
    controllers: [],
    interfaces: [],
    serials: [],
    parallels: [],
    consoles: [],
    channels: [],
    inputs: [],
    graphics: [],
    sounds: [],
    videos: [],
    hostdevs: [],
  };
}
