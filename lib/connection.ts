/**
 * `connect(uri)` and `Connection`: the public entry point (libvirt.c's layer).
 *
 * A connection holds exactly one hypervisor driver, chosen by URI scheme through the
 * registry, and one network-driver slot that may be empty. Every method goes through
 * lib/dispatch.ts, so closed, read-only and unsupported calls fail the same way
 * everywhere.
 */
import { EventEmitter } from 'node:events';
import { VirError, ErrorCode, ErrorDomain } from './errors.js';
import { driversForScheme, loadDriversForScheme } from './registry.js';
import { callDriver, callNetwork, type DispatchState } from './dispatch.js';
import { checkFlags, checkName, checkString, checkUInt, checkUUID } from './args.js';
import { Domain } from './domain-handle.js';
import { Network } from './network-handle.js';
import type {
  ConnectOptions,
  HypervisorDriverExtensions,
  DomainRef,
  ListDomainsFlags,
  NativeFormat,
  NetworkRef,
  NodeInfo,
} from './driver.js';

const NATIVE_FORMATS: readonly NativeFormat[] = ['xen-sxpr', 'xen-xm', 'xen-xl'];

function checkFormat(format: unknown): NativeFormat {
  if (!NATIVE_FORMATS.includes(format as NativeFormat)) {
    throw new VirError(`unsupported config type '${String(format)}' (expected one of ${NATIVE_FORMATS.join(', ')})`, {
      code: ErrorCode.INVALID_ARG,
      domain: ErrorDomain.NONE,
    });
  }
  return format as NativeFormat;
}

function parseURI(uri: unknown): URL {
  const text = checkString(uri, 'connection URI');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new VirError(`malformed connection URI '${text}'`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.NONE });
  }
  return url;
}

export interface ConnectionEvents {
  'domain-event': [{ domain: { name: string; uuid: string; id: number }; event: string; detail?: string; data?: Record<string, unknown> }];
  'network-event': [{ network: { name: string; uuid: string }; event: string }];
  /** The domain event stream ended: no more 'domain-event's will come. */
  'domain-event-error': [VirError];
  warning: [VirError];
  /** The link to a remote daemon ended: 'eof', 'error', 'keepalive' or 'client'. */
  'connection-closed': [{ reason: string; error?: Error }];
}

/** Events a driver forwards through the connection. */
const FORWARDED_EVENTS = ['domain-event', 'network-event', 'connection-closed'] as const;

export class Connection extends EventEmitter {
  /**
   * Why this connection works with less than it could (a driver part that could not be
   * used on this host, an event stream that ended): VirErrors, oldest first. Each one
   * after the open is also emitted as 'warning'.
   */
  warnings: VirError[] = [];
  #state: DispatchState;
  #closing: Promise<void> | undefined;

  /** @internal Use connect(). */
  constructor(state: DispatchState) {
    super();
    this.#state = state;
  }

  /** @internal Used by connect() to finish construction. */
  static _create(state: DispatchState): Connection {
    return new Connection(state);
  }

  #domain = (ref: DomainRef) => new Domain(this.#state, ref);
  #network = (ref: NetworkRef) => new Network(this.#state, ref);

  /** Hypervisor type, e.g. 'Test' or 'Xen'. */
  getType(): string {
    if (this.#state.closed) {
      throw new VirError(`connection to '${this.#state.uri}' is closed`, { code: ErrorCode.INVALID_CONN, domain: ErrorDomain.NONE });
    }
    return this.#state.driver.getType?.() ?? this.#state.driver.name;
  }
  getURI(): string {
    if (this.#state.closed) {
      throw new VirError(`connection to '${this.#state.uri}' is closed`, { code: ErrorCode.INVALID_CONN, domain: ErrorDomain.NONE });
    }
    return this.#state.uri;
  }
  get readOnly(): boolean {
    return this.#state.readOnly;
  }
  get closed(): boolean {
    return this.#state.closed;
  }

