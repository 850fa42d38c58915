/**
 * The remote driver: xenvirt's HypervisorDriver and NetworkDriver contracts carried over
 * libvirt's RPC protocol to any libvirt daemon (registered by ./register.js).
 */
import type { Duplex } from 'node:stream';
import { VirError, ErrorCode } from '../errors.js';
import type {
  DomainInfo,
  DomainRef,
  DomainState,
  HypervisorDriver,
  ListDomainsFlags,
  NativeFormat,
  NetworkDriver,
  NetworkRef,
  NodeInfo,
  OpenContext,
  OpenedDrivers,
  VcpuInfo,
  XMLDescFlags,
} from '../driver.js';
import { RemoteClient, type CallOptions, type ClientCloseEvent } from './client.js';
import type { Packet } from './packet.js';
import * as P from './protocol/remote.js';
import * as E from './protocol/c-enums.js';
import { parseRemoteURI, type RemoteTarget } from './uri.js';
import { openTransport } from './transport/index.js';
import { openConsoleStream } from './console.js';
import { decodeRemoteEvent } from './events.js';
import { toDomainRef, toNetworkRef, toWireDomain, toWireNetwork, uuidToBytes } from './refs.js';
import { saslAuthenticate } from './sasl-auth.js';

const FROM_REMOTE = 'VIR_FROM_REMOTE';

/** libvirt's virDrvFeature numbers the client asks CONNECT_SUPPORTS_FEATURE about (libvirt_internal.h). */
const VIR_DRV_FEATURE_PROGRAM_KEEPALIVE = 10;
/** virConnectFlags / list and XML flags used below (libvirt-host.h, libvirt-domain.h, libvirt-network.h). */
const VIR_CONNECT_RO = 1;
const VIR_CONNECT_LIST_DOMAINS_ACTIVE = 1;
const VIR_CONNECT_LIST_DOMAINS_INACTIVE = 2;
const VIR_DOMAIN_XML_INACTIVE = 2;
/** libvirt's client defaults for keepalive (libvirt.conf keepalive_interval / keepalive_count). */
const DEFAULT_KEEPALIVE_INTERVAL = 5;
const DEFAULT_KEEPALIVE_COUNT = 5;

const DOMAIN_STATES: DomainState[] = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed'];
const NATIVE_FORMAT_NAMES: Record<NativeFormat, string> = { 'xen-sxpr': 'xen-sxpr', 'xen-xm': 'xen-xm', 'xen-xl': 'xen-xl' };

export interface RemoteConnectOptions {
  /** Bound on opening the transport and the CONNECT_OPEN handshake, ms (default 30 s). */
  openTimeoutMs?: number;
  /** Default per-call timeout, ms (default none: keepalive detects a dead daemon). */
  callTimeoutMs?: number;
  /** [intervalSeconds, count]; [0, 0] turns keepalive off. Default [5, 5] as libvirt. */
  keepAlive?: [number, number];
  /** Credentials for a daemon that wants SASL (SCRAM-SHA-256 or SCRAM-SHA-1); username defaults to the URI's user. */
  sasl?: { username?: string; password: string };
}

/** unsigned hyper → number: exact up to 2^53, nearest double above (cpu times in ns can pass it). */
function safeNumber(v: bigint): number {
  return Number(v);
}
/** cpumap bytes (bit n = CPU n) ↔ CPU numbers. */
function cpusFromMap(map: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < map.length * 8; i++) if (map[i >> 3]! & (1 << (i & 7))) out.push(i);
  return out;
}
function mapFromCpus(cpus: number[]): Buffer {
  const map = Buffer.alloc(Math.max(1, Math.ceil((Math.max(-1, ...cpus) + 1) / 8)));
  for (const c of cpus) map[c >> 3]! |= 1 << (c & 7);
  return map;
}

export class RemoteDriver implements HypervisorDriver, NetworkDriver {
  readonly name = 'remote';
  readonly client: RemoteClient;
  readonly target: RemoteTarget;
  #type = 'remote';
  #ctx: OpenContext;
  #close: () => void;
  #keepaliveSupported = false;
  /** callbackID → domain event ID name ('LIFECYCLE', 'REBOOT', …) or 'NETWORK_LIFECYCLE'. */
  #callbacks = new Map<number, string>();
  #domainEventsWatched: Promise<void> | undefined;
  #networkEventsWatched: Promise<void> | undefined;
  /** Event registrations still on their way: calls made meanwhile wait for them (see #rpc). */
  #registering = new Set<Promise<void>>();

