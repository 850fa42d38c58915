/**
 * xenvirt's public surface. Everything a user may import is listed here explicitly;
 * anything not exported from this file is internal and may change.
 */
export { VirError, ErrorCode, ErrorDomain, isVirError } from './errors.js';
export type { VirErrorOptions } from './errors.js';
