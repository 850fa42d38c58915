/** xm's config files (/etc/xen for xend) <-> the domain model. */
import type { DomainDef } from '../domain/index.js';
import { domainFromConfig } from './xen-config-read.js';
import { domainToConfig } from './xen-config-write.js';

import type { ConfigOptions } from './xen-config.js';

export function domainFromXM(text: string, opts: ConfigOptions = {}): DomainDef {
  return domainFromConfig(text, 'xm', opts);
}
/** xend before 3.0.4 (versions 1, 2) gets PV graphics as top-level settings; 3.0.2 (1) the HVM cdrom as `cdrom`. */
export function domainToXM(def: DomainDef, opts: ConfigOptions = {}): string {
  return domainToConfig(def, 'xm', opts);
}
