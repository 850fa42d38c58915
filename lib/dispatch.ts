/**
 * The one path every public call takes (libvirt's libvirt-domain.c shape): check the
 * connection is open, check read-only for mutating calls, find the method in the
 * driver's table or answer VIR_ERR_NO_SUPPORT, then call it and track it in flight.
 */
import { VirError, ErrorCode, ErrorDomain } from './errors.js';
import type { HypervisorDriver, HypervisorDriverExtensions, NetworkDriver } from './driver.js';

/** Public methods that change host state: refused on read-only connections. */
export const MUTATING_METHODS: ReadonlySet<string> = new Set([
  'defineXML',
  'createXML',
  'restore',
  'domainSuspend',
  'domainResume',
  'domainShutdown',
  'domainReboot',
  'domainDestroy',
  'domainCreate',
  'domainUndefine',
  'domainSetMemory',
  'domainSetMaxMemory',
  'domainSetVcpus',
  'domainPinVcpu',
  'domainSetAutostart',
  'domainSave',
  // Writes a file as the host's user; libvirt refuses it read-only too.
  'domainCoreDump',
  // libvirt refuses a console on a read-only connection: it can type into the guest.
  'domainOpenConsole',
  'networkDefineXML',
  'networkCreate',
  'networkDestroy',
  'networkUndefine',
]);

export interface DispatchState {
  readonly uri: string;
  readonly readOnly: boolean;
  closed: boolean;
  driver: HypervisorDriver;
  networkDriver: NetworkDriver | undefined;
  inFlight: Set<Promise<unknown>>;
}

type AnyMethod = (...args: unknown[]) => unknown;

/** The checks every call passes first (closed, read-only); exported for calls answered without the driver. */
export function checkCall(state: DispatchState, method: string): void {
  if (state.closed) {
    throw new VirError(`connection to '${state.uri}' is closed`, {
      code: ErrorCode.INVALID_CONN,
      domain: ErrorDomain.NONE,
    });
  }
  if (state.readOnly && MUTATING_METHODS.has(method)) {
    throw new VirError(`operation '${method}' forbidden for read only access`, {
      code: ErrorCode.OPERATION_DENIED,
      domain: ErrorDomain.NONE,
    });
  }
}

function noSupport(state: DispatchState, method: string, what: string): VirError {
  return new VirError(`this function is not supported by the connection driver: ${method} (${what})`, {
    code: ErrorCode.NO_SUPPORT,
    domain: ErrorDomain.NONE,
  });
}

async function run<T>(state: DispatchState, target: object | undefined, method: string, what: string, args: unknown[]): Promise<T> {
  checkCall(state, method);
  const fn = target === undefined ? undefined : ((target as Record<string, unknown>)[method] as AnyMethod | undefined);
  if (typeof fn !== 'function') throw noSupport(state, method, what);
  const p = Promise.resolve().then(() => fn.apply(target, args)) as Promise<T>;
  state.inFlight.add(p);
  try {
    return await p;
  } finally {
    state.inFlight.delete(p);
  }
}

/** Call a hypervisor-driver method through the common checks. */
export function callDriver<T>(state: DispatchState, method: keyof (HypervisorDriver & HypervisorDriverExtensions) & string, ...args: unknown[]): Promise<T> {
  return run<T>(state, state.driver, method, `driver '${state.driver.name}'`, args);
}

/** Call a network-driver method; an empty slot answers VIR_ERR_NO_SUPPORT. */
export function callNetwork<T>(state: DispatchState, method: keyof NetworkDriver & string, ...args: unknown[]): Promise<T> {
  const what = state.networkDriver ? `network driver '${state.networkDriver.name}'` : 'no network driver on this connection';
  return run<T>(state, state.networkDriver, method, what, args);
}
