/**
 * XenStore: the public client. Owns one native connection, the watches registered on
 * it and the transaction retry policy; node operations come from NodeOps.
 */
import { EventEmitter } from 'node:events';
import { ErrorCode } from '../errors.js';
import { connect, resolveEndpoint, type Endpoint, type NativeXsConnection, type XenStoreOpenOptions } from './connection.js';
import { decodeList, decodeString, type Permission } from './decode.js';
import { XenStoreError } from './errors.js';
import { NodeOps, type Link } from './ops.js';
import { validateToken, validateWatchPath } from './paths.js';
import { domidPayload, introducePayload, transactionEndPayload, transactionStartPayload, watchPayload } from './serializer.js';
import { Transaction } from './transaction.js';
import { Watch } from './watch.js';
import { PAYLOAD_MAX, XsType } from './wire.js';

export interface TransactionOptions {
  /** Attempts before giving up on repeated conflicts (EAGAIN). Default 16. */
  maxAttempts?: number;
}

const ignore = (_: Buffer): void => undefined;

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

export class XenStore extends EventEmitter implements Link {
  /** Where this connection goes. */
  readonly endpoint: Endpoint;
  private readonly conn: NativeXsConnection;
  private readonly ops: NodeOps;
  private readonly watches = new Map<string, Watch>();
  private watchSeq = 0;
  private flushQueued = false;
  private closedFlag = false;
  private closing?: Promise<void>;
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
    );
    this.ops = new NodeOps(this, 0);
  }

  /** Connect to xenstored (see XenStoreOpenOptions for where). */
  static async open(options: XenStoreOpenOptions = {}): Promise<XenStore> {
    return new XenStore(resolveEndpoint(options));
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Calls in flight. */
  get pending(): number {
    return this.closedFlag ? 0 : this.conn.pending;
  }

  // --- Link --------------------------------------------------------------------------

  /** @internal */
  call<T>(type: number, txId: number, payload: Buffer, op: string, path: string | undefined, decode: (b: Buffer) => T): Promise<T> {
    if (this.closedFlag) {
      return Promise.reject(new XenStoreError(`xenstore ${op}: the connection is closed`, { code: ErrorCode.NO_CONNECT, ...(path !== undefined ? { path } : {}) }));
    }
    if (payload.length > PAYLOAD_MAX) {
      return Promise.reject(new XenStoreError(`xenstore ${op}: request of ${payload.length} bytes exceeds the protocol's ${PAYLOAD_MAX}`, { syscall: 'E2BIG', ...(path !== undefined ? { path } : {}) }));
    }
    const p = this.conn.request(type, txId, payload);
    // Requests issued in the same tick go out in one write (cork until the microtask).
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushNow);
    }
    return p.then(decode, (e: unknown) => {
      throw XenStoreError.from(e, op, path);
    });
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
    return guarded(() => checkDomid(domid), () => this.call(XsType.GET_DOMAIN_PATH, 0, domidPayload(domid), 'getDomainPath', undefined, decodeString));
  }

  /** Tell xenstored about a new domain's ring (fires @introduceDomain). dom0 only. */
  introduceDomain(domid: number, mfn: number | bigint, port: number): Promise<void> {
    return guarded(() => checkDomid(domid), () => this.call(XsType.INTRODUCE, 0, introducePayload(domid, mfn, port), 'introduceDomain', undefined, ignore));
  }

  /** Forget a domain (fires @releaseDomain). dom0 only. */
  releaseDomain(domid: number): Promise<void> {
    return guarded(() => checkDomid(domid), () => this.call(XsType.RELEASE, 0, domidPayload(domid), 'releaseDomain', undefined, ignore));
  }

  isDomainIntroduced(domid: number): Promise<boolean> {
    return guarded(() => checkDomid(domid), () => this.call(XsType.IS_DOMAIN_INTRODUCED, 0, domidPayload(domid), 'isDomainIntroduced', undefined, (b) => decodeString(b) === 'T'));
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
      const id = await this.call(XsType.TRANSACTION_START, 0, transactionStartPayload(), 'transaction start', undefined, (b) => Number(decodeString(b)));
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
    return this.call(XsType.TRANSACTION_END, id, transactionEndPayload(commit), commit ? 'transaction commit' : 'transaction abort', undefined, ignore);
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
    const registered = this.call(XsType.WATCH, 0, watchPayload(path, tok), 'watch', path, ignore);
    const w = new Watch(path, tok, registered, (me) => this.unwatch(me));
    // Registered before the request goes out: the first event may beat the reply.
    this.watches.set(tok, w);
    registered.catch(() => this.forget(w));
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
      await this.call(XsType.UNWATCH, 0, watchPayload(w.path, w.token), 'unwatch', w.path, ignore);
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
