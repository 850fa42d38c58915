/**
 * A connection to xenvirt-proxy: sends calls with serials, matches replies, and settles
 * every pending call when the connection ends. Used by the proxy sub-driver.
 */
// node:net loads when a connection is made, not with the module (CLI start-up, issue 15).
import type { Socket } from 'node:net';
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { FrameParser, FrameType, encodeFrame, type Frame } from './protocol.js';
import { callPayload, decodeError, decodeReply } from './messages.js';

export const DEFAULT_PROXY_SOCKET = '/run/xenvirt/proxy.sock';

const MAX_REPLY_BYTES = 16 * 1024 * 1024;
const MAX_CALL_BYTES = 64 * 1024;

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

export interface ProxyClientOptions {
  /** Per-call time limit, ms (default 60 s). */
  timeoutMs?: number;
  /** Connect time limit, ms (default 5 s). */
  connectTimeoutMs?: number;
}

export class ProxyClient {
  readonly path: string;
  readonly #socket: Socket;
  readonly #parser = new FrameParser(MAX_REPLY_BYTES);
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  #serial = 0;
  #closedError: VirError | undefined;

  private constructor(path: string, socket: Socket, timeoutMs: number) {
    this.path = path;
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (c: Buffer) => this.#onData(c));
    socket.on('error', (e) => this.#shutdown(new VirError(`xenvirt-proxy connection failed: ${e.message}`, { code: ErrorCode.NO_CONNECT, domain: ErrorDomain.PROXY, cause: e })));
    socket.on('close', () => this.#shutdown(new VirError('xenvirt-proxy closed the connection', { code: ErrorCode.NO_CONNECT, domain: ErrorDomain.PROXY })));
  }

  static async connect(path: string, opts: ProxyClientOptions = {}): Promise<ProxyClient> {
    const { createConnection } = await import('node:net');
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`no answer within ${opts.connectTimeoutMs ?? 5000} ms`), { code: 'ETIMEDOUT' }));
      }, opts.connectTimeoutMs ?? 5000);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ProxyClient(path, socket, opts.timeoutMs ?? 60_000));
      });
    });
  }

  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  call(method: string, args: unknown[] = []): Promise<unknown> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    this.#serial = this.#serial >= 0xffffffff ? 1 : this.#serial + 1;
    const serial = this.#serial;
    let frame: Buffer;
    try {
      frame = encodeFrame(FrameType.CALL, serial, callPayload(method, args), MAX_CALL_BYTES);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(serial);
        reject(new VirError(`xenvirt-proxy did not answer ${method} within ${this.#timeoutMs} ms`, { code: ErrorCode.OPERATION_TIMEOUT, domain: ErrorDomain.PROXY }));
      }, this.#timeoutMs);
      this.#pending.set(serial, { resolve, reject, timer });
      this.#socket.write(frame);
    });
  }

  #onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (e) {
      this.#shutdown(e as VirError);
      this.#socket.destroy();
      return;
    }
    for (const f of frames) {
      if (f.serial === 0 && f.type === FrameType.ERROR) {
        // About the whole connection (refused, protocol error): every call fails with it.
        this.#shutdown(decodeError(f.payload));
        continue;
      }
      const p = this.#pending.get(f.serial);
      if (!p) continue; // timed out meanwhile
      this.#pending.delete(f.serial);
      clearTimeout(p.timer);
      if (f.type === FrameType.REPLY) p.resolve(decodeReply(f.payload));
      else if (f.type === FrameType.ERROR) p.reject(decodeError(f.payload));
      else p.reject(new VirError(`xenvirt-proxy protocol: unexpected frame type ${f.type} in a reply`, { code: ErrorCode.RPC, domain: ErrorDomain.PROXY }));
    }
  }

  #shutdown(err: VirError): void {
    if (!this.#closedError) this.#closedError = err;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.#closedError);
    }
    this.#pending.clear();
  }

  close(): Promise<void> {
    this.#shutdown(new VirError('the xenvirt-proxy connection is closed', { code: ErrorCode.NO_CONNECT, domain: ErrorDomain.PROXY }));
    if (this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), 500).unref();
    });
  }
}
