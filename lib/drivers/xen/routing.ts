/**
 * THE routing table of the unified Xen driver: for each public method, which
 * sub-drivers to try, in which order, under which policy, and why.
 *
 * Policies (what a failure does is decided by fallback.ts, the same for every policy:
 * "moves on" failures try the next sub-driver, "final" ones are the answer):
 * - 'first-success': try each open sub-driver that implements the method in order;
 *   the first answer wins.
 * - 'hypervisor-last': for state changes: the management layer (toolstack, xend) goes
 *   first so it sees the change; the hypervisor acts directly only after every open
 *   management-layer sub-driver failed with a "moves on" failure (or none is open, e.g.
 *   xl missing). The unified driver calls the hypervisor last whatever its place here.
 * - 'live-first': lookups. Live sources (fallback.ts LIVE_SOURCES) answer for running
 *   domains; a stored definition (config files) is the answer only when every open live
 *   source said the domain does not run, so a running domain is never reported inactive
 *   because a config file was found first or a live source was down.
 * - 'single-owner': only the first open sub-driver that implements it is called; its
 *   error is final (a second owner would act on a different store of truth).
 * - 'merge': every open implementer is asked; answers are combined (lists without
 *   duplicates, live facts over a stored definition).
 *
 * Sub-drivers that are not open (not available on this host, disabled, or not built
 * yet, like xend/proxy before they register) are simply skipped.
 *
 * The proxy is on every mutating route too: it is the only sub-driver a non-root
 * connection needs, and its daemon answers those calls with VIR_ERR_OPERATION_DENIED,
 * the truthful answer there (not "unsupported"). As root it is never open, so its place
 * changes nothing for root; on single-owner routes it comes before the config files,
 * which a non-root user can read but not write, so the daemon's answer is the one given.
 */
import type { HypervisorDriver } from '../../driver.js';
import type { SubDriverName } from './subdriver.js';

export type RoutePolicy = 'first-success' | 'hypervisor-last' | 'live-first' | 'single-owner' | 'merge';

export interface Route {
  policy: RoutePolicy;
  /** Sub-drivers to try, in order. */
  order: readonly SubDriverName[];
  /** One line: why this order and policy. */
  reason: string;
  /**
   * The method needs the domain's stored definition: the unified driver fetches the
   * inactive XML through the domainGetXMLDesc route and passes it as an extra last
   * argument, because sub-drivers never read each other's state.
   */
  needsDefinition?: boolean;
}

/**
 * Every public method of HypervisorDriver, checked by the compiler both ways (nothing
 * listed that is not a method, nothing missing): the tests walk it to prove that each
 * public method is either routed or answered locally.
 */
const PUBLIC_METHOD_LIST = [
  'getType', 'getVersion', 'getHostname', 'getCapabilities', 'nodeGetInfo', 'listAllDomains', 'lookupDomainByName',
  'lookupDomainById', 'lookupDomainByUUID', 'defineXML', 'createXML', 'restore', 'domainXMLFromNative', 'domainXMLToNative',
  'domainGetInfo', 'domainSuspend', 'domainResume', 'domainShutdown', 'domainReboot', 'domainDestroy', 'domainCreate',
  'domainUndefine', 'domainGetXMLDesc', 'domainSetMemory', 'domainSetMaxMemory', 'domainSetVcpus', 'domainGetVcpus',
  'domainPinVcpu', 'domainGetAutostart', 'domainSetAutostart', 'domainSave', 'domainCoreDump',
] as const satisfies readonly Exclude<keyof HypervisorDriver, 'name' | 'close'>[];
type UnlistedPublicMethod = Exclude<keyof HypervisorDriver, 'name' | 'close' | (typeof PUBLIC_METHOD_LIST)[number]>;
// Fails to compile when HypervisorDriver gains a method this list does not name.
const everyPublicMethodListed: [UnlistedPublicMethod] extends [never] ? true : UnlistedPublicMethod = true;
export const PUBLIC_DRIVER_METHODS: readonly string[] = everyPublicMethodListed ? PUBLIC_METHOD_LIST : [];

