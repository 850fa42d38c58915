/**
 * Where the XenStore connection goes (socket or xenbus device) and the shape of the
 * addon's XsConnection, the byte mover behind XenStore.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../native.js';
import { ErrorCode } from '../errors.js';
import { XenStoreError } from './errors.js';

/** native/xenstore.cc's XsConnection. */
/** How the addon hands a successful reply over. */
export const ReplyAs = {
  /** A Buffer of the raw payload. */
  BUFFER: 0,
  /** The whole payload as UTF-8 text. */
  TEXT: 1,
  /** The payload up to its first NUL, as UTF-8 text. */
  CSTRING: 2,
  /** undefined (the reply is just "OK"). */
  NOTHING: 3,
} as const;
export type ReplyAs = (typeof ReplyAs)[keyof typeof ReplyAs];

/**
 * Builds what a failed request rejects with: `errnoName` is the daemon's ERROR answer,
 * or null when the connection failed with `cause`; `subject` is the request payload's
 * first string (the path, for node operations).
 */
export type MakeRequestError = (errnoName: string | null, type: number, subject: string, cause: unknown) => Error;

export interface NativeXsConnection {
  /** Queue one request (a string payload is sent NUL-terminated); resolves with the
   * reply, rejects with makeError's result. */
  request(type: number, txId: number, payload: Buffer | string, replyAs: ReplyAs): Promise<Buffer | string>;
  /** Write what request() queued. */
  flush(): void;
  /** Keep Node's loop alive while true even with nothing in flight (active watches). */
  setKeepAlive(on: boolean): void;
  /** Idempotent; rejects every call in flight. */
  close(): void;
  readonly pending: number;
}

type NativeXsConnectionCtor = new (
  kind: 'socket' | 'device',
  path: string,
  onWatchEvent: (payload: Buffer) => void,
  onClose: (err: unknown) => void,
  makeError: MakeRequestError,
) => NativeXsConnection;

export interface XenStoreOpenOptions {
  /** xenstored's unix socket. Default: $XENSTORED_PATH, $XENSTORED_RUNDIR/socket,
   * /run/xenstored/socket, /var/run/xenstored/socket, then the xenbus device. */
  path?: string;
  /** Use the xenbus device (`path` then names it; default /dev/xen/xenbus). */
  device?: boolean;
}

export interface Endpoint {
  kind: 'socket' | 'device';
  path: string;
}

export const DEFAULT_DEVICE = '/dev/xen/xenbus';
const DEFAULT_SOCKETS = ['/run/xenstored/socket', '/var/run/xenstored/socket'];

/** Decide where to connect, as libxenstore does, plus the device as last resort. */
export function resolveEndpoint(opts: XenStoreOpenOptions = {}, env: NodeJS.ProcessEnv = process.env): Endpoint {
  if (opts.device) return { kind: 'device', path: opts.path ?? DEFAULT_DEVICE };
  if (opts.path !== undefined) return { kind: 'socket', path: opts.path };
  if (env.XENSTORED_PATH) return { kind: 'socket', path: env.XENSTORED_PATH };
  const candidates = [...(env.XENSTORED_RUNDIR ? [join(env.XENSTORED_RUNDIR, 'socket')] : []), ...DEFAULT_SOCKETS];
  for (const p of candidates) if (existsSync(p)) return { kind: 'socket', path: p };
  if (existsSync(DEFAULT_DEVICE)) return { kind: 'device', path: DEFAULT_DEVICE };
  throw new XenStoreError(
    `no XenStore found: none of ${[...candidates, DEFAULT_DEVICE].join(', ')} exists ` +
      '(is xenstored running? set XENSTORED_PATH or pass { path })',
    { code: ErrorCode.NO_XENSTORE, syscall: 'ENOENT' },
  );
}

export function connect(
  ep: Endpoint,
  onWatchEvent: (payload: Buffer) => void,
  onClose: (err: unknown) => void,
  makeError: MakeRequestError,
): NativeXsConnection {
  const Ctor = native().XsConnection as NativeXsConnectionCtor | undefined;
  if (typeof Ctor !== 'function') {
    throw new XenStoreError('this build of the xenvirt addon has no XenStore support', { code: ErrorCode.NO_SUPPORT });
  }
  try {
    return new Ctor(ep.kind, ep.path, onWatchEvent, onClose, makeError);
  } catch (e) {
    throw XenStoreError.from(e, 'open', undefined);
  }
}
