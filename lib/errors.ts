/**
 * The one error class of xenvirt.
 *
 * Every failure a caller can see is a VirError with libvirt's names for the error code
 * (`VIR_ERR_*`) and the component that raised it (`VIR_FROM_*`), so programs can switch
 * on `code` exactly as they would on libvirt's virErrorNumber.
 */

/** libvirt's error codes that xenvirt raises (the string names, not the numbers). */
export const ErrorCode = {
  OK: 'VIR_ERR_OK',
  INTERNAL_ERROR: 'VIR_ERR_INTERNAL_ERROR',
  NO_MEMORY: 'VIR_ERR_NO_MEMORY',
  NO_SUPPORT: 'VIR_ERR_NO_SUPPORT',
  UNKNOWN_HOST: 'VIR_ERR_UNKNOWN_HOST',
  NO_CONNECT: 'VIR_ERR_NO_CONNECT',
  INVALID_CONN: 'VIR_ERR_INVALID_CONN',
  INVALID_DOMAIN: 'VIR_ERR_INVALID_DOMAIN',
  INVALID_ARG: 'VIR_ERR_INVALID_ARG',
  OPERATION_FAILED: 'VIR_ERR_OPERATION_FAILED',
  GET_FAILED: 'VIR_ERR_GET_FAILED',
  POST_FAILED: 'VIR_ERR_POST_FAILED',
  HTTP_ERROR: 'VIR_ERR_HTTP_ERROR',
  SEXPR_SERIAL: 'VIR_ERR_SEXPR_SERIAL',
  NO_XEN: 'VIR_ERR_NO_XEN',
  XEN_CALL: 'VIR_ERR_XEN_CALL',
  OS_TYPE: 'VIR_ERR_OS_TYPE',
  NO_KERNEL: 'VIR_ERR_NO_KERNEL',
  NO_ROOT: 'VIR_ERR_NO_ROOT',
  NO_SOURCE: 'VIR_ERR_NO_SOURCE',
  NO_TARGET: 'VIR_ERR_NO_TARGET',
  NO_NAME: 'VIR_ERR_NO_NAME',
  NO_OS: 'VIR_ERR_NO_OS',
  NO_DEVICE: 'VIR_ERR_NO_DEVICE',
  NO_XENSTORE: 'VIR_ERR_NO_XENSTORE',
  DRIVER_FULL: 'VIR_ERR_DRIVER_FULL',
  CALL_FAILED: 'VIR_ERR_CALL_FAILED',
  XML_ERROR: 'VIR_ERR_XML_ERROR',
  DOM_EXIST: 'VIR_ERR_DOM_EXIST',
  OPERATION_DENIED: 'VIR_ERR_OPERATION_DENIED',
  OPEN_FAILED: 'VIR_ERR_OPEN_FAILED',
  READ_FAILED: 'VIR_ERR_READ_FAILED',
  PARSE_FAILED: 'VIR_ERR_PARSE_FAILED',
  CONF_SYNTAX: 'VIR_ERR_CONF_SYNTAX',
  WRITE_FAILED: 'VIR_ERR_WRITE_FAILED',
  XML_DETAIL: 'VIR_ERR_XML_DETAIL',
  INVALID_NETWORK: 'VIR_ERR_INVALID_NETWORK',
  NETWORK_EXIST: 'VIR_ERR_NETWORK_EXIST',
  SYSTEM_ERROR: 'VIR_ERR_SYSTEM_ERROR',
  RPC: 'VIR_ERR_RPC',
  NO_DOMAIN: 'VIR_ERR_NO_DOMAIN',
  NO_NETWORK: 'VIR_ERR_NO_NETWORK',
  INVALID_MAC: 'VIR_ERR_INVALID_MAC',
  AUTH_FAILED: 'VIR_ERR_AUTH_FAILED',
  OPERATION_INVALID: 'VIR_ERR_OPERATION_INVALID',
  CONFIG_UNSUPPORTED: 'VIR_ERR_CONFIG_UNSUPPORTED',
  OPERATION_TIMEOUT: 'VIR_ERR_OPERATION_TIMEOUT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The component that raised an error (libvirt's virErrorDomain names). */
export const ErrorDomain = {
  NONE: 'VIR_FROM_NONE',
  XEN: 'VIR_FROM_XEN',
  XEND: 'VIR_FROM_XEND',
  XENSTORE: 'VIR_FROM_XENSTORE',
  SEXPR: 'VIR_FROM_SEXPR',
  XML: 'VIR_FROM_XML',
  DOM: 'VIR_FROM_DOM',
  RPC: 'VIR_FROM_RPC',
  PROXY: 'VIR_FROM_PROXY',
  CONF: 'VIR_FROM_CONF',
  TEST: 'VIR_FROM_TEST',
  NET: 'VIR_FROM_NET',
  XENXM: 'VIR_FROM_XENXM',
  XENXL: 'VIR_FROM_XENXL',
  XENAPI: 'VIR_FROM_XENAPI',
  CAPABILITIES: 'VIR_FROM_CAPABILITIES',
  DOMAIN: 'VIR_FROM_DOMAIN',
  NETWORK: 'VIR_FROM_NETWORK',
} as const;
export type ErrorDomain = (typeof ErrorDomain)[keyof typeof ErrorDomain];

export interface VirErrorOptions {
  /** libvirt error code name, e.g. 'VIR_ERR_NO_DOMAIN'. */
  code?: string;
  /** Raising component, e.g. 'VIR_FROM_XEN'. */
  domain?: string;
  /** OS errno (positive) when the failure came from a system call or a daemon. */
  errno?: number;
  /** errno name (e.g. 'ENOENT') when known. */
  syscall?: string;
  /** The lower-level error this one wraps. */
  cause?: unknown;
}

// A brand shared by every copy of this module (two installs of xenvirt in one process,
// or the ESM and CJS builds side by side) so `instanceof VirError` works across them.
const kVirError = Symbol.for('xenvirt.VirError');

export class VirError extends Error {
  /** libvirt error code name. */
  readonly code: string;
  /** Component that raised the error. */
  readonly domain: string;
  /** OS errno when the failure came from the system or a daemon. */
  readonly errno?: number;
  /** errno name when known (ENOENT, EACCES, EAGAIN, …). */
  readonly syscall?: string;

  constructor(message: string, options: VirErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? ErrorCode.INTERNAL_ERROR;
    this.domain = options.domain ?? ErrorDomain.NONE;
    if (options.errno !== undefined) this.errno = options.errno;
    if (options.syscall !== undefined) this.syscall = options.syscall;
    Object.defineProperty(this, kVirError, { value: true });
  }

  override get name(): string {
    return 'VirError';
  }

  static override [Symbol.hasInstance](obj: unknown): boolean {
    if (obj === null || typeof obj !== 'object') return false;
    // Subclasses keep the ordinary prototype check; VirError itself accepts any copy.
    if (this !== VirError) return Function.prototype[Symbol.hasInstance].call(this, obj);
    return (obj as Record<symbol, unknown>)[kVirError] === true;
  }
}

/** Shorthand used all over the drivers. */
export function virError(code: string, domain: string, message: string, extra: Omit<VirErrorOptions, 'code' | 'domain'> = {}): VirError {
  return new VirError(message, { ...extra, code, domain });
}

export function isVirError(e: unknown): e is VirError {
  return e instanceof VirError;
}