/** Methods the unified driver answers itself, needing no host access. */
export const LOCAL_METHODS = {
  getType: 'the driver type is a constant ("Xen")',
  getHostname: 'the host name is the local machine\'s (os.hostname)',
  domainXMLFromNative: 'the converters are pure functions of their input',
  domainXMLToNative: 'the converters are pure functions of their input',
} as const;

export type RoutedMethod = Exclude<keyof HypervisorDriver, 'name' | 'close' | keyof typeof LOCAL_METHODS>;

export const ROUTES: Record<RoutedMethod, Route> = {
  getVersion: {
    policy: 'first-success',
    order: ['hypervisor', 'toolstack', 'xend', 'proxy'],
    reason: 'Xen itself reports its version (xen_version); xl info or xend when privcmd is not open',
  },
  getCapabilities: {
    policy: 'first-success',
    order: ['hypervisor', 'xend', 'proxy'],
    reason: 'guest ABIs come from the running hypervisor; xend knew them when it was the way in',
  },
  nodeGetInfo: {
    policy: 'first-success',
    order: ['hypervisor', 'xend', 'proxy'],
    reason: 'physinfo sysctl is exact and cheap; xend/proxy for unprivileged or old hosts',
  },
  listAllDomains: {
    policy: 'merge',
    order: ['xenstore', 'hypervisor', 'configfiles', 'xend', 'proxy'],
    reason: 'running domains are named in XenStore (stale entries filtered by the hypervisor\'s ids), defined ones live in config files: one list without duplicates',
  },
  lookupDomainByName: {
    policy: 'live-first',
    order: ['xend', 'xenstore', 'proxy', 'configfiles'],
    reason: 'xend (when it runs) knows running and managed domains by name in one call; XenStore names running domains, the proxy answers for non-root users; a config file only when no live source has it running',
  },
  lookupDomainById: {
    policy: 'live-first',
    order: ['xenstore', 'xend', 'proxy'],
    reason: 'ids exist only for running domains, whose names XenStore holds (the proxy for non-root users)',
  },
  lookupDomainByUUID: {
    policy: 'live-first',
    order: ['xenstore', 'xend', 'proxy', 'configfiles'],
    reason: 'live sources first so a running domain comes with its id, then the config dir for inactive ones',
  },
  defineXML: {
    policy: 'single-owner',
    order: ['xend', 'proxy', 'configfiles'],
    reason: 'inactive domains: xend keeps definitions itself from config version 3 (its sub-driver offers defineXML only then), otherwise config files; one store, or two would disagree; the proxy refuses it',
  },
  createXML: {
    policy: 'single-owner',
    order: ['toolstack', 'xend', 'proxy'],
    reason: 'building a domain needs the toolstack (xl) on Xen >= 4.5, xend before',
  },
  restore: {
    policy: 'single-owner',
    order: ['toolstack', 'xend', 'proxy'],
    reason: 'restoring rebuilds a domain: only the toolstack/xend can do it',
  },
  domainGetInfo: {
    policy: 'first-success',
    order: ['hypervisor', 'xenstore', 'xend', 'proxy', 'configfiles'],
    reason: 'hypercall numbers are exact; XenStore, xend or the proxy for running domains when privcmd is not open; config files for inactive ones (live sub-drivers decline those)',
  },
  domainSuspend: {
    policy: 'hypervisor-last',
    order: ['xend', 'toolstack', 'proxy', 'hypervisor'],
    reason: 'xend/the toolstack must see the pause so their state stays true; pause by hypercall only when they fail; the proxy refuses it (read-only)',
  },
  domainResume: {
    policy: 'hypervisor-last',
    order: ['xend', 'toolstack', 'proxy', 'hypervisor'],
    reason: 'xend/the toolstack must see the unpause so their state stays true; unpause by hypercall only when they fail; the proxy refuses it (read-only)',
  },
  domainShutdown: {
    policy: 'first-success',
    order: ['xenstore', 'toolstack', 'xend', 'proxy'],
    reason: 'a clean shutdown is a request to the guest via control/shutdown; xl shutdown when XenStore is not reachable',
  },
  domainReboot: {
    policy: 'first-success',
    order: ['xenstore', 'toolstack', 'xend', 'proxy'],
    reason: 'a reboot is a request to the guest via control/shutdown; xl reboot when XenStore is not reachable',
  },
  domainDestroy: {
    policy: 'hypervisor-last',
    order: ['xend', 'toolstack', 'proxy', 'hypervisor'],
    reason: 'xend/the toolstack tear down devices and XenStore entries too and must know the domain is gone; destroy by hypercall only when they fail; the proxy refuses it',
  },
  domainCreate: {
    policy: 'single-owner',
    order: ['xend', 'toolstack', 'proxy'],
    reason: 'starting a defined domain builds it: xend for its managed domains (config version >= 3), else the toolstack (xl create with our converted config); the proxy refuses it',
    needsDefinition: true,
  },
  domainUndefine: {
    policy: 'single-owner',
    order: ['xend', 'proxy', 'configfiles'],
    reason: 'the definition lives in one store: xend (config version >= 3, else its sub-driver does not offer this) or the config dir; the proxy refuses it',
  },
  domainGetXMLDesc: {
    policy: 'merge',
    order: ['configfiles', 'xend', 'proxy', 'xenstore'],
    reason: 'the stored definition is the base; XenStore adds live facts (id, console tty, VNC port) and stands alone for transient domains',
  },
  domainSetMemory: {
    policy: 'first-success',
    order: ['xenstore', 'toolstack', 'xend', 'proxy'],
    reason: 'the balloon target is memory/target in XenStore; xl mem-set when XenStore is not reachable',
  },
  domainSetMaxMemory: {
    policy: 'hypervisor-last',
    order: ['toolstack', 'xend', 'proxy', 'hypervisor'],
    reason: 'the toolstack records the new maximum too; set it by domctl when the toolstack fails',
  },
  domainSetVcpus: {
    policy: 'first-success',
    order: ['xend', 'toolstack', 'proxy'],
    reason: 'xend/the toolstack drive vcpu hotplug (XenStore availability nodes) and record the count; there is no hypercall for it (max_vcpus only sets the ceiling at build time); the proxy refuses it',
  },
  domainGetVcpus: {
    policy: 'first-success',
    order: ['hypervisor', 'xend', 'proxy'],
    reason: 'per-vcpu state, time and affinity are hypercall facts',
  },
  domainPinVcpu: {
    policy: 'hypervisor-last',
    order: ['xend', 'proxy', 'hypervisor'],
    reason: 'xend recorded pinning in its config; affinity is a domctl otherwise',
  },
  domainGetAutostart: {
    policy: 'single-owner',
    order: ['proxy', 'configfiles'],
    reason: 'autostart is the auto/ symlink next to the config file; a non-root user asks the proxy, which reads it as root (xend\'s sub-driver has no autostart call)',
  },
  domainSetAutostart: {
    policy: 'single-owner',
    order: ['proxy', 'configfiles'],
    reason: 'autostart is the auto/ symlink next to the config file; the proxy refuses it for non-root users',
  },
  domainCoreDump: {
    policy: 'single-owner',
    order: ['toolstack', 'xend', 'proxy'],
    reason: 'a core file needs the domain\'s memory mapped and written by the toolstack (xl dump-core) or xend; the proxy refuses it',
  },
  domainSave: {
    policy: 'single-owner',
    order: ['toolstack', 'xend', 'proxy'],
    reason: 'saving needs the toolstack to write device state with memory',
  },
};

/** The table as rows, for docs and reports. */
export function routingRows(): { method: string; policy: RoutePolicy; order: readonly SubDriverName[]; reason: string }[] {
  return (Object.keys(ROUTES) as RoutedMethod[]).map((method) => ({ method, ...ROUTES[method] }));
}
