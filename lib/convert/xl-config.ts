/** xl's config files (libxl's toolstack) <-> the domain model. */
import type { DomainDef } from '../domain/index.js';
import { domainFromConfig } from './xen-config-read.js';
import { domainToConfig } from './xen-config-write.js';

export function domainFromXL(text: string): DomainDef {
  return domainFromConfig(text, 'xl');
}
export function domainToXL(def: DomainDef): string {
  return domainToConfig(def, 'xl');
}
