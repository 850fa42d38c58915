/**
 * The VirErrors of the transports: one place that turns a socket or process failure into
 * libvirt's code (VIR_ERR_SYSTEM_ERROR for the OS, VIR_ERR_RPC/AUTH_FAILED for the peer).
 */
import { constants } from 'node:os';
import { ErrorCode, ErrorDomain, VirError, virError } from '../../errors.js';

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ECONNRESET: 'Connection reset by peer',
  ENOTSOCK: 'Socket operation on non-socket',
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  EPIPE: 'Broken pipe',
};

/** An OS-level failure (connect, spawn) as libvirt reports it: VIR_ERR_SYSTEM_ERROR with errno. */
export function systemError(what: string, cause: unknown): VirError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const text = (code && ERRNO_TEXT[code]) ?? (cause as Error | undefined)?.message ?? String(cause);
  const errno = code ? (constants.errno as Record<string, number>)[code] : undefined;
  const extra: { cause: unknown; errno?: number; syscall?: string } = { cause };
  if (errno !== undefined) extra.errno = errno;
  if (code) extra.syscall = code;
  return virError(ErrorCode.SYSTEM_ERROR, ErrorDomain.RPC, `${what}: ${text}`, extra);
}

export function rpcError(message: string, cause?: unknown): VirError {
  return virError(ErrorCode.RPC, ErrorDomain.RPC, message, cause === undefined ? {} : { cause });
}

export function authError(message: string, cause?: unknown): VirError {
  return virError(ErrorCode.AUTH_FAILED, ErrorDomain.RPC, message, cause === undefined ? {} : { cause });
}

export function timeoutError(describe: string, ms: number): VirError {
  return virError(ErrorCode.OPERATION_TIMEOUT, ErrorDomain.RPC, `connecting to ${describe} took longer than ${ms} ms`);
}

export function abortedError(describe: string, reason?: unknown): VirError {
  const why = reason instanceof Error ? `: ${reason.message}` : '';
  return virError('VIR_ERR_OPERATION_ABORTED', ErrorDomain.RPC, `connecting to ${describe} was aborted${why}`, reason === undefined ? {} : { cause: reason });
}
