/**
 * THE list of what the proxy carries, used by both ends: the daemon serves exactly
 * PROXY_READ_METHODS (plus its own '$hello'), the client forwards those and every
 * mutating driver method (which the daemon answers with VIR_ERR_OPERATION_DENIED, the
 * truthful answer for an unprivileged user), and the server's backend type and its
 * argument checks are keyed by the same list, so the compiler rejects a method served
 * without a handler or handled without being served.
 */
import type { HypervisorDriver } from '../driver.js';
import { MUTATING_METHODS } from '../dispatch.js';
import { PUBLIC_DRIVER_METHODS } from '../drivers/xen/routing.js';

/** Read-only driver methods served to unprivileged users. */
export const PROXY_READ_METHODS = [
  'getVersion',
  'getCapabilities',
  'nodeGetInfo',
  'listAllDomains',
  'lookupDomainByName',
  'lookupDomainById',
  'lookupDomainByUUID',
  'domainGetInfo',
  'domainGetXMLDesc',
  'domainGetVcpus',
  'domainGetAutostart',
] as const satisfies readonly (keyof HypervisorDriver)[];
export type ProxyReadMethod = (typeof PROXY_READ_METHODS)[number];

/** What the daemon answers: the read methods and '$hello' (a client's check that it reached a live daemon). */
export const SERVED_METHODS = ['$hello', ...PROXY_READ_METHODS] as const;
export type ServedMethod = (typeof SERVED_METHODS)[number];

/** Mutating driver methods: forwarded, so the daemon's refusal is the answer. */
export const PROXY_REFUSED_METHODS: readonly string[] = PUBLIC_DRIVER_METHODS.filter((m) => MUTATING_METHODS.has(m));

/** Every driver method the proxy sub-driver has. */
export const FORWARDED_METHODS: readonly string[] = [...PROXY_READ_METHODS, ...PROXY_REFUSED_METHODS];
