/**
 * THE rule for whether a failed sub-driver call lets the unified driver try the next
 * sub-driver on the route, written once and used by every policy.
 *
 * Moves on: the sub-driver cannot do it here (not supported, not open, declined: a
 * live-only sub-driver asked about an inactive domain), the way to it broke (transport
 * failure, timeout), or the management layer failed doing it (xl/xend failed).
 * Final: the request itself is wrong or forbidden (invalid argument, denied), it
 * conflicts with the domain's state or another definition, or a source that is
 * authoritative says the domain does not exist.
 */
import { ErrorCode, type VirError } from '../../errors.js';
import type { SubDriverName } from './subdriver.js';

export type FallbackVerdict = 'moves-on' | 'final';

const kDeclined = Symbol.for('xenvirt.xen.declined');

/**
 * Mark an error as "this sub-driver does not handle this kind of request" (e.g. the
 * hypervisor asked for the info of an inactive domain): the next sub-driver is tried,
 * and the error still reads well if it is the one reported.
 */
export function declined<E extends VirError>(e: E): E {
  Object.defineProperty(e, kDeclined, { value: true });
  return e;
}

export function isDeclined(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[kDeclined] === true;
}

/** Codes that say the request is wrong, forbidden or in conflict: no other sub-driver will do better. */
const FINAL_CODES: ReadonlySet<string> = new Set([
  ErrorCode.INVALID_ARG,
  ErrorCode.OPERATION_DENIED,
  ErrorCode.OPERATION_INVALID,
  ErrorCode.DOM_EXIST,
  ErrorCode.XML_ERROR,
  ErrorCode.XML_DETAIL,
  ErrorCode.INVALID_DOMAIN,
  ErrorCode.CONFIG_UNSUPPORTED,
]);

/** Sub-drivers that see running domains as they are (not a stored definition). */
export const LIVE_SOURCES: ReadonlySet<SubDriverName> = new Set(['hypervisor', 'xenstore', 'xend', 'proxy']);

export interface FailureContext {
  sub: SubDriverName;
  /**
   * The call acts on one domain the caller holds a live ref for (id >= 0): a live
   * source saying it does not exist is authoritative. Lookups and lists pass false:
   * each source knows only part of the domains there.
   */
  runningDomain: boolean;
}

/** Whether the route goes on to the next sub-driver after this failure. */
export function fallbackVerdict(error: VirError, ctx: FailureContext): FallbackVerdict {
  if (isDeclined(error)) return 'moves-on';
  if (FINAL_CODES.has(error.code)) return 'final';
  if (error.code === ErrorCode.NO_DOMAIN) return ctx.runningDomain && LIVE_SOURCES.has(ctx.sub) ? 'final' : 'moves-on';
  // Not supported, not open, transport, timeout, the management layer failing, and any
  // other failure of the way in: another sub-driver may still reach the host.
  return 'moves-on';
}