  private constructor(client: RemoteClient, target: RemoteTarget, ctx: OpenContext, close: () => void) {
    this.client = client;
    this.target = target;
    this.#ctx = ctx;
    this.#close = close;
    client.on('message', (p: Packet) => this.#onMessage(p));
    client.on('close', (ev: ClientCloseEvent) => {
      ctx.events.emit('connection-closed', { reason: ev.reason, ...(ev.error ? { error: ev.error } : {}) });
    });
  }

  /** Open the transport, authenticate (none/polkit), CONNECT_OPEN, and set keepalive up. */
  static async open(target: RemoteTarget, ctx: OpenContext, options: RemoteConnectOptions = {}): Promise<RemoteDriver> {
    const openTimeoutMs = options.openTimeoutMs ?? 30_000;
    const transport = await openTransport(target, { timeoutMs: openTimeoutMs, readonly: ctx.readOnly });
    const client = new RemoteClient(transport.stream, {
      describe: transport.describe,
      callTimeoutMs: options.callTimeoutMs ?? 0,
      coalesceWrites: target.transport !== 'tls',
    });
    client.on('error', () => {}); // errors are delivered through pending calls and 'close'
    const driver = new RemoteDriver(client, target, ctx, () => transport.close());
    const opts: CallOptions = { timeoutMs: openTimeoutMs };
    try {
      const openArgs = { name: target.remoteName === '' ? null : target.remoteName, flags: ctx.readOnly ? VIR_CONNECT_RO : 0 };
      // CONNECT_OPEN goes out with AUTH_LIST, saving a round trip when no auth is needed (the
      // common case); a daemon that wants auth refuses that OPEN and it is sent again after.
      const [auth, firstOpen] = await Promise.allSettled([
        client.call(P.REMOTE_PROC_AUTH_LIST, undefined, opts),
        client.call(P.REMOTE_PROC_CONNECT_OPEN, openArgs, opts),
      ]);
      if (auth.status === 'rejected') throw auth.reason;
      const types = auth.value.types;
      if (types.length && !types.includes(P.REMOTE_AUTH_NONE)) {
        if (types.includes(P.REMOTE_AUTH_POLKIT)) {
          await client.call(P.REMOTE_PROC_AUTH_POLKIT, undefined, opts);
        } else if (types.includes(P.REMOTE_AUTH_SASL)) {
          await saslAuthenticate(client, transport.describe, options.sasl?.username ?? target.user, options.sasl?.password, opts);
        } else {
          throw new VirError(`${transport.describe} offers no authentication this client speaks (types ${types.join(', ')})`, {
            code: ErrorCode.AUTH_FAILED,
            domain: FROM_REMOTE,
          });
        }
        await client.call(P.REMOTE_PROC_CONNECT_OPEN, openArgs, opts);
      } else if (firstOpen.status === 'rejected') {
        throw firstOpen.reason;
      }
      const [type, keepalive] = await Promise.all([
        client.call(P.REMOTE_PROC_CONNECT_GET_TYPE, undefined, opts),
        client.call(P.REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, { feature: VIR_DRV_FEATURE_PROGRAM_KEEPALIVE }, opts),
      ]);
      driver.#type = type.type;
      driver.#keepaliveSupported = keepalive.supported !== 0;
      const [interval, count] = options.keepAlive ?? [DEFAULT_KEEPALIVE_INTERVAL, DEFAULT_KEEPALIVE_COUNT];
      if (driver.#keepaliveSupported) client.setKeepAlive(interval, count);
    } catch (e) {
      client.close();
      transport.close();
      throw e;
    }
    return driver;
  }

  getType(): string {
    return this.#type;
  }

  async close(): Promise<void> {
    if (this.client.closed) {
      this.#close();
      return;
    }
    try {
      await this.client.call(P.REMOTE_PROC_CONNECT_CLOSE, undefined, { timeoutMs: 5_000 });
    } catch {
      // the daemon may be gone already; closing our side is all that is left
    }
    this.client.close();
    this.#close();
  }

  /** virConnectSetKeepAlive: interval (s) between PINGs once idle; count unanswered ones tolerated. */
  async setKeepAlive(intervalSeconds: number, count: number): Promise<void> {
    if (!this.#keepaliveSupported) {
      throw new VirError('the daemon does not support keepalive', { code: ErrorCode.NO_SUPPORT, domain: FROM_REMOTE });
    }
    this.client.setKeepAlive(intervalSeconds, count);
  }

  /**
   * A call on behalf of the public API. Calls made after a listener was added wait until the
   * daemon has registered the events, so `on('domain-event')` then `dom.create()` sees the
   * 'started' event, as with libvirt's synchronous virConnectDomainEventRegisterAny.
   */
  async #rpc<K extends keyof P.remote_procedure_types>(proc: K, args: P.remote_procedure_types[K]['args']): Promise<P.remote_procedure_types[K]['ret']> {
    if (this.#registering.size) await Promise.all(this.#registering);
    return this.client.call(proc, args);
  }

  #tracked(p: Promise<void>): Promise<void> {
    const done = p.finally(() => this.#registering.delete(done));
    this.#registering.add(done);
    return done;
  }

  // --- host ---------------------------------------------------------------------------
  async getVersion(): Promise<number> {
    return safeNumber((await this.#rpc(P.REMOTE_PROC_CONNECT_GET_VERSION, undefined)).hv_ver);
  }
  async getHostname(): Promise<string> {
    return (await this.#rpc(P.REMOTE_PROC_CONNECT_GET_HOSTNAME, undefined)).hostname;
  }
  async getCapabilities(): Promise<string> {
    return (await this.#rpc(P.REMOTE_PROC_CONNECT_GET_CAPABILITIES, undefined)).capabilities;
  }
  async nodeGetInfo(): Promise<NodeInfo> {
    const r = await this.#rpc(P.REMOTE_PROC_NODE_GET_INFO, undefined);
    const end = r.model.indexOf(0);
    const model = String.fromCharCode(...(end < 0 ? r.model : r.model.slice(0, end)).map((c) => c & 0xff));
    return { model, memory: safeNumber(r.memory), cpus: r.cpus, mhz: r.mhz, nodes: r.nodes, sockets: r.sockets, cores: r.cores, threads: r.threads };
  }

  // --- domains ------------------------------------------------------------------------
  async listAllDomains(flags: ListDomainsFlags): Promise<DomainRef[]> {
    let f = 0;
    if (flags.active) f |= VIR_CONNECT_LIST_DOMAINS_ACTIVE;
    if (flags.inactive) f |= VIR_CONNECT_LIST_DOMAINS_INACTIVE;
    const r = await this.#rpc(P.REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags: f });
    return r.domains.map(toDomainRef);
  }
  async lookupDomainByName(name: string): Promise<DomainRef> {
    return toDomainRef((await this.#rpc(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, { name })).dom);
  }
  async lookupDomainById(id: number): Promise<DomainRef> {
    return toDomainRef((await this.#rpc(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_ID, { id })).dom);
  }
  async lookupDomainByUUID(uuid: string): Promise<DomainRef> {
    return toDomainRef((await this.#rpc(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_UUID, { uuid: uuidToBytes(uuid) })).dom);
  }
  async defineXML(xml: string): Promise<DomainRef> {
    return toDomainRef((await this.#rpc(P.REMOTE_PROC_DOMAIN_DEFINE_XML, { xml })).dom);
  }
  async createXML(xml: string): Promise<DomainRef> {
    return toDomainRef((await this.#rpc(P.REMOTE_PROC_DOMAIN_CREATE_XML, { xml_desc: xml, flags: 0 })).dom);
  }
  async restore(path: string): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_RESTORE, { from: path });
  }
  async domainXMLFromNative(format: NativeFormat, text: string): Promise<string> {
    const r = await this.#rpc(P.REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE, { nativeFormat: NATIVE_FORMAT_NAMES[format], nativeConfig: text, flags: 0 });
    return r.domainXml;
  }
  async domainXMLToNative(format: NativeFormat, xml: string): Promise<string> {
    const r = await this.#rpc(P.REMOTE_PROC_CONNECT_DOMAIN_XML_TO_NATIVE, { nativeFormat: NATIVE_FORMAT_NAMES[format], domainXml: xml, flags: 0 });
    return r.nativeConfig;
  }

  async domainGetInfo(dom: DomainRef): Promise<DomainInfo> {
    const r = await this.#rpc(P.REMOTE_PROC_DOMAIN_GET_INFO, { dom: toWireDomain(dom) });
    return {
      state: DOMAIN_STATES[r.state] ?? 'nostate',
      maxMem: safeNumber(r.maxMem),
      memory: safeNumber(r.memory),
      nrVirtCpu: r.nrVirtCpu,
      cpuTime: safeNumber(r.cpuTime),
    };
  }
  async domainSuspend(dom: DomainRef): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_SUSPEND, { dom: toWireDomain(dom) });
  }
  async domainResume(dom: DomainRef): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_RESUME, { dom: toWireDomain(dom) });
  }
  async domainShutdown(dom: DomainRef): Promise<DomainRef> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_SHUTDOWN, { dom: toWireDomain(dom) });
    return this.#refresh(dom);
  }
  async domainReboot(dom: DomainRef): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_REBOOT, { dom: toWireDomain(dom), flags: 0 });
  }
  async domainDestroy(dom: DomainRef): Promise<DomainRef> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_DESTROY, { dom: toWireDomain(dom) });
    return this.#refresh(dom);
  }
  async domainCreate(dom: DomainRef): Promise<DomainRef> {
    return toDomainRef((await this.#rpc(P.REMOTE_PROC_DOMAIN_CREATE_WITH_FLAGS, { dom: toWireDomain(dom), flags: 0 })).dom);
  }
  async domainUndefine(dom: DomainRef): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_UNDEFINE, { dom: toWireDomain(dom) });
  }
  async domainGetXMLDesc(dom: DomainRef, flags: XMLDescFlags): Promise<string> {
    return (await this.#rpc(P.REMOTE_PROC_DOMAIN_GET_XML_DESC, { dom: toWireDomain(dom), flags: flags.inactive ? VIR_DOMAIN_XML_INACTIVE : 0 })).xml;
  }
  async domainSetMemory(dom: DomainRef, kib: number): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_SET_MEMORY, { dom: toWireDomain(dom), memory: BigInt(kib) });
  }
  async domainSetMaxMemory(dom: DomainRef, kib: number): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_SET_MAX_MEMORY, { dom: toWireDomain(dom), memory: BigInt(kib) });
  }
  async domainSetVcpus(dom: DomainRef, count: number): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_SET_VCPUS, { dom: toWireDomain(dom), nvcpus: count });
  }
  async domainGetVcpus(dom: DomainRef): Promise<VcpuInfo[]> {
    const [info, node] = await Promise.all([this.domainGetInfo(dom), this.#rpc(P.REMOTE_PROC_NODE_GET_INFO, undefined)]);
    const maplen = Math.ceil(node.cpus / 8);
    const r = await this.#rpc(P.REMOTE_PROC_DOMAIN_GET_VCPUS, { dom: toWireDomain(dom), maxinfo: info.nrVirtCpu, maplen });
    const states: VcpuInfo['state'][] = ['offline', 'running', 'blocked'];
    return r.info.map((v, i) => ({
      number: v.number,
      state: states[v.state] ?? 'offline',
      cpuTime: safeNumber(v.cpu_time),
      cpu: v.cpu,
      cpumap: cpusFromMap(r.cpumaps.subarray(i * maplen, (i + 1) * maplen)),
    }));
  }
  async domainPinVcpu(dom: DomainRef, vcpu: number, cpumap: number[]): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_PIN_VCPU, { dom: toWireDomain(dom), vcpu, cpumap: mapFromCpus(cpumap) });
  }
  async domainGetAutostart(dom: DomainRef): Promise<boolean> {
    return (await this.#rpc(P.REMOTE_PROC_DOMAIN_GET_AUTOSTART, { dom: toWireDomain(dom) })).autostart !== 0;
  }
  async domainSetAutostart(dom: DomainRef, autostart: boolean): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_SET_AUTOSTART, { dom: toWireDomain(dom), autostart: autostart ? 1 : 0 });
  }
  async domainSave(dom: DomainRef, path: string): Promise<DomainRef> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_SAVE, { dom: toWireDomain(dom), to: path });
    return { ...dom, id: -1 };
  }
  async domainCoreDump(dom: DomainRef, path: string): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_DOMAIN_CORE_DUMP, { dom: toWireDomain(dom), to: path, flags: 0 });
  }
  /** The domain's console (or the named character device) as a Duplex. */
  async domainOpenConsole(dom: DomainRef, devName?: string): Promise<Duplex> {
    return openConsoleStream(this.client, toWireDomain(dom), devName ?? null);
  }

  /** A domain's current identity (its id changes when it stops). */
  async #refresh(dom: DomainRef): Promise<DomainRef> {
    try {
      return await this.lookupDomainByUUID(dom.uuid);
    } catch {
      return { ...dom, id: -1 }; // a transient domain is gone once stopped
    }
  }

  // --- networks -----------------------------------------------------------------------
  async listAllNetworks(): Promise<NetworkRef[]> {
    return (await this.#rpc(P.REMOTE_PROC_CONNECT_LIST_ALL_NETWORKS, { need_results: 1, flags: 0 })).nets.map(toNetworkRef);
  }
  async lookupNetworkByName(name: string): Promise<NetworkRef> {
    return toNetworkRef((await this.#rpc(P.REMOTE_PROC_NETWORK_LOOKUP_BY_NAME, { name })).net);
  }
  async lookupNetworkByUUID(uuid: string): Promise<NetworkRef> {
    return toNetworkRef((await this.#rpc(P.REMOTE_PROC_NETWORK_LOOKUP_BY_UUID, { uuid: uuidToBytes(uuid) })).net);
  }
  async networkDefineXML(xml: string): Promise<NetworkRef> {
    return toNetworkRef((await this.#rpc(P.REMOTE_PROC_NETWORK_DEFINE_XML, { xml })).net);
  }
  async networkCreate(net: NetworkRef): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_NETWORK_CREATE, { net: toWireNetwork(net) });
  }
  async networkDestroy(net: NetworkRef): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_NETWORK_DESTROY, { net: toWireNetwork(net) });
  }
  async networkUndefine(net: NetworkRef): Promise<void> {
    await this.#rpc(P.REMOTE_PROC_NETWORK_UNDEFINE, { net: toWireNetwork(net) });
  }
  async networkGetXMLDesc(net: NetworkRef): Promise<string> {
    return (await this.#rpc(P.REMOTE_PROC_NETWORK_GET_XML_DESC, { net: toWireNetwork(net), flags: 0 })).xml;
  }
  async networkGetBridgeName(net: NetworkRef): Promise<string> {
    return (await this.#rpc(P.REMOTE_PROC_NETWORK_GET_BRIDGE_NAME, { net: toWireNetwork(net) })).name;
  }
  async networkIsActive(net: NetworkRef): Promise<boolean> {
    return (await this.#rpc(P.REMOTE_PROC_NETWORK_IS_ACTIVE, { net: toWireNetwork(net) })).active !== 0;
  }

  // --- events -------------------------------------------------------------------------
  /**
   * Ask the daemon for events once someone listens: every domain event ID libvirt 9.0.0
   * defines (an ID the daemon refuses is skipped), or network lifecycle events.
   */
  watchEvents(kind: 'domain-event' | 'network-event'): Promise<void> {
    if (kind === 'domain-event') {
      this.#domainEventsWatched ??= this.#tracked((async () => {
        await Promise.all(
          Object.entries(E.virDomainEventID).map(async ([id, name]) => {
            try {
              const r = await this.client.call(P.REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: Number(id), dom: null });
              this.#callbacks.set(r.callbackID, name.replace(/^VIR_DOMAIN_EVENT_ID_/, ''));
            } catch {
              // an event ID this daemon does not know: nothing will arrive for it
            }
          }),
        );
      })());
      return this.#domainEventsWatched;
    }
    this.#networkEventsWatched ??= this.#tracked((async () => {
      try {
        const r = await this.client.call(P.REMOTE_PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY, { eventID: 0, net: null });
        this.#callbacks.set(r.callbackID, 'NETWORK_LIFECYCLE');
      } catch {
        // a daemon without network events (or a closed connection): calls still work
      }
    })());
    return this.#networkEventsWatched;
  }

  #onMessage(p: Packet): void {
    const ev = decodeRemoteEvent(p, this.#callbacks);
    if (ev) this.#ctx.events.emit(ev.kind, ev.payload);
  }

}