  /** Hypervisor version as libvirt encodes it: major * 1,000,000 + minor * 1,000 + release. */
  getVersion(): Promise<number> {
    return callDriver(this.#state, 'getVersion');
  }
  getHostname(): Promise<string> {
    return callDriver(this.#state, 'getHostname');
  }
  getCapabilities(): Promise<string> {
    return callDriver(this.#state, 'getCapabilities');
  }
  nodeGetInfo(): Promise<NodeInfo> {
    return callDriver(this.#state, 'nodeGetInfo');
  }

  async listAllDomains(flags?: ListDomainsFlags): Promise<Domain[]> {
    const f = checkFlags<ListDomainsFlags>(flags, 'listAllDomains flags', ['active', 'inactive', 'withInfo']);
    const refs = await callDriver<DomainRef[]>(this.#state, 'listAllDomains', f);
    // Info a driver attached unasked is dropped: a handle answers from it only on request.
    return refs.map((ref) => new Domain(this.#state, ref, f.withInfo === true ? ref.info : undefined));
  }
  async lookupDomainByName(name: string): Promise<Domain> {
    return this.#domain(await callDriver<DomainRef>(this.#state, 'lookupDomainByName', checkName(name, 'domain name')));
  }
  async lookupDomainById(id: number): Promise<Domain> {
    return this.#domain(await callDriver<DomainRef>(this.#state, 'lookupDomainById', checkUInt(id, 'domain id', 0x7fff_ffff)));
  }
  async lookupDomainByUUID(uuid: string): Promise<Domain> {
    return this.#domain(await callDriver<DomainRef>(this.#state, 'lookupDomainByUUID', checkUUID(uuid)));
  }
  /** Define (make persistent) a domain from XML; it stays inactive. */
  async defineXML(xml: string): Promise<Domain> {
    return this.#domain(await callDriver<DomainRef>(this.#state, 'defineXML', checkString(xml, 'domain XML')));
  }
  /** Create and start a transient domain from XML. */
  async createXML(xml: string): Promise<Domain> {
    return this.#domain(await callDriver<DomainRef>(this.#state, 'createXML', checkString(xml, 'domain XML')));
  }
  /** Restore a domain saved with Domain.save(). */
  async restore(path: string): Promise<void> {
    await callDriver(this.#state, 'restore', checkString(path, 'restore path'));
  }
  async domainXMLFromNative(format: NativeFormat, text: string): Promise<string> {
    return callDriver(this.#state, 'domainXMLFromNative', checkFormat(format), checkString(text, 'native config'));
  }
  async domainXMLToNative(format: NativeFormat, xml: string): Promise<string> {
    return callDriver(this.#state, 'domainXMLToNative', checkFormat(format), checkString(xml, 'domain XML'));
  }

  async listAllNetworks(): Promise<Network[]> {
    return (await callNetwork<NetworkRef[]>(this.#state, 'listAllNetworks')).map(this.#network);
  }
  async lookupNetworkByName(name: string): Promise<Network> {
    return this.#network(await callNetwork<NetworkRef>(this.#state, 'lookupNetworkByName', checkName(name, 'network name')));
  }
  async lookupNetworkByUUID(uuid: string): Promise<Network> {
    return this.#network(await callNetwork<NetworkRef>(this.#state, 'lookupNetworkByUUID', checkUUID(uuid)));
  }
  async networkDefineXML(xml: string): Promise<Network> {
    return this.#network(await callNetwork<NetworkRef>(this.#state, 'networkDefineXML', checkString(xml, 'network XML')));
  }

  /**
   * libvirt's virConnectSetKeepAlive (remote connections): after `intervalSeconds` without
   * traffic send a keepalive, and close the connection after `count` unanswered ones.
   */
  async setKeepAlive(intervalSeconds: number, count: number): Promise<void> {
    await callDriver(this.#state, 'setKeepAlive', checkUInt(intervalSeconds, 'keepalive interval', 0x7fff_ffff), checkUInt(count, 'keepalive count', 0x7fff_ffff));
  }

  /**
   * Close the connection. Idempotent: later calls return the same promise. New calls
   * reject at once with VIR_ERR_INVALID_CONN; calls already in flight are let finish
   * (each driver settles its own pending work when closed) and each driver is closed once.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#state.closed = true;
    const { driver, networkDriver } = this.#state;
    this.#closing = (async () => {
      const results = await Promise.allSettled([
        driver.close(),
        networkDriver && networkDriver !== (driver as unknown) ? networkDriver.close() : Promise.resolve(),
      ]);
      this.#state.inFlight.clear();
      for (const name of FORWARDED_EVENTS) if (name !== 'connection-closed') this.removeAllListeners(name);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    })();
    return this.#closing;
  }
}

/**
 * Open a connection. The URI's scheme picks the driver: `test:///default`,
 * `test:///ABSOLUTE/PATH.xml`, `xen:///`.
 */
export async function connect(uri: string = process.env.XENVIRT_DEFAULT_URI ?? 'test:///default', options: ConnectOptions = {}): Promise<Connection> {
  const url = parseURI(uri);
  if (options === null || typeof options !== 'object') {
    throw new VirError('connect options must be an object', { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.NONE });
  }
  const readOnly = options.readOnly === true;
  const scheme = url.protocol.replace(/:$/, '');
  await loadDriversForScheme(scheme);
  const candidates = driversForScheme(scheme);
  const events = new EventEmitter();
  for (const reg of candidates) {
    const opened = await reg.open(url, { options, readOnly, events });
    if (opened === 'declined') continue;
    const state: DispatchState = {
      uri,
      readOnly,
      closed: false,
      driver: opened.driver,
      networkDriver: opened.networkDriver,
      inFlight: new Set(),
    };
    const conn = Connection._create(state);
    conn.warnings = [...(opened.warnings ?? [])];
    // Driver events reach users through the connection itself.
    for (const name of FORWARDED_EVENTS) {
      events.on(name, (ev) => {
        if (!state.closed || name === 'connection-closed') conn.emit(name, ev);
      });
    }
    // Drivers that must subscribe to events (remote) do so when someone first listens.
    const watch = (opened.driver as HypervisorDriverExtensions).watchEvents?.bind(opened.driver);
    // A separate network driver (the Xen connection's slot) subscribes to network events itself.
    const net = opened.networkDriver as (HypervisorDriverExtensions & object) | undefined;
    const watchNetwork = net && net !== (opened.driver as object) ? net.watchEvents?.bind(net) : undefined;
    if (watch || watchNetwork) {
      conn.on('newListener', (name: string) => {
        if (state.closed) return;
        // Both resolve even when the daemon refuses: events then just never come.
        if (name === 'network-event' && watchNetwork) void watchNetwork(name);
        else if ((name === 'domain-event' || name === 'network-event') && watch) void watch(name);
      });
    }
    // The driver's domain event stream ended with an error; later degradations are warnings.
    events.on('domain-event-error', (err) => {
      if (state.closed) return;
      conn.warnings.push(err);
      conn.emit('domain-event-error', err);
      conn.emit('warning', err);
    });
    events.on('warning', (w) => {
      if (state.closed) return;
      conn.warnings.push(w);
      conn.emit('warning', w);
    });
    return conn;
  }
  throw new VirError(`no connection driver available for URI '${uri}'`, {
    code: ErrorCode.NO_CONNECT,
    domain: ErrorDomain.NONE,
  });
}
