import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import type { DomainDef } from '../domain/index.js';
const todo = () => new VirError('xm config conversion is not implemented yet', { code: ErrorCode.NO_SUPPORT, domain: ErrorDomain.XENXM });
export function domainFromXM(_t: string, _o: { xendConfigVersion?: number } = {}): DomainDef { throw todo(); }
export function domainToXM(_d: DomainDef, _o: { xendConfigVersion?: number } = {}): string { throw todo(); }
