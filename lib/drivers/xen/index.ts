/**
 * The Xen driver's registration for `xen:///` (and `xen:///system`): check the URI and
 * options, open the sub-drivers by the open rules, and hand the connection the unified
 * driver plus the network slot (network-slot.ts: a local libvirt daemon's networks,
 * reached lazily on the first network call).
 */
import { ErrorCode, ErrorDomain, VirError } from '../../errors.js';
import type { DriverRegistration, OpenContext } from '../../driver.js';
import { registerDriver } from '../../registry.js';
import { openSubDrivers } from './open.js';
import { xenDebug } from './debug.js';
import { subDriverFactories } from './factories.js';
import { UnifiedXenDriver } from './unified.js';
import { DEFAULT_NETWORK_URI, XenNetworkSlot } from './network-slot.js';
import type { SubDriverContext, SubDriverFactory, SubDriverName, XenOptions } from './subdriver.js';

export { registerSubDriverFactory } from './factories.js';
export { ROUTES, LOCAL_METHODS, routingRows } from './routing.js';
export type { Route, RoutePolicy, RoutedMethod } from './routing.js';

const SUB_DRIVER_NAMES: readonly SubDriverName[] = ['hypervisor', 'xenstore', 'configfiles', 'toolstack', 'xend', 'proxy'];
const STRING_OPTIONS = ['configDir', 'xenstorePath', 'xlPath', 'xendAddress', 'proxyPath'] as const;

function badOption(message: string): VirError {
  return new VirError(message, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEN });
}

const isString = (v: unknown): v is string => typeof v === 'string' && v !== '' && !v.includes('\0');

/** A URI the daemon opens locally: `driver:///path`, no transport, no host (e.g. network:///system). */
function isLocalDriverURI(v: unknown): boolean {
  if (!isString(v) || !/^[a-z][a-z0-9]*:\/\/\//i.test(v)) return false;
  try {
    return new URL(v).hostname === '';
  } catch {
    return false;
  }
}

/**
 * Check options.xen field by field so a typo fails loudly instead of being ignored.
 * `label` names where the options came from in messages.
 */
export function checkXenOptions(raw: unknown, label = 'options.xen'): XenOptions {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badOption(`${label} must be an object`);
  const o = raw as Record<string, unknown>;
  const known = new Set<string>([...STRING_OPTIONS, 'xenstoreDevice', 'privileged', 'disable', 'networkSocket', 'networkURI']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw badOption(`unknown option ${label}.${k} (known: ${[...known].join(', ')})`);
  for (const k of STRING_OPTIONS) {
    if (o[k] !== undefined && !isString(o[k])) throw badOption(`${label}.${k} must be a non-empty string without NUL`);
  }
  for (const k of ['xenstoreDevice', 'privileged'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw badOption(`${label}.${k} must be a boolean`);
  }
  if (o.networkSocket !== undefined && o.networkSocket !== false && !isString(o.networkSocket)) {
    throw badOption(`${label}.networkSocket must be a unix socket path (a non-empty string without NUL) or false`);
  }
  if (o.networkURI !== undefined && !isLocalDriverURI(o.networkURI)) {
    throw badOption(`${label}.networkURI must be a local driver URI such as ${DEFAULT_NETWORK_URI} (no transport, no host), got ${JSON.stringify(o.networkURI)}`);
  }
  if (o.disable !== undefined) {
    // 'xm' is the config-file sub-driver's former name: still accepted.
    if (!Array.isArray(o.disable) || o.disable.some((n) => n !== 'xm' && !SUB_DRIVER_NAMES.includes(n as SubDriverName))) {
      throw badOption(`${label}.disable must be an array of sub-driver names (${SUB_DRIVER_NAMES.join(', ')})`);
    }
    return { ...o, disable: o.disable.map((n) => (n === 'xm' ? 'configfiles' : n)) } as XenOptions;
  }
  return o as XenOptions;
}

/**
 * options.xen over $XENVIRT_XEN_OPTIONS (a JSON object of the same fields): the way to set
 * them for programs that take only a URI, such as the CLI. Fields given in code win.
 */
export function resolveXenOptions(explicit: unknown, env: NodeJS.ProcessEnv = process.env): XenOptions {
  const text = env.XENVIRT_XEN_OPTIONS;
  if (text === undefined || text.trim() === '') return checkXenOptions(explicit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw badOption(`XENVIRT_XEN_OPTIONS is not valid JSON: ${(e as Error).message}`);
  }
  const fromEnv = checkXenOptions(parsed, 'XENVIRT_XEN_OPTIONS');
  return { ...fromEnv, ...checkXenOptions(explicit) };
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
  const options = resolveXenOptions(ctx.options.xen);
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
  // Nothing is opened for networks here: the slot connects on first use (see network-slot.ts).
  const networkDriver = new XenNetworkSlot({
    connectionURI: uri.href,
    networkURI: options.networkURI ?? DEFAULT_NETWORK_URI,
    socket: options.networkSocket,
    readOnly: ctx.readOnly,
    events: ctx.events,
    log,
  });
  return { driver: new UnifiedXenDriver(subs, { log }).driver(), networkDriver, warnings: [...warnings, ...early] };
}

export const xenDriverRegistration: DriverRegistration = {
  name: 'Xen',
  uriSchemes: ['xen'],
  open: (uri, ctx) => openXen(uri, ctx),
};

registerDriver(xenDriverRegistration);
