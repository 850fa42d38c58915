/** The XenStore client: lib/xenstore's public surface. */
export { XenStore, type TransactionOptions } from './client.js';
export { XenStoreError, type XenStoreErrorOptions } from './errors.js';
export { Watch, type WatchEvent } from './watch.js';
export { Transaction } from './transaction.js';
export type { Permission } from './decode.js';
export type { XenStoreOpenOptions, Endpoint } from './connection.js';
export { validatePath, validateWatchPath } from './paths.js';
export { XsType, PAYLOAD_MAX } from './wire.js';
