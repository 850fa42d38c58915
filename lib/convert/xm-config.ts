/** xm's config files (/etc/xen for xend) <-> the domain model. */
import type { DomainDef } from '../domain/index.js';
import { domainFromConfig, domainToConfig } from './xen-config.js';

export function domainFromXM(text: string, _opts: { xendConfigVersion?: number } = {}): DomainDef {
  return domainFromConfig(text, 'xm');
}
export function domainToXM(def: DomainDef, _opts: { xendConfigVersion?: number } = {}): string {
  return domainToConfig(def, 'xm');
}