/** Open a remote connection (lib/remote/register.ts sends here every URI no local driver took). */
export async function openRemote(uri: URL, ctx: OpenContext): Promise<OpenedDrivers | 'declined'> {
  const target = parseRemoteURI(uri);
  const options = (ctx.options.remote ?? {}) as RemoteConnectOptions;
  try {
    const driver = await RemoteDriver.open(target, ctx, options);
    return { driver, networkDriver: driver };
  } catch (e) {
    // A plain `scheme://[host]/path` came here only because no local driver took it: when no
    // daemon can even be reached (no socket, no certificate, refused), the honest answer is
    // libvirt's "no driver" error, with the remote driver's reason in the message.
    const implicit = !target.scheme.includes('+') && target.client.socket === undefined;
    const errno = e instanceof VirError ? (e.syscall ?? (e.cause as NodeJS.ErrnoException | undefined)?.code) : undefined;
    const missing = errno === 'ENOENT' || errno === 'ECONNREFUSED';
    if (implicit && missing) {
      throw new VirError(`no connection driver available for URI '${target.uri}' (no local driver claims '${target.scheme}', and ${(e as VirError).message})`, {
        code: ErrorCode.NO_CONNECT,
        domain: FROM_REMOTE,
        cause: e,
      });
    }
    throw e;
  }
}
