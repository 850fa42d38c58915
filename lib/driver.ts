/**
 * The driver contract: what a hypervisor driver (Xen, test, …) and a network driver
 * implement, and how drivers register for URI schemes.
 *
 * As in libvirt's driver tables, only `name` and `close` are required. Every other
 * method is optional; the connection answers VIR_ERR_NO_SUPPORT for a method a driver
 * lacks, so a driver implements exactly what its host can do and nothing pretends.
 */
import type { EventEmitter } from 'node:events';
import type { VirError } from './errors.js';

/** Run states, as the public API names them (libvirt's virDomainState). */
export type DomainState = 'nostate' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed';

/** How a driver names a domain to the connection; the connection wraps it in a Domain. */
export interface DomainRef {
  name: string;
  uuid: string;
  /** Live domain id; -1 when the domain is not running. */
  id: number;
  /** Info read in the same pass as the list, when asked with withInfo. */
  info?: DomainInfo;
}

export interface DomainInfo {
  state: DomainState;
  /** Maximum memory, KiB. */
  maxMem: number;
  /** Current memory, KiB. */
  memory: number;
  nrVirtCpu: number;
  /** CPU time used, nanoseconds. */
  cpuTime: number;
}

export interface VcpuInfo {
  number: number;
  state: 'offline' | 'running' | 'blocked';
  /** CPU time used by this vcpu, nanoseconds. */
  cpuTime: number;
  /** Physical CPU it runs on now, -1 when not running. */
  cpu: number;
  /** Physical CPUs it may run on (CPU numbers, ascending). */
  cpumap: number[];
}

export interface NodeInfo {
  model: string;
  /** KiB */
  memory: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface ListDomainsFlags {
  active?: boolean;
  inactive?: boolean;
  /** Attach each domain's info (one batch) when the driver can. */
  withInfo?: boolean;
}

export interface XMLDescFlags {
  inactive?: boolean;
}

export interface NetworkRef {
  name: string;
  uuid: string;
}

/** Native config formats the converters understand (virsh's names). */
export type NativeFormat = 'xen-sxpr' | 'xen-xm' | 'xen-xl';

/**
 * A hypervisor driver's method table. A method may return an updated DomainRef when the
 * call changes the domain's identity (e.g. create() gives it an id).
 */
export interface HypervisorDriver {
  readonly name: string;
  close(): Promise<void>;

  getType?(): string;
  getVersion?(): Promise<number>;
  getHostname?(): Promise<string>;
  getCapabilities?(): Promise<string>;
  nodeGetInfo?(): Promise<NodeInfo>;

  listAllDomains?(flags: ListDomainsFlags): Promise<DomainRef[]>;
  lookupDomainByName?(name: string): Promise<DomainRef>;
  lookupDomainById?(id: number): Promise<DomainRef>;
  lookupDomainByUUID?(uuid: string): Promise<DomainRef>;
  defineXML?(xml: string): Promise<DomainRef>;
  createXML?(xml: string): Promise<DomainRef>;
  restore?(path: string): Promise<void>;
  domainXMLFromNative?(format: NativeFormat, text: string): Promise<string>;
  domainXMLToNative?(format: NativeFormat, xml: string): Promise<string>;

  domainGetInfo?(dom: DomainRef): Promise<DomainInfo>;
  domainSuspend?(dom: DomainRef): Promise<DomainRef | void>;
  domainResume?(dom: DomainRef): Promise<DomainRef | void>;
  domainShutdown?(dom: DomainRef): Promise<DomainRef | void>;
  domainReboot?(dom: DomainRef): Promise<DomainRef | void>;
  domainDestroy?(dom: DomainRef): Promise<DomainRef | void>;
  domainCreate?(dom: DomainRef): Promise<DomainRef | void>;
  domainUndefine?(dom: DomainRef): Promise<DomainRef | void>;
  domainGetXMLDesc?(dom: DomainRef, flags: XMLDescFlags): Promise<string>;
  domainSetMemory?(dom: DomainRef, kib: number): Promise<void>;
  domainSetMaxMemory?(dom: DomainRef, kib: number): Promise<void>;
  domainSetVcpus?(dom: DomainRef, count: number): Promise<void>;
  domainGetVcpus?(dom: DomainRef): Promise<VcpuInfo[]>;
  domainPinVcpu?(dom: DomainRef, vcpu: number, cpumap: number[]): Promise<void>;
  domainGetAutostart?(dom: DomainRef): Promise<boolean>;
  domainSetAutostart?(dom: DomainRef, autostart: boolean): Promise<void>;
  domainSave?(dom: DomainRef, path: string): Promise<DomainRef | void>;
  domainCoreDump?(dom: DomainRef, path: string): Promise<void>;
}

/**
 * Methods only some drivers have (the remote driver). Kept out of HypervisorDriver so
 * driver tables that route every method (the Xen driver's) need no entry for them.
 */
export interface HypervisorDriverExtensions {
  /** The domain's console (or the named character device) as a byte stream. */
  domainOpenConsole?(dom: DomainRef, devName?: string): Promise<import('node:stream').Duplex>;

  /** virConnectSetKeepAlive: ping an idle peer every interval s, give up after count misses. */
  setKeepAlive?(intervalSeconds: number, count: number): Promise<void>;
  /** Called when the connection gets its first listener for an event kind (drivers that must subscribe). */
  watchEvents?(kind: 'domain-event' | 'network-event'): Promise<void>;
}

export interface NetworkDriver {
  readonly name: string;
  close(): Promise<void>;
  listAllNetworks?(): Promise<NetworkRef[]>;
  lookupNetworkByName?(name: string): Promise<NetworkRef>;
  lookupNetworkByUUID?(uuid: string): Promise<NetworkRef>;
  networkDefineXML?(xml: string): Promise<NetworkRef>;
  networkCreate?(net: NetworkRef): Promise<void>;
  networkDestroy?(net: NetworkRef): Promise<void>;
  networkUndefine?(net: NetworkRef): Promise<void>;
  networkGetXMLDesc?(net: NetworkRef): Promise<string>;
  networkGetBridgeName?(net: NetworkRef): Promise<string>;
  networkIsActive?(net: NetworkRef): Promise<boolean>;
}

export interface ConnectOptions {
  /** Refuse every mutating call with VIR_ERR_OPERATION_DENIED. */
  readOnly?: boolean;
  /** Driver-specific settings (e.g. `{ xen: { configDir, xenstorePath } }`). */
  [driverOptions: string]: unknown;
}

/** What a driver's open() gets besides the URI. */
export interface OpenContext {
  options: ConnectOptions;
  readOnly: boolean;
  /** The connection's emitter, for driver events ('domain-event'). */
  events: EventEmitter;
}

export interface OpenedDrivers {
  driver: HypervisorDriver;
  /** Why the connection opened with less than it could have (e.g. a sub-driver unusable on this host). */
  warnings?: readonly VirError[];
  /** Absent means the connection's network slot stays empty. */
  networkDriver?: NetworkDriver;
}

/**
 * A registry entry. `open` returns 'declined' when the URI is not for it, so the next
 * registration for the same scheme may try; it throws a VirError when it is for it but
 * cannot open.
 */
export interface DriverRegistration {
  name: string;
  uriSchemes: readonly string[];
  open(uri: URL, ctx: OpenContext): Promise<OpenedDrivers | 'declined'>;
}
