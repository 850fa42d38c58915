/**
 * The contract between the unified Xen driver and its sub-drivers.
 *
 * A sub-driver is one way of reaching a Xen host (hypercalls, XenStore, config files,
 * the xl toolstack, xend, the proxy). Each implements the subset of the public driver
 * methods it can answer, with the same names and signatures as HypervisorDriver, and
 * keeps its own private state: no sub-driver reads another's. The routing table
 * (routing.ts) decides which sub-drivers a public method tries, in which order.
 */
import type { EventEmitter } from 'node:events';
import type { HypervisorDriver } from '../../driver.js';
import type { VirError } from '../../errors.js';

export type SubDriverName = 'hypervisor' | 'xenstore' | 'configfiles' | 'toolstack' | 'xend' | 'proxy';

/** Per-sub-driver settings a caller may pass as connect(uri, { xen: { … } }). */
export interface XenOptions {
  /** Directory of xl/xm config files (default /etc/xen). */
  configDir?: string;
  /** XenStore unix socket (default: $XENSTORED_PATH, /run/xenstored/socket, /var/run/xenstored/socket). */
  xenstorePath?: string;
  /** Use /dev/xen/xenbus instead of the socket. */
  xenstoreDevice?: boolean;
  /** The xl binary (default: xl on PATH). */
  xlPath?: string;
  /** xend: unix socket path or http://host:port (default /var/lib/xend/xend-socket). */
  xendAddress?: string;
  /** xenvirt-proxy socket (default /run/xenvirt/proxy.sock). */
  proxyPath?: string;
  /** Pretend not to be root (tests of the non-root open rules). */
  privileged?: boolean;
  /** Sub-drivers not to open at all (tests of fallbacks and open rules). */
  disable?: SubDriverName[];
  /**
   * The libvirt daemon socket network calls go to; false: no network slot. Default: as
   * libvirt's client picks, /run/libvirt/virtnetworkd-sock if it exists, else libvirt-sock.
   */
  networkSocket?: string | false;
  /** The URI the daemon opens for network calls (default network:///system). */
  networkURI?: string;
}

export interface SubDriverContext {
  uri: URL;
  options: XenOptions;
  /** Running as root (or told so by options.privileged). */
  privileged: boolean;
  readOnly: boolean;
  /** Connection events ('domain-event'). */
  events: EventEmitter;
  /** Where sub-drivers report non-fatal trouble (a sub-driver that could not open, …): the debug channel. */
  log(message: string): void;
  /**
   * A degradation the caller should know of (conn.warnings; after the open also the
   * connection's 'warning' event). Absent in contexts that have no connection (tests).
   */
  warn?(warning: VirError): void;
}

/** The public driver methods a sub-driver may implement (all optional). */
export type SubDriverMethods = Omit<Partial<HypervisorDriver>, 'name' | 'close'>;

export interface SubDriver extends SubDriverMethods {
  readonly name: SubDriverName;
  close(): Promise<void>;
}

export interface SubDriverFactory {
  readonly name: SubDriverName;
  /** Open, or throw a VirError saying why this sub-driver cannot serve this host. */
  open(ctx: SubDriverContext): Promise<SubDriver>;
}
