/**
 * The network slot of `xen:///`: the connection's network calls go to a local libvirt
 * daemon's network driver (`network:///system` unless options.xen.networkURI says
 * otherwise) through the remote driver.
 *
 * Opened lazily, on the first network call or the first 'network-event' listener, not
 * with the Xen sub-drivers: a `xen:///` open then costs exactly what it did (no socket, no
 * RPC handshake, the remote driver's protocol tables not even loaded), programs that never
 * touch networks hold no daemon connection, and a missing or hung daemon can never delay or
 * fail the Xen side. While the slot is not open every network call tries again (concurrent
 * calls share one attempt), so a daemon started later is found.
 *
 * - No daemon reachable: VIR_ERR_NO_SUPPORT naming every socket tried and what happened.
 * - The daemon goes away after the open: network calls fail with VIR_ERR_SYSTEM_ERROR naming
 *   the daemon (and a 'warning' on the connection); the slot stays down until the connection
 *   is reopened, as a libvirt connection to a daemon that died does. Xen calls never notice.
 * - close(): closes the daemon connection once; calls in flight or waiting for the open end
 *   with VIR_ERR_INVALID_CONN.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { ErrorCode, ErrorDomain, VirError, isVirError } from '../../errors.js';
import type { NetworkDriver, NetworkRef } from '../../driver.js';
import type { RemoteDriver } from '../../remote/driver.js';

/** What the daemon is asked to open when options.xen.networkURI is not given. */
export const DEFAULT_NETWORK_URI = 'network:///system';
/** Bound on reaching a local daemon (connect + handshake); keepalive covers it afterwards. */
const OPEN_TIMEOUT_MS = 15_000;

export interface NetworkSlotOptions {
  /** The Xen connection's URI, for messages. */
  connectionURI: string;
  /** The URI the daemon opens for us. */
  networkURI: string;
  /** A unix socket path; false = no network slot; undefined = choose as libvirt's client does. */
  socket: string | false | undefined;
  readOnly: boolean;
  /** The Xen connection's event emitter: 'network-event' and 'warning' go there. */
  events: EventEmitter;
  log: (message: string) => void;
  openTimeoutMs?: number;
}

type Call<T> = (remote: RemoteDriver) => Promise<T>;

