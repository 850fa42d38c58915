import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import type { DomainDef } from '../domain/index.js';
const todo = () => new VirError('xl config conversion is not implemented yet', { code: ErrorCode.NO_SUPPORT, domain: ErrorDomain.XENXL });
export function domainFromXL(_t: string): DomainDef { throw todo(); }
export function domainToXL(_d: DomainDef): string { throw todo(); }
