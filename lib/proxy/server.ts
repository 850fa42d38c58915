/**
 * The xenvirt-proxy server: runs as root, listens on a unix socket, and answers a
 * read-only subset of the driver API for unprivileged local users. Each peer is
 * identified by SO_PEERCRED; request sizes, queued requests per client and the number
 * of clients are bounded; anything outside the served subset is VIR_ERR_OPERATION_DENIED.
 */
import net from 'node:net';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import type { DomainRef, HypervisorDriver } from '../driver.js';
import { FrameParser, FrameType, encodeFrame, type Frame } from './protocol.js';
import {
  argDomainUUID,
  argFlags,
  argId,
  argString,
  argUUID,
  decodeCall,
  errorPayload,
  isServed,
  replyPayload,
} from './messages.js';
import type { ProxyReadMethod, ServedMethod } from './methods.js';
import { peerCredentials, type PeerCredentials } from './peer.js';

/** The driver methods the server needs from its backend (a root connection's driver). */
export type ProxyBackend = Pick<HypervisorDriver, ProxyReadMethod>;

export interface ProxyServerOptions {
  socketPath: string;
  backend: ProxyBackend;
  /** Simultaneous clients (default 32). */
  maxClients?: number;
  /** Largest request payload, bytes (default 64 KiB). */
  maxRequestBytes?: number;
  /** Requests a client may have queued before we stop reading from it (default 16). */
  maxQueuedPerClient?: number;
  /** Only these uids may connect (default: everyone; root always may). */
  allowUids?: readonly number[];
  /** …or members of these primary gids. */
  allowGids?: readonly number[];
  /** Close a client idle this long, ms (default 5 minutes). */
  idleTimeoutMs?: number;
  /** Socket file mode (default 0o666: access is decided by credentials, not file mode). */
  socketMode?: number;
  log?: (message: string) => void;
  /** Tests only: read credentials differently (e.g. to fail). */
  peerCredentials?: (socket: net.Socket) => PeerCredentials;
}

const DEFAULTS = { maxClients: 32, maxRequestBytes: 64 * 1024, maxQueuedPerClient: 16, idleTimeoutMs: 5 * 60_000, socketMode: 0o666 };
// Replies may be large (capabilities, XML of a big domain) but not unbounded.
const MAX_REPLY_BYTES = 16 * 1024 * 1024;

function denied(message: string): VirError {
  return new VirError(message, { code: ErrorCode.OPERATION_DENIED, domain: ErrorDomain.PROXY });
}

