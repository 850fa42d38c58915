/**
 * What the proxy's frames carry: a call (method + arguments), its result, or an error,
 * and which methods the daemon serves. Validation here is what stands between an
 * unprivileged user and a root process, so it is strict about shapes and sizes.
 */
import { VirError, ErrorCode, ErrorDomain, isVirError } from '../errors.js';
import { protocolError } from './protocol.js';
import { SERVED_METHODS, type ServedMethod } from './methods.js';

export { SERVED_METHODS, type ServedMethod } from './methods.js';

const SERVED: ReadonlySet<string> = new Set(SERVED_METHODS);
export function isServed(method: string): method is ServedMethod {
  return SERVED.has(method);
}

export interface Call {
  method: string;
  args: unknown[];
}

const MAX_METHOD_LENGTH = 64;
const MAX_ARGS = 4;

export function callPayload(method: string, args: unknown[]): Record<string, unknown> {
  return { method, args };
}

export function decodeCall(p: Record<string, unknown>): Call {
  const { method, args } = p;
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_LENGTH || !/^\$?[A-Za-z][A-Za-z0-9]*$/.test(method)) {
    throw protocolError('call without a valid method name');
  }
  if (args !== undefined && (!Array.isArray(args) || args.length > MAX_ARGS)) throw protocolError(`call '${method}' has invalid arguments`);
  return { method, args: (args as unknown[] | undefined) ?? [] };
}

export function replyPayload(result: unknown): Record<string, unknown> {
  return result === undefined ? {} : { result };
}

export function decodeReply(p: Record<string, unknown>): unknown {
  return p.result;
}

export function errorPayload(e: unknown): Record<string, unknown> {
  if (isVirError(e)) return { code: e.code, domain: e.domain, message: e.message };
  return { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.PROXY, message: e instanceof Error ? e.message : String(e) };
}

export function decodeError(p: Record<string, unknown>): VirError {
  const code = typeof p.code === 'string' && /^VIR_ERR_[A-Z_]+$/.test(p.code) ? p.code : ErrorCode.INTERNAL_ERROR;
  const domain = typeof p.domain === 'string' && /^VIR_FROM_[A-Z_]+$/.test(p.domain) ? p.domain : ErrorDomain.PROXY;
  const message = typeof p.message === 'string' ? p.message.slice(0, 4096) : 'xenvirt-proxy reported an error without a message';
  return new VirError(message, { code, domain });
}

// --- argument checks for the served methods -------------------------------------------

function badArg(method: string, what: string): VirError {
  return new VirError(`xenvirt-proxy: ${method}: ${what}`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.PROXY });
}

export function argString(method: string, v: unknown, what: string, max = 256): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || v.includes('\0')) badArgThrow(method, `${what} must be a non-empty string of at most ${max} characters`);
  return v as string;
}

export function argId(method: string, v: unknown): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > 0x7fff) badArgThrow(method, 'domain id must be a whole number from 0 to 32767');
  return v as number;
}

export function argUUID(method: string, v: unknown): string {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(v)) {
    badArgThrow(method, 'uuid must be 32 hex digits (dashes optional)');
  }
  return v as string;
}

/** Flags objects: only known boolean members. */
export function argFlags(method: string, v: unknown, known: readonly string[]): Record<string, boolean> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) badArgThrow(method, 'flags must be an object');
  const out: Record<string, boolean> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!known.includes(k) || typeof x !== 'boolean') badArgThrow(method, `unknown or non-boolean flag '${k}'`);
    out[k] = x as boolean;
  }
  return out;
}

/** The domain a call is about, named by UUID (the server resolves it itself). */
export function argDomainUUID(method: string, v: unknown): string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) badArgThrow(method, 'domain must be an object with a uuid');
  return argUUID(method, (v as Record<string, unknown>).uuid);
}

function badArgThrow(method: string, what: string): never {
  throw badArg(method, what);
}
