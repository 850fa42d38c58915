/**
 * XenStore: the public client. Owns one native connection, the watches registered on
 * it and the transaction retry policy; node operations come from NodeOps.
 */
import { EventEmitter } from 'node:events';
import { ErrorCode } from '../errors.js';
import { connect, ReplyAs, resolveEndpoint, type Endpoint, type MakeRequestError, type NativeXsConnection, type XenStoreOpenOptions } from './connection.js';
import { decodeList, type Permission } from './decode.js';
import { XenStoreError } from './errors.js';
import { NodeOps, type CachedListing, type Link } from './ops.js';
import { validateToken, validateWatchPath } from './paths.js';
import { introducePayload, transactionStartPayload, watchPayload } from './serializer.js';
import { Transaction } from './transaction.js';
import { Watch } from './watch.js';
import { PAYLOAD_MAX, XsType } from './wire.js';

export interface TransactionOptions {
  /** Attempts before giving up on repeated conflicts (EAGAIN). Default 16. */
  maxAttempts?: number;
}

/** Operation names for messages, by request type. */
const OP_NAMES: Record<number, string> = {
  [XsType.DIRECTORY]: 'directory',
  [XsType.DIRECTORY_PART]: 'directory',
  [XsType.READ]: 'read',
  [XsType.GET_PERMS]: 'getPerms',
  [XsType.WATCH]: 'watch',
  [XsType.UNWATCH]: 'unwatch',
  [XsType.TRANSACTION_START]: 'transaction start',
  [XsType.TRANSACTION_END]: 'transaction end',
  [XsType.INTRODUCE]: 'introduceDomain',
  [XsType.RELEASE]: 'releaseDomain',
  [XsType.GET_DOMAIN_PATH]: 'getDomainPath',
  [XsType.WRITE]: 'write',
  [XsType.MKDIR]: 'mkdir',
  [XsType.RM]: 'rm',
  [XsType.SET_PERMS]: 'setPerms',
  [XsType.IS_DOMAIN_INTRODUCED]: 'isDomainIntroduced',
};
const opName = (type: number) => OP_NAMES[type] ?? `request type ${type}`;
/** Requests whose payload starts with a node path. */
const PATH_REQUESTS: ReadonlySet<number> = new Set([
  XsType.DIRECTORY,
  XsType.DIRECTORY_PART,
  XsType.READ,
  XsType.GET_PERMS,
  XsType.WATCH,
  XsType.UNWATCH,
  XsType.WRITE,
  XsType.MKDIR,
  XsType.RM,
  XsType.SET_PERMS,
]);

function checkDomid(domid: unknown): asserts domid is number {
  if (!Number.isInteger(domid) || (domid as number) < 0 || (domid as number) > 0xffff) {
    throw new XenStoreError(`invalid domain id ${String(domid)}: an integer 0..65535 is required`, {
      code: ErrorCode.INVALID_ARG,
      syscall: 'EINVAL',
    });
  }
}

