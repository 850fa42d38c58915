/**
 * THE routing table of the unified Xen driver: for each public method, which
 * sub-drivers to try, in which order, under which policy, and why.
 *
 * Policies:
 * - 'first-success': try each open sub-driver that implements the method in order;
 *   the first answer wins, a failure moves on to the next.
 * - 'hypervisor-last': like first-success, for state changes: the management layer
 *   (toolstack, xend) goes first so it sees the change, the hypervisor acts directly
 *   only when that layer failed (e.g. xend under memory pressure, xl missing).
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

export type RoutePolicy = 'first-success' | 'hypervisor-last' | 'single-owner' | 'merge';

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
    order: ['xenstore', 'hypervisor', 'xm', 'xend', 'proxy'],
    reason: 'running domains are named in XenStore (stale entries filtered by the hypervisor\'s ids), defined ones live in config files: one list without duplicates',
  },
  lookupDomainByName: {
    policy: 'first-success',
    order: ['xend', 'xenstore', 'xm', 'proxy'],
    reason: 'xend (when it runs) knows running and managed domains by name in one call and is the layer that must agree; then XenStore for running domains, the config dir for inactive ones',
  },
  lookupDomainById: {
    policy: 'first-success',
    order: ['xenstore', 'xend', 'proxy'],
    reason: 'ids exist only for running domains, whose names XenStore holds',
  },
  lookupDomainByUUID: {
    policy: 'first-success',
    order: ['xenstore', 'xm', 'xend', 'proxy'],
    reason: 'running first so the answer carries the live id, then the config dir',
  },
  defineXML: {
    policy: 'single-owner',
    order: ['xend', 'proxy', 'xm'],
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
    order: ['hypervisor', 'xenstore', 'xm', 'xend', 'proxy'],
    reason: 'hypercall numbers are exact; XenStore gives a fallback for running domains, config files for inactive ones',
  },
  domainSuspend: {
    policy: 'hypervisor-last',
    order: ['xend', 'toolstack', 'hypervisor', 'proxy'],
    reason: 'xend/the toolstack must see the pause so their state stays true; pause by hypercall only when they fail; the proxy refuses it (read-only)',
  },
  domainResume: {
    policy: 'hypervisor-last',
    order: ['xend', 'toolstack', 'hypervisor', 'proxy'],
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
    order: ['xend', 'toolstack', 'hypervisor', 'proxy'],
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
    order: ['xend', 'proxy', 'xm'],
    reason: 'the definition lives in one store: xend (config version >= 3, else its sub-driver does not offer this) or the config dir; the proxy refuses it',
  },
  domainGetXMLDesc: {
    policy: 'merge',
    order: ['xm', 'xend', 'proxy', 'xenstore'],
    reason: 'the stored definition is the base; XenStore adds live facts (id, console tty, VNC port) and stands alone for transient domains',
  },
  domainSetMemory: {
    policy: 'first-success',
    order: ['xenstore', 'toolstack', 'xend', 'proxy'],
    reason: 'the balloon target is memory/target in XenStore; xl mem-set when XenStore is not reachable',
  },
  domainSetMaxMemory: {
    policy: 'hypervisor-last',
    order: ['toolstack', 'xend', 'hypervisor', 'proxy'],
    reason: 'the toolstack records the new maximum too; set it by domctl when the toolstack fails',
  },
  domainSetVcpus: {
    policy: 'hypervisor-last',
    order: ['xend', 'toolstack', 'hypervisor', 'proxy'],
    reason: 'xend/the toolstack drive vcpu hotplug (XenStore availability nodes) and record the count; max_vcpus domctl last; the proxy refuses it',
  },
  domainGetVcpus: {
    policy: 'first-success',
    order: ['hypervisor', 'xend', 'proxy'],
    reason: 'per-vcpu state, time and affinity are hypercall facts',
  },
  domainPinVcpu: {
    policy: 'hypervisor-last',
    order: ['xend', 'hypervisor', 'proxy'],
    reason: 'xend recorded pinning in its config; affinity is a domctl otherwise',
  },
  domainGetAutostart: {
    policy: 'single-owner',
    order: ['xm', 'xend'],
    reason: 'autostart is the auto/ symlink next to the config file (or a xend setting)',
  },
  domainSetAutostart: {
    policy: 'single-owner',
    order: ['proxy', 'xm', 'xend'],
    reason: 'autostart is the auto/ symlink next to the config file (or a xend setting)',
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
