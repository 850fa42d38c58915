/**
 * Drivers register here by URI scheme; connect() asks them in registration order.
 * Registration is data, so the test driver and the Xen driver plug in the same way.
 *
 * The built-in drivers are not loaded up front: BUILTIN_DRIVER_MODULES maps each URI
 * scheme to the modules that register its driver, and connect() imports them the first
 * time a URI with that scheme is opened. A process that lists test:/// domains never
 * loads the Xen driver, XenStore, the converters, xend or the proxy (CLI start-up,
 * issue 15).
 */
import type { DriverRegistration } from './driver.js';

const registrations: DriverRegistration[] = [];

export function registerDriver(reg: DriverRegistration): void {
  if (registrations.some((r) => r.name === reg.name)) return; // module loaded twice: keep the first
  registrations.push(reg);
}

/**
 * The built-in driver(s) for each scheme, by the modules that define them (imported in
 * this order). They are asked before any driver a user registered for the same scheme,
 * as when they were loaded up front.
 */
const BUILTIN_DRIVER_MODULES: Readonly<Record<string, () => Promise<DriverRegistration[]>>> = {
  test: async () => [(await import('./drivers/test/index.js')).testDriverRegistration],
  xen: async () => {
    const { xenDriverRegistration } = await import('./drivers/xen/index.js');
    // xend (Xen < 4.5) and the proxy (non-root users) plug into the Xen driver's sub-driver list.
    await import('./drivers/xen/xend/register.js');
    await import('./proxy/register.js');
    return [xenDriverRegistration];
  },
  // The remote driver (libvirt's RPC protocol) takes what no local driver claims; its
  // registration is tiny and loads the protocol tables only when it opens.
  '*': async () => {
    await import('./remote/register.js');
    return [];
  },
};

const builtins = new Set<DriverRegistration>();
const loading = new Map<string, Promise<void>>();

/** Import the built-in driver modules for a scheme (once); a scheme without any is a no-op. */
export async function loadDriversForScheme(scheme: string): Promise<void> {
  await loadBuiltins(scheme);
  if (scheme !== '*') await loadBuiltins('*');
}

function loadBuiltins(scheme: string): Promise<void> {
  if (!Object.hasOwn(BUILTIN_DRIVER_MODULES, scheme)) return Promise.resolve();
  let p = loading.get(scheme);
  if (!p) {
    p = BUILTIN_DRIVER_MODULES[scheme]!().then(
      (regs) => {
        for (const r of regs) {
          builtins.add(r);
          registerDriver(r);
        }
      },
      (e: unknown) => {
        loading.delete(scheme); // a failed import may be retried by the next connect()
        throw e;
      },
    );
    loading.set(scheme, p);
  }
  return p;
}

/** Load every built-in driver (for callers that look at registeredDrivers()). */
export async function loadAllDrivers(): Promise<void> {
  for (const scheme of Object.keys(BUILTIN_DRIVER_MODULES)) await loadDriversForScheme(scheme);
}

/** The drivers registered so far for a scheme (call loadDriversForScheme first for built-ins). */
export function driversForScheme(scheme: string): DriverRegistration[] {
  const forScheme = registrations.filter((r) => r.uriSchemes.includes(scheme));
  // '*' (the remote driver) comes after every driver that names the scheme, as libvirt
  // tries its local drivers before handing a URI to the daemon.
  const anyScheme = scheme === '*' ? [] : registrations.filter((r) => r.uriSchemes.includes('*'));
  return [...forScheme.filter((r) => builtins.has(r)), ...forScheme.filter((r) => !builtins.has(r)), ...anyScheme];
}

export function registeredDrivers(): readonly DriverRegistration[] {
  return registrations;
}
