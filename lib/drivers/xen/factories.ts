/**
 * Which sub-drivers a Xen connection opens, in order. The four built here are listed
 * below; xend and the proxy (lib/drivers/xen/xend/, lib/proxy/) add theirs with
 * registerSubDriverFactory() when their module loads, and the routing table already
 * names them, so nothing else changes when they arrive.
 */
import type { SubDriverFactory, SubDriverName } from './subdriver.js';
import { hypervisorSubDriverFactory } from './hypervisor-subdriver.js';
import { xenstoreSubDriverFactory } from './xenstore-subdriver.js';
import { configFilesSubDriverFactory } from './configfiles-subdriver.js';
import { toolstackSubDriverFactory } from './toolstack-subdriver.js';

const OPEN_ORDER: readonly SubDriverName[] = ['hypervisor', 'xenstore', 'configfiles', 'toolstack', 'xend', 'proxy'];

const factories = new Map<SubDriverName, SubDriverFactory>([
  ['hypervisor', hypervisorSubDriverFactory],
  ['xenstore', xenstoreSubDriverFactory],
  ['configfiles', configFilesSubDriverFactory],
  ['toolstack', toolstackSubDriverFactory],
]);

/** Add (or replace) the factory for one sub-driver name. */
export function registerSubDriverFactory(factory: SubDriverFactory): void {
  factories.set(factory.name, factory);
}

/** The registered factories in opening order. */
export function subDriverFactories(): SubDriverFactory[] {
  return OPEN_ORDER.flatMap((n) => (factories.has(n) ? [factories.get(n)!] : []));
}