/** Run `check`, then `go`; a failed check becomes a rejected promise, not a throw. */
function guarded<T>(check: () => void, go: () => Promise<T>): Promise<T> {
  try {
    check();
  } catch (e) {
    return Promise.reject(e);
  }
  return go();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** How long open() keeps retrying a connect refused with EAGAIN (full backlog). */
const CONNECT_RETRY_MS = 5000;

export class XenStore extends EventEmitter implements Link {
  /** Where this connection goes. */
  readonly endpoint: Endpoint;
  private readonly conn: NativeXsConnection;
  private readonly ops: NodeOps;
  private readonly watches = new Map<string, Watch>();
  /** @internal see Link.largeDirectories */
  readonly largeDirectories = new Map<string, CachedListing | undefined>();
  private watchSeq = 0;
  private flushQueued = false;
  private closedFlag = false;
  private closing?: Promise<void>;
  /** Why the connection ended: undefined after close(), the error when it was lost. */
  private closeReason: XenStoreError | undefined;
  private readonly flushNow = () => {
    this.flushQueued = false;
    if (!this.closedFlag) this.conn.flush();
  };

  private constructor(endpoint: Endpoint) {
    super();
    this.endpoint = endpoint;
    this.conn = connect(
      endpoint,
      (payload) => this.onWatchEvent(payload),
      (err) => this.onLost(err),
      this.makeError,
    );
    this.ops = new NodeOps(this, 0);
  }

  /**
   * Connect to xenstored (see XenStoreOpenOptions for where). xenstored listens with a
   * tiny backlog, so a burst of opens meets EAGAIN until it accepts: retried for a
   * while rather than failed (and never waited for by blocking the loop).
   */
  static async open(options: XenStoreOpenOptions = {}): Promise<XenStore> {
    const endpoint = resolveEndpoint(options);
    const deadline = Date.now() + CONNECT_RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return new XenStore(endpoint);
      } catch (e) {
        if (!(e instanceof XenStoreError) || e.syscall !== 'EAGAIN' || Date.now() > deadline) throw e;
      }
      await sleep(Math.min(20, 1 + attempt) * (0.5 + Math.random()));
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Calls in flight. */
  get pending(): number {
    return this.closedFlag ? 0 : this.conn.pending;
  }

  // --- Link --------------------------------------------------------------------------

  /** @internal Queue one request; see NodeOps for the typed operations. */
  send(type: number, txId: number, payload: Buffer | string, replyAs: ReplyAs): Promise<unknown> {
    if (this.closedFlag) {
      return Promise.reject(this.makeError(null, type, typeof payload === 'string' ? payload : '', new XenStoreError('the connection is closed', { code: ErrorCode.NO_CONNECT })));
    }
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) + 1 : payload.length;
    if (size > PAYLOAD_MAX) {
      return Promise.reject(new XenStoreError(`xenstore ${opName(type)}: request of ${size} bytes exceeds the protocol's ${PAYLOAD_MAX}`, { syscall: 'E2BIG' }));
    }
    const p = this.conn.request(type, txId, payload, replyAs);
    // The first request of a tick goes out at once (latency); the ones issued after it
    // in the same tick are corked and leave together in one writev (throughput).
    if (!this.flushQueued) {
      this.flushQueued = true;
      this.conn.flush();
      queueMicrotask(this.flushNow);
    }
    return p;
  }

  // The addon calls this to build every request failure, so callers get a XenStoreError
  // naming the operation and path without a wrapper promise per call.
  private readonly makeError: MakeRequestError = (errnoName, type, subject, cause) => {
    const op = opName(type);
    const path = PATH_REQUESTS.has(type) ? subject : undefined;
    return errnoName !== null ? XenStoreError.fromDaemon(op, errnoName, path) : XenStoreError.from(cause, op, path);
  };

  private text(type: number, payload: Buffer | string): Promise<string> {
    return this.send(type, 0, payload, ReplyAs.CSTRING) as Promise<string>;
  }

  private nothing(type: number, txId: number, payload: Buffer | string): Promise<void> {
    return this.send(type, txId, payload, ReplyAs.NOTHING) as Promise<void>;
  }

  // --- node operations -----------------------------------------------------------------

  read(path: string): Promise<string> {
    return this.ops.read(path);
  }
  readBuffer(path: string): Promise<Buffer> {
    return this.ops.readBuffer(path);
  }
  write(path: string, value: string | Uint8Array): Promise<void> {
    return this.ops.write(path, value);
  }
  mkdir(path: string): Promise<void> {
    return this.ops.mkdir(path);
  }
  rm(path: string): Promise<void> {
    return this.ops.rm(path);
  }
  directory(path: string): Promise<string[]> {
    return this.ops.directory(path);
  }
  getPerms(path: string): Promise<Permission[]> {
    return this.ops.getPerms(path);
  }
  setPerms(path: string, perms: readonly Permission[]): Promise<void> {
    return this.ops.setPerms(path, perms);
  }

  // --- domains -------------------------------------------------------------------------

  /** The home path of a domain, e.g. /local/domain/3. */
  getDomainPath(domid: number): Promise<string> {
    return guarded(() => checkDomid(domid), () => this.text(XsType.GET_DOMAIN_PATH, String(domid)));
  }

  /** Tell xenstored about a new domain's ring (fires @introduceDomain). dom0 only. */
  introduceDomain(domid: number, mfn: number | bigint, port: number): Promise<void> {
    return guarded(() => checkDomid(domid), () => this.nothing(XsType.INTRODUCE, 0, introducePayload(domid, mfn, port)));
  }

  /** Forget a domain (fires @releaseDomain). dom0 only. */
  releaseDomain(domid: number): Promise<void> {
    return guarded(() => checkDomid(domid), () => this.nothing(XsType.RELEASE, 0, String(domid)));
  }

  isDomainIntroduced(domid: number): Promise<boolean> {
    return guarded(() => checkDomid(domid), () => this.text(XsType.IS_DOMAIN_INTRODUCED, String(domid)).then((t) => t === 'T'));
  }

  // --- transactions --------------------------------------------------------------------

  /**
   * Run `fn` in a transaction and commit. A conflict (EAGAIN at commit, or from an
   * operation inside) aborts and runs `fn` again, at most `maxAttempts` times; any
   * other error aborts and is rethrown.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T> | T, options: TransactionOptions = {}): Promise<T> {
    const maxAttempts = options.maxAttempts ?? 16;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new XenStoreError('transaction maxAttempts must be a positive integer', { code: ErrorCode.INVALID_ARG, syscall: 'EINVAL' });
    }
    for (let attempt = 1; ; attempt++) {
      const id = Number(await this.text(XsType.TRANSACTION_START, transactionStartPayload()));
      const tx = new Transaction(this, id);
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        tx.markEnded();
        await this.endTransaction(id, false).catch(() => undefined);
        if (e instanceof XenStoreError && e.syscall === 'EAGAIN' && attempt < maxAttempts) {
          await this.backoff(attempt);
          continue;
        }
        throw e;
      }
      tx.markEnded();
      try {
        await this.endTransaction(id, true);
        return result;
      } catch (e) {
        if (!(e instanceof XenStoreError) || e.syscall !== 'EAGAIN') throw e;
        if (attempt >= maxAttempts) {
          throw new XenStoreError(`xenstore transaction: still conflicting after ${maxAttempts} attempts`, { syscall: 'EAGAIN', cause: e });
        }
        await this.backoff(attempt);
      }
    }
  }

  private endTransaction(id: number, commit: boolean): Promise<void> {
    return this.nothing(XsType.TRANSACTION_END, id, commit ? 'T' : 'F');
  }

  // Conflicting writers retrying in lock step would conflict again: spread them out.
  private backoff(attempt: number): Promise<void> {
    return attempt <= 1 ? Promise.resolve() : sleep(Math.random() * Math.min(50, 2 ** attempt));
  }

  // --- watches -------------------------------------------------------------------------

  /**
   * Watch `path` (and everything below it) or a special path (@introduceDomain,
   * @releaseDomain). xenstored fires once right away, then on every change.
   */
  watch(path: string, token?: string): Watch {
    validateWatchPath(path);
    const tok = token ?? `xenvirt-${++this.watchSeq}`;
    validateToken(tok);
    if (this.watches.has(tok)) {
      throw new XenStoreError(`xenstore watch ${path}: token ${JSON.stringify(tok)} is already in use on this connection`, {
        syscall: 'EEXIST',
        path,
      });
    }
    const registered = this.nothing(XsType.WATCH, 0, watchPayload(path, tok));
    const w = new Watch(path, tok, registered, (me) => this.unwatch(me));
    // Registered before the request goes out: the first event may beat the reply.
    this.watches.set(tok, w);
    registered.catch((e: unknown) => {
      this.forget(w);
      // Refused by the daemon: the watch fails. Cut short by close(): it just ends.
      w.end(this.closedFlag ? this.closeReason : e);
    });
    this.conn.setKeepAlive(true);
    return w;
  }

  private forget(w: Watch): void {
    if (this.watches.get(w.token) === w) this.watches.delete(w.token);
    if (this.watches.size === 0 && !this.closedFlag) this.conn.setKeepAlive(false);
  }

  private async unwatch(w: Watch): Promise<void> {
    const wasActive = this.watches.get(w.token) === w;
    this.forget(w);
    if (!wasActive || this.closedFlag) return;
    try {
      await this.nothing(XsType.UNWATCH, 0, watchPayload(w.path, w.token));
    } catch (e) {
      // Gone already (connection closing, or the daemon forgot it): nothing to undo.
      if (e instanceof XenStoreError && (e.syscall === 'ENOENT' || e.code === ErrorCode.NO_CONNECT || this.closedFlag)) return;
      throw e;
    }
  }

  private onWatchEvent(payload: Buffer): void {
    const [path, token] = decodeList(payload);
    if (path === undefined || token === undefined) return;
    this.watches.get(token)?.deliver({ path, token });
  }

  // --- lifetime ------------------------------------------------------------------------

  /** Close the connection; calls in flight reject, watches end. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closedFlag = true;
      this.conn.close();
      this.closing = Promise.resolve().then(() => this.finish(undefined));
    }
    return this.closing;
  }

  private onLost(err: unknown): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const e = XenStoreError.from(err, 'connection');
    this.closeReason = e;
    this.closing = Promise.resolve();
    this.finish(e);
  }

  private finish(err: XenStoreError | undefined): void {
    const ws = [...this.watches.values()];
    this.watches.clear();
    for (const w of ws) w.end(err);
    this.emit('close', err);
  }
}
