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
export interface NativeXsConnection {
  /** Queue one request; resolves with the reply payload, rejects with the errno name
   * (a string) on an ERROR reply or a VirError when the connection fails. */
  request(type: number, txId: number, payload: Buffer): Promise<Buffer>;
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
): NativeXsConnection {
  const Ctor = native().XsConnection as NativeXsConnectionCtor | undefined;
  if (typeof Ctor !== 'function') {
    throw new XenStoreError('this build of the xenvirt addon has no XenStore support', { code: ErrorCode.NO_SUPPORT });
  }
  try {
    return new Ctor(ep.kind, ep.path, onWatchEvent, onClose);
  } catch (e) {
    throw XenStoreError.from(e, 'open', undefined);
  }
}
