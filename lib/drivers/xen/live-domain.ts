/** Small checks shared by the sub-drivers that act on running domains only. */
import { ErrorCode, ErrorDomain, VirError } from '../../errors.js';
import type { DomainRef } from '../../driver.js';
import { declined } from './fallback.js';

/**
 * A DomainRef with a live id, or VIR_ERR_OPERATION_INVALID naming the domain, marked
 * declined: a live-only sub-driver does not handle inactive domains, so the route goes
 * on to one that may (the config files), and the message is right if none does.
 */
export function requireRunning(dom: DomainRef, domain: string = ErrorDomain.XEN): number {
  if (!Number.isInteger(dom.id) || dom.id < 0) {
    throw declined(new VirError(`domain '${dom.name}' is not running`, { code: ErrorCode.OPERATION_INVALID, domain }));
  }
  return dom.id;
}

/** The id now names another domain (or none): the one the caller meant is gone. */
export function goneError(dom: DomainRef, domain: string = ErrorDomain.XEN): VirError {
  return new VirError(`Domain not found: domain '${dom.name}' (id ${dom.id}, uuid ${dom.uuid}) is no longer running`, {
    code: ErrorCode.NO_DOMAIN,
    domain,
  });
}

export function sameUUID(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
