/**
 * Which error a caller sees when every sub-driver a route tried failed: the most
 * specific one, never a bare "failed". A code that names what went wrong (no such
 * domain, invalid argument, domain not running, denied…) beats a transport or generic
 * failure, which beats "not supported"; ties go to the earlier sub-driver in the route.
 */
import { ErrorCode, ErrorDomain, VirError, isVirError } from '../../errors.js';
import type { SubDriverName } from './subdriver.js';

export interface Attempt {
  sub: SubDriverName;
  error: VirError;
}

const VAGUENESS: Partial<Record<string, number>> = {
  [ErrorCode.NO_SUPPORT]: 0,
  [ErrorCode.INTERNAL_ERROR]: 1,
  [ErrorCode.INVALID_CONN]: 1,
  [ErrorCode.OPERATION_FAILED]: 2,
  [ErrorCode.CALL_FAILED]: 2,
  [ErrorCode.NO_CONNECT]: 2,
  [ErrorCode.NO_XEN]: 2,
  [ErrorCode.NO_XENSTORE]: 2,
  [ErrorCode.OPERATION_TIMEOUT]: 2,
};

function specificity(e: VirError): number {
  // An errno says exactly what the system answered: a little more specific.
  return (VAGUENESS[e.code] ?? 3) + (e.errno !== undefined ? 0.5 : 0);
}

/** A sub-driver threw something that is not a VirError (a bug): keep its words. */
export function asVirError(sub: SubDriverName, e: unknown): VirError {
  if (isVirError(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new VirError(`${sub} sub-driver failed: ${msg}`, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.XEN, cause: e });
}

/** The error to report for a route whose every attempt failed (attempts in route order). */
export function chooseError(method: string, attempts: readonly Attempt[]): VirError {
  if (attempts.length === 0) {
    return new VirError(`${method}: no open Xen sub-driver implements it`, { code: ErrorCode.NO_SUPPORT, domain: ErrorDomain.XEN });
  }
  let best = attempts[0]!;
  for (const a of attempts) if (specificity(a.error) > specificity(best.error)) best = a;
  // Say what else was tried when it failed differently: that is often the real story.
  const others = attempts.filter((a) => a !== best && a.error.code !== best.error.code && a.error.code !== ErrorCode.NO_SUPPORT);
  if (others.length === 0) return best.error;
  const also = others.map((a) => `${a.sub}: ${a.error.message}`).join('; ');
  return new VirError(`${best.error.message} (also tried ${also})`, {
    code: best.error.code,
    domain: best.error.domain,
    ...(best.error.errno !== undefined ? { errno: best.error.errno } : {}),
    ...(best.error.syscall !== undefined ? { syscall: best.error.syscall } : {}),
    cause: best.error,
  });
}
