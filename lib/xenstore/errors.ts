/**
 * XenStoreError: the VirError raised by everything under lib/xenstore, with the errno
 * name xenstored answered (or the local failure) in `syscall` and its number in `errno`.
 */
import { constants } from 'node:os';
import { VirError, ErrorCode, ErrorDomain, isVirError } from '../errors.js';

const errnoNumbers = constants.errno as Record<string, number>;

/** Which libvirt code a daemon errno maps to: refusals are "denied", bad input "invalid". */
function codeForErrno(name: string): string {
  switch (name) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return ErrorCode.OPERATION_DENIED;
    case 'EINVAL':
    case 'E2BIG':
      return ErrorCode.INVALID_ARG;
    case 'ENOSYS':
      return ErrorCode.NO_SUPPORT;
    default:
      return ErrorCode.OPERATION_FAILED;
  }
}

export interface XenStoreErrorOptions {
  code?: string;
  /** errno name (ENOENT, EACCES, EAGAIN, E2BIG, …). */
  syscall?: string;
  /** The XenStore path the failed operation named. */
  path?: string;
  cause?: unknown;
}

export class XenStoreError extends VirError {
  /** The path the failing operation was about, when there was one. */
  readonly path?: string;

  constructor(message: string, options: XenStoreErrorOptions = {}) {
    const syscall = options.syscall;
    super(message, {
      code: options.code ?? (syscall ? codeForErrno(syscall) : ErrorCode.INTERNAL_ERROR),
      domain: ErrorDomain.XENSTORE,
      ...(syscall !== undefined && errnoNumbers[syscall] !== undefined ? { errno: errnoNumbers[syscall] } : {}),
      ...(syscall !== undefined ? { syscall } : {}),
      cause: options.cause,
    });
    if (options.path !== undefined) this.path = options.path;
  }

  override get name(): string {
    return 'XenStoreError';
  }

  /** xenstored answered ERROR with `errnoName` to an operation on `path`. */
  static fromDaemon(op: string, errnoName: string, path?: string): XenStoreError {
    const where = path === undefined ? '' : ` ${path}`;
    return new XenStoreError(`xenstore ${op}${where}: ${errnoName}`, { syscall: errnoName, ...(path !== undefined ? { path } : {}) });
  }

  /** The peer broke the protocol. */
  static protocol(message: string): XenStoreError {
    return new XenStoreError(message, { code: ErrorCode.RPC, syscall: 'EPROTO' });
  }

  /** Wrap any failure (a native VirError, a daemon errno string) as a XenStoreError. */
  static from(e: unknown, op: string, path?: string): XenStoreError {
    if (e instanceof XenStoreError) return e;
    if (typeof e === 'string') return XenStoreError.fromDaemon(op, e, path);
    if (isVirError(e)) {
      const where = path === undefined ? '' : ` ${path}`;
      return new XenStoreError(`xenstore ${op}${where}: ${e.message}`, {
        code: e.code,
        ...(e.syscall !== undefined ? { syscall: e.syscall } : {}),
        ...(path !== undefined ? { path } : {}),
        cause: e,
      });
    }
    return new XenStoreError(`xenstore ${op}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}
