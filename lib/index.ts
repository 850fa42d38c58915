/**
 * xenvirt's public surface. Everything a user may import is listed here explicitly;
 * anything not exported from this file is internal and may change.
 */
export { VirError, ErrorCode, ErrorDomain, isVirError } from './errors.js';
export type { VirErrorOptions } from './errors.js';
export { XenStore, XenStoreError, Watch as XenStoreWatch, Transaction as XenStoreTransaction } from './xenstore/index.js';
export type { Permission as XenStorePermission, WatchEvent as XenStoreWatchEvent, XenStoreOpenOptions, TransactionOptions as XenStoreTransactionOptions } from './xenstore/index.js';
