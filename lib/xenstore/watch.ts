/**
 * One XenStore watch: an EventEmitter ('change' with { path, token }, 'close') and an
 * async iterator of the same events, which ends when the watch or connection closes.
 */
import { EventEmitter } from 'node:events';

export interface WatchEvent {
  /** The node that changed (or the special path that fired). */
  path: string;
  token: string;
}

export class Watch extends EventEmitter implements AsyncIterable<WatchEvent> {
  /** Resolves once xenstored accepted the watch; rejects (with a XenStoreError) if not. */
  readonly ready: Promise<void>;
  private closedFlag = false;
  private closing?: Promise<void>;
  private failure: unknown;
  // Events are only buffered once someone iterates, so a listener-only user never
  // accumulates memory.
  private iterating = false;
  private readonly queue: WatchEvent[] = [];
  private waiter?: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: unknown) => void };

  constructor(
    readonly path: string,
    readonly token: string,
    registered: Promise<void>,
    private readonly unwatch: (w: Watch) => Promise<void>,
  ) {
    super();
    this.ready = registered;
    // XenStore ends the watch when registration fails (through 'error' if listened to,
    // and the iterator); ready itself must never become an unhandled rejection.
    registered.catch(() => undefined);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Called by XenStore for every event carrying this watch's token. */
  deliver(ev: WatchEvent): void {
    if (this.closedFlag) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: ev, done: false });
    } else if (this.iterating) {
      this.queue.push(ev);
    }
    this.emit('change', ev);
  }

  /** Stop watching (sends UNWATCH). Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = this.unwatch(this);
      this.end(undefined);
    }
    return this.closing;
  }

  /** The watch is over (closed, registration failed, or the connection went away). */
  end(err: unknown): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.failure = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      if (err === undefined) w.resolve({ value: undefined, done: true });
      else w.reject(err);
    }
    if (err !== undefined && this.listenerCount('error') > 0) this.emit('error', err);
    this.emit('close', err);
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    this.iterating = true;
    return {
      next: () => {
        const ev = this.queue.shift();
        if (ev) return Promise.resolve({ value: ev, done: false });
        if (this.closedFlag) {
          return this.failure === undefined || this.failureReported ? Promise.resolve({ value: undefined, done: true }) : this.reportFailure();
        }
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  private failureReported = false;
  private reportFailure(): Promise<IteratorResult<WatchEvent>> {
    this.failureReported = true;
    return Promise.reject(this.failure);
  }
}