// Read-only users must not see secrets a domain definition may carry (VNC/SPICE passwords).
function stripSecrets(xml: string): string {
  return xml.replace(/\s(passwd|password)=(['"])[^'"]*\2/g, '');
}

class ClientConnection {
  readonly #queue: Frame[] = [];
  #busy = false;
  #closing = false;
  readonly #parser: FrameParser;

  constructor(
    readonly socket: net.Socket,
    readonly peer: PeerCredentials,
    readonly server: ProxyServer,
    readonly opts: Required<Omit<ProxyServerOptions, 'allowUids' | 'allowGids' | 'peerCredentials'>>,
  ) {
    this.#parser = new FrameParser(opts.maxRequestBytes);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.setTimeout(opts.idleTimeoutMs, () => this.fail(new VirError('idle for too long', { code: ErrorCode.OPERATION_TIMEOUT, domain: ErrorDomain.PROXY })));
  }

  #send(type: FrameType, serial: number, payload: Record<string, unknown>): void {
    if (this.socket.destroyed || this.#closing) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(type, serial, payload, MAX_REPLY_BYTES);
    } catch (e) {
      frame = encodeFrame(FrameType.ERROR, serial, errorPayload(e));
    }
    this.socket.write(frame);
  }

  /** Say why (serial 0 = about the connection), then hang up. */
  fail(e: unknown): void {
    if (this.#closing) return;
    this.#send(FrameType.ERROR, 0, errorPayload(e));
    this.#closing = true;
    this.socket.end();
    // A peer that never reads must not keep the socket open.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  #onData(chunk: Buffer): void {
    if (this.#closing) return;
    let frames: Frame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (e) {
      this.server.log(`client pid ${this.peer.pid} uid ${this.peer.uid}: ${(e as Error).message}; closing`);
      this.fail(e);
      return;
    }
    for (const f of frames) {
      if (f.type !== FrameType.CALL) {
        this.fail(new VirError(`xenvirt-proxy protocol: a client may only send calls (got frame type ${f.type})`, { code: ErrorCode.RPC, domain: ErrorDomain.PROXY }));
        return;
      }
      this.#queue.push(f);
    }
    if (this.#queue.length >= this.opts.maxQueuedPerClient) this.socket.pause();
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.#closing && !this.socket.destroyed) {
        const f = this.#queue.shift()!;
        if (this.#queue.length < this.opts.maxQueuedPerClient && this.socket.isPaused()) this.socket.resume();
        try {
          const result = await this.server.answer(f.payload, this.peer);
          this.#send(FrameType.REPLY, f.serial, replyPayload(result));
        } catch (e) {
          // A malformed call is a protocol error: the stream can no longer be trusted.
          if (e instanceof VirError && e.code === ErrorCode.RPC) {
            this.fail(e);
            return;
          }
          this.#send(FrameType.ERROR, f.serial, errorPayload(e));
        }
      }
    } finally {
      this.#busy = false;
    }
  }
}

export class ProxyServer {
  readonly #opts: Required<Omit<ProxyServerOptions, 'allowUids' | 'allowGids' | 'peerCredentials'>>;
  readonly #allowUids: ReadonlySet<number> | undefined;
  readonly #allowGids: ReadonlySet<number> | undefined;
  readonly #creds: (socket: net.Socket) => PeerCredentials;
  readonly #clients = new Set<ClientConnection>();
  #server: net.Server | undefined;

  constructor(options: ProxyServerOptions) {
    this.#opts = { ...DEFAULTS, log: () => {}, ...options } as Required<Omit<ProxyServerOptions, 'allowUids' | 'allowGids' | 'peerCredentials'>>;
    for (const k of ['maxClients', 'maxRequestBytes', 'maxQueuedPerClient', 'idleTimeoutMs'] as const) {
      const v = this.#opts[k];
      if (!Number.isSafeInteger(v) || v < 1) throw new VirError(`proxy option ${k} must be a positive whole number`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.PROXY });
    }
    this.#allowUids = options.allowUids ? new Set(options.allowUids) : undefined;
    this.#allowGids = options.allowGids ? new Set(options.allowGids) : undefined;
    this.#creds = options.peerCredentials ?? peerCredentials;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  log(message: string): void {
    this.#opts.log(message);
  }

  #allowed(p: PeerCredentials): boolean {
    if (p.uid === 0) return true;
    if (!this.#allowUids && !this.#allowGids) return true;
    return (this.#allowUids?.has(p.uid) ?? false) || (this.#allowGids?.has(p.gid) ?? false);
  }

  /** Answer one decoded call for a peer (exported for the in-process tests of the rules). */
  async answer(payload: Record<string, unknown>, peer: PeerCredentials): Promise<unknown> {
    const { method, args } = decodeCall(payload);
    if (!isServed(method)) {
      throw denied(`xenvirt-proxy serves read-only calls only: '${method}' is not allowed for unprivileged users (connect as root to change domains)`);
    }
    return this.#dispatch(method, args, peer);
  }

  #need<K extends keyof ProxyBackend>(name: K): NonNullable<ProxyBackend[K]> {
    const fn = this.#opts.backend[name];
    if (typeof fn !== 'function') {
      throw new VirError(`this host's driver cannot answer ${name}`, { code: ErrorCode.NO_SUPPORT, domain: ErrorDomain.PROXY });
    }
    return fn.bind(this.#opts.backend) as NonNullable<ProxyBackend[K]>;
  }

  // The client names a domain by UUID only; the server looks it up itself, so a
  // forged name/id in a reference cannot point a call at another domain.
  async #resolve(method: string, v: unknown): Promise<DomainRef> {
    return this.#need('lookupDomainByUUID')(argDomainUUID(method, v));
  }

  async #dispatch(method: ServedMethod, a: unknown[], peer: PeerCredentials): Promise<unknown> {
    if (method === '$hello') return { server: 'xenvirt-proxy', protocol: 1, uid: peer.uid, gid: peer.gid, pid: peer.pid };
    return this.#handlers[method](a);
  }

  /** One handler per served read method (the compiler checks the list is covered): checked arguments in, backend answer out. */
  readonly #handlers: Record<ProxyReadMethod, (a: unknown[]) => Promise<unknown>> = {
    getVersion: () => this.#need('getVersion')(),
    nodeGetInfo: () => this.#need('nodeGetInfo')(),
    getCapabilities: () => this.#need('getCapabilities')(),
    listAllDomains: (a) => this.#need('listAllDomains')(argFlags('listAllDomains', a[0], ['active', 'inactive', 'withInfo'])),
    lookupDomainById: (a) => this.#need('lookupDomainById')(argId('lookupDomainById', a[0])),
    lookupDomainByName: (a) => this.#need('lookupDomainByName')(argString('lookupDomainByName', a[0], 'domain name')),
    lookupDomainByUUID: (a) => this.#need('lookupDomainByUUID')(argUUID('lookupDomainByUUID', a[0])),
    domainGetInfo: async (a) => this.#need('domainGetInfo')(await this.#resolve('domainGetInfo', a[0])),
    domainGetXMLDesc: async (a) => {
      const flags = argFlags('domainGetXMLDesc', a[1], ['inactive']);
      return stripSecrets(await this.#need('domainGetXMLDesc')(await this.#resolve('domainGetXMLDesc', a[0]), flags));
    },
    domainGetVcpus: async (a) => this.#need('domainGetVcpus')(await this.#resolve('domainGetVcpus', a[0])),
    domainGetAutostart: async (a) => this.#need('domainGetAutostart')(await this.#resolve('domainGetAutostart', a[0])),
  };

  #onConnection(socket: net.Socket): void {
    socket.on('error', () => {}); // a peer that vanishes is not our failure
    let peer: PeerCredentials;
    try {
      peer = this.#creds(socket);
    } catch (e) {
      this.log(`refusing a client: ${(e as Error).message}`);
      socket.destroy();
      return;
    }
    const refuse = (e: VirError) => {
      socket.end(encodeFrame(FrameType.ERROR, 0, errorPayload(e)));
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    if (!this.#allowed(peer)) {
      this.log(`refusing pid ${peer.pid} uid ${peer.uid} gid ${peer.gid}: not in the allowed users/groups`);
      refuse(denied(`xenvirt-proxy: uid ${peer.uid} is not allowed to use this proxy`));
      return;
    }
    if (this.#clients.size >= this.#opts.maxClients) {
      this.log(`refusing pid ${peer.pid} uid ${peer.uid}: ${this.#clients.size} clients already connected`);
      refuse(new VirError(`xenvirt-proxy: too many clients (limit ${this.#opts.maxClients}); try again later`, { code: ErrorCode.OPERATION_FAILED, domain: ErrorDomain.PROXY }));
      return;
    }
    const c = new ClientConnection(socket, peer, this, this.#opts);
    this.#clients.add(c);
    socket.on('close', () => this.#clients.delete(c));
  }

  /** Listen; a stale socket file from a dead daemon is replaced, a live daemon is an error. */
  async listen(): Promise<void> {
    const path = this.#opts.socketPath;
    await removeStaleSocket(path);
    const server = net.createServer({ pauseOnConnect: false }, (s) => this.#onConnection(s));
    server.maxConnections = this.#opts.maxClients * 2; // beyond that the kernel backlog waits
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new VirError(`xenvirt-proxy cannot listen on ${path}: ${e.message}`, { code: ErrorCode.SYSTEM_ERROR, domain: ErrorDomain.PROXY, cause: e })),
      );
      server.listen(path, () => resolve());
    });
    chmodSync(path, this.#opts.socketMode);
    this.#server = server;
  }

  /** Stop accepting, close every client, remove the socket file. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of this.#clients) c.socket.destroy();
    await closed;
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!st.isSocket()) {
    throw new VirError(`xenvirt-proxy: ${path} exists and is not a socket; refusing to replace it`, { code: ErrorCode.SYSTEM_ERROR, domain: ErrorDomain.PROXY });
  }
  const live = await new Promise<boolean>((resolve) => {
    const s = net.createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new VirError(`xenvirt-proxy: another proxy is already listening on ${path}`, { code: ErrorCode.OPERATION_FAILED, domain: ErrorDomain.PROXY });
  unlinkSync(path);
}
