/**
 * The Xen driver's registration for `xen:///` (and `xen:///system`): check the URI and
 * options, open the sub-drivers by the open rules, and hand the connection the unified
 * driver. The network slot stays empty until a network driver exists, so network
 * calls on a Xen connection answer VIR_ERR_NO_SUPPORT.
 */
import { ErrorCode, ErrorDomain, VirError } from '../../errors.js';
import type { DriverRegistration, OpenContext } from '../../driver.js';
import { registerDriver } from '../../registry.js';
import { openSubDrivers } from './open.js';
import { xenDebug } from './debug.js';
import { subDriverFactories } from './factories.js';
import { UnifiedXenDriver } from './unified.js';
import type { SubDriverContext, SubDriverFactory, SubDriverName, XenOptions } from './subdriver.js';

export { registerSubDriverFactory } from './factories.js';
export { ROUTES, LOCAL_METHODS, routingRows } from './routing.js';
export type { Route, RoutePolicy, RoutedMethod } from './routing.js';

const SUB_DRIVER_NAMES: readonly SubDriverName[] = ['hypervisor', 'xenstore', 'configfiles', 'toolstack', 'xend', 'proxy'];
const STRING_OPTIONS = ['configDir', 'xenstorePath', 'xlPath', 'xendAddress', 'proxyPath'] as const;

function badOption(message: string): VirError {
  return new VirError(message, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEN });
}

/** Check options.xen field by field so a typo fails loudly instead of being ignored. */
export function checkXenOptions(raw: unknown): XenOptions {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badOption('options.xen must be an object');
  const o = raw as Record<string, unknown>;
  const known = new Set<string>([...STRING_OPTIONS, 'xenstoreDevice', 'privileged', 'disable']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw badOption(`unknown option options.xen.${k} (known: ${[...known].join(', ')})`);
  for (const k of STRING_OPTIONS) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '' || (o[k] as string).includes('\0'))) {
      throw badOption(`options.xen.${k} must be a non-empty string without NUL`);
    }
  }
  for (const k of ['xenstoreDevice', 'privileged'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw badOption(`options.xen.${k} must be a boolean`);
  }
  if (o.disable !== undefined) {
    // 'xm' is the config-file sub-driver's former name: still accepted.
    if (!Array.isArray(o.disable) || o.disable.some((n) => n !== 'xm' && !SUB_DRIVER_NAMES.includes(n as SubDriverName))) {
      throw badOption(`options.xen.disable must be an array of sub-driver names (${SUB_DRIVER_NAMES.join(', ')})`);
    }
    return { ...o, disable: o.disable.map((n) => (n === 'xm' ? 'configfiles' : n)) } as XenOptions;
  }
  return o as XenOptions;
}

/** xen:///, xen:///system, xen://localhost/ are ours; another host is not (no remote transport here). */
function checkURI(uri: URL): 'ok' | 'declined' {
  if (uri.hostname !== '' && uri.hostname !== 'localhost') return 'declined';
  if (uri.pathname !== '' && uri.pathname !== '/' && uri.pathname !== '/system') {
    throw new VirError(`unexpected Xen URI path '${uri.pathname}', try xen:/// or xen:///system`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEN });
  }
  return 'ok';
}

/** Open a unified driver from explicit factories (the registration passes the built-in ones). */
export async function openXen(uri: URL, ctx: OpenContext, factories: readonly SubDriverFactory[] = subDriverFactories()) {
  if (checkURI(uri) === 'declined') return 'declined' as const;
  const options = checkXenOptions(ctx.options.xen);
  const log = xenDebug;
  // Warnings raised while opening wait for the connection (conn.warnings); later ones are events.
  const early: VirError[] = [];
  let opened = false;
  const subCtx: SubDriverContext = {
    uri,
    options,
    privileged: options.privileged ?? process.getuid?.() === 0,
    readOnly: ctx.readOnly,
    events: ctx.events,
    log,
    warn: (w) => {
      log(w.message);
      if (opened) ctx.events.emit('warning', w);
      else early.push(w);
    },
  };
  const { subs, warnings } = await openSubDrivers(factories, subCtx);
  opened = true;
  return { driver: new UnifiedXenDriver(subs, { log }).driver(), warnings: [...warnings, ...early] };
}

export const xenDriverRegistration: DriverRegistration = {
  name: 'Xen',
  uriSchemes: ['xen'],
  open: (uri, ctx) => openXen(uri, ctx),
};

registerDriver(xenDriverRegistration);