export class XenNetworkSlot implements NetworkDriver {
  readonly name = 'network (libvirt daemon)';
  readonly #o: NetworkSlotOptions;
  #remote: RemoteDriver | undefined;
  /** 'libvirt daemon at unix:/run/libvirt/libvirt-sock (network:///system)' once open. */
  #daemon = '';
  #opening: Promise<RemoteDriver> | undefined;
  #lost: VirError | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: NetworkSlotOptions) {
    this.#o = options;
  }

  /** The daemon connection, opening it first when needed. */
  async #driver(method: string): Promise<RemoteDriver> {
    if (this.#closed) throw this.#closedError(method, 'was called after close');
    if (this.#lost) throw this.#lostError(method, this.#lost);
    if (this.#remote) return this.#remote;
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    const remote = await this.#opening;
    if (this.#closed) throw this.#closedError(method, 'was closed while this call waited for the libvirt daemon');
    return remote;
  }

  async #open(): Promise<RemoteDriver> {
    const o = this.#o;
    if (o.socket === false) throw this.#noSupport('disabled by options.xen.networkSocket = false');
    const [{ RemoteDriver }, { parseRemoteURI, chooseUnixSocket }] = await Promise.all([import('../../remote/driver.js'), import('../../remote/uri.js')]);
    // libvirt's client order for a local URI: the modular daemon's socket, then libvirtd's.
    const candidates = typeof o.socket === 'string' ? [o.socket] : chooseUnixSocket(parseRemoteURI(o.networkURI), { exists: () => false, readonly: o.readOnly }).considered;
    const tried: string[] = [];
    for (const path of candidates) {
      if (!existsSync(path)) {
        tried.push(`${path}: no such socket`);
        continue;
      }
      const target = parseRemoteURI(o.networkURI);
      target.client.socket = path;
      // A private emitter: the daemon link's own 'connection-closed' is not the Xen connection's.
      const events = new EventEmitter();
      try {
        const remote = await RemoteDriver.open(target, { options: {}, readOnly: o.readOnly, events }, { openTimeoutMs: o.openTimeoutMs ?? OPEN_TIMEOUT_MS });
        this.#daemon = `libvirt daemon at ${path} (${o.networkURI})`;
        events.on('network-event', (ev) => o.events.emit('network-event', ev));
        events.on('connection-closed', (ev: { reason: string; error?: Error }) => this.#onLost(ev));
        this.#remote = remote;
        o.log(`network slot: ${o.connectionURI} network calls go to the ${this.#daemon}`);
        return remote;
      } catch (e) {
        tried.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    throw this.#noSupport(`no libvirt daemon serving ${o.networkURI} could be reached (tried ${tried.join('; ')})`);
  }

  #onLost(ev: { reason: string; error?: Error }): void {
    if (ev.reason === 'client' || this.#closed || this.#lost) return;
    const why = ev.error?.message ?? ev.reason;
    this.#lost = new VirError(
      `lost the ${this.#daemon}: ${why}. Network calls on ${this.#o.connectionURI} fail from now on (Xen calls are not affected); reopen the connection once the daemon runs again`,
      { code: ErrorCode.SYSTEM_ERROR, domain: ErrorDomain.RPC, ...(ev.error ? { cause: ev.error } : {}) },
    );
    this.#o.log(this.#lost.message);
    this.#o.events.emit('warning', this.#lost);
  }

  #noSupport(why: string): VirError {
    return new VirError(`this function is not supported by the connection driver: no network driver on ${this.#o.connectionURI}: ${why}`, {
      code: ErrorCode.NO_SUPPORT,
      domain: ErrorDomain.NETWORK,
    });
  }
  #closedError(method: string, what: string): VirError {
    return new VirError(`${method}: the network side of ${this.#o.connectionURI} ${what}`, { code: ErrorCode.INVALID_CONN, domain: ErrorDomain.NETWORK });
  }
  #lostError(method: string, lost: VirError, cause?: unknown): VirError {
    return new VirError(`${method}: ${lost.message}`, { code: lost.code, domain: lost.domain, cause: cause ?? lost });
  }

  /** One network call: open if needed, then turn the daemon link's own errors into the slot's. */
  async #call<T>(method: string, fn: Call<T>): Promise<T> {
    const remote = await this.#driver(method);
    try {
      return await fn(remote);
    } catch (e) {
      if (!remote.client.closed || !isVirError(e) || (e.code !== ErrorCode.RPC && e.code !== ErrorCode.INVALID_CONN)) throw e;
      if (this.#closed) throw this.#closedError(method, `was closed while this call was in flight (${e.message})`);
      throw this.#lostError(method, this.#lost ?? this.#noLinkError(e), e);
    }
  }
  #noLinkError(e: VirError): VirError {
    return new VirError(`lost the ${this.#daemon}: ${e.message}`, { code: ErrorCode.SYSTEM_ERROR, domain: ErrorDomain.RPC });
  }

  listAllNetworks(): Promise<NetworkRef[]> {
    return this.#call('listAllNetworks', (r) => r.listAllNetworks());
  }
  lookupNetworkByName(name: string): Promise<NetworkRef> {
    return this.#call('lookupNetworkByName', (r) => r.lookupNetworkByName(name));
  }
  lookupNetworkByUUID(uuid: string): Promise<NetworkRef> {
    return this.#call('lookupNetworkByUUID', (r) => r.lookupNetworkByUUID(uuid));
  }
  networkDefineXML(xml: string): Promise<NetworkRef> {
    return this.#call('networkDefineXML', (r) => r.networkDefineXML(xml));
  }
  networkCreate(net: NetworkRef): Promise<void> {
    return this.#call('networkCreate', (r) => r.networkCreate(net));
  }
  networkDestroy(net: NetworkRef): Promise<void> {
    return this.#call('networkDestroy', (r) => r.networkDestroy(net));
  }
  networkUndefine(net: NetworkRef): Promise<void> {
    return this.#call('networkUndefine', (r) => r.networkUndefine(net));
  }
  networkGetXMLDesc(net: NetworkRef): Promise<string> {
    return this.#call('networkGetXMLDesc', (r) => r.networkGetXMLDesc(net));
  }
  networkGetBridgeName(net: NetworkRef): Promise<string> {
    return this.#call('networkGetBridgeName', (r) => r.networkGetBridgeName(net));
  }
  networkIsActive(net: NetworkRef): Promise<boolean> {
    return this.#call('networkIsActive', (r) => r.networkIsActive(net));
  }

  /**
   * The connection's first 'network-event' listener: open the slot and subscribe. Never
   * rejects: without a daemon there are simply no network events (the reason is logged).
   */
  async watchEvents(kind: 'domain-event' | 'network-event'): Promise<void> {
    if (kind !== 'network-event') return;
    try {
      await this.#call('watchEvents', (r) => r.watchEvents('network-event'));
    } catch (e) {
      this.#o.log(`network events on ${this.#o.connectionURI}: none (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  /** Close the daemon connection once (later calls share it); an open in progress is waited for and closed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      await this.#opening?.catch(() => undefined);
      const remote = this.#remote;
      this.#remote = undefined;
      if (remote) await remote.close();
    })();
    return this.#closing;
  }
}
