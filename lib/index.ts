/**
 * xenvirt's public surface. Everything a user may import is listed here explicitly;
 * anything not exported from this file is internal and may change.
 */
export { VirError, ErrorCode, ErrorDomain, isVirError } from './errors.js';
export type { VirErrorOptions } from './errors.js';

// Drivers register by URI scheme when their module loads; connect() loads the built-in
// ones for a URI's scheme on first use (lib/registry.ts), so nothing is imported here.

export { connect, Connection } from './connection.js';
export { Domain } from './domain-handle.js';
export { Network } from './network-handle.js';
export { registerDriver } from './registry.js';
export type {
  ConnectOptions,
  DomainInfo,
  DomainRef,
  DomainState,
  DriverRegistration,
  HypervisorDriver,
  ListDomainsFlags,
  NativeFormat,
  NetworkDriver,
  NetworkRef,
  NodeInfo,
  OpenContext,
  OpenedDrivers,
  VcpuInfo,
  XMLDescFlags,
} from './driver.js';
export { XenStore, XenStoreError, Watch as XenStoreWatch, Transaction as XenStoreTransaction } from './xenstore/index.js';
export type { Permission as XenStorePermission, WatchEvent as XenStoreWatchEvent, XenStoreOpenOptions, TransactionOptions as XenStoreTransactionOptions } from './xenstore/index.js';
export { xmlFromNative, xmlToNative, xenCapabilities } from './convert/index.js';
export type { ConvertOptions, XendConfigVersion, XenCapabilitiesInput } from './convert/index.js';
