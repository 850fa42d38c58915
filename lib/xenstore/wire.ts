/**
 * XenStore wire protocol constants (Xen 4.17, xs_wire.h / docs/misc/xenstore.txt).
 *
 * A message is a 16-byte header {type, req_id, tx_id, len} in host byte order followed
 * by `len` payload bytes.
 */

export const XsType = {
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
} as const;
export type XsType = (typeof XsType)[keyof typeof XsType];

/** Header size in bytes. */
export const HEADER_SIZE = 16;
/** Largest payload a client may send (and the C daemon sends). */
export const PAYLOAD_MAX = 4096;
/**
 * Largest reply the TypeScript frame parser accepts: oxenstored sends replies past
 * PAYLOAD_MAX, so the bound only protects memory against a garbage length.
 * (native/xenstore.cc uses the same figure.)
 */
export const REPLY_MAX = 16 * 1024 * 1024;
/** Absolute and relative path length limits (xs_wire.h). */
export const ABS_PATH_MAX = 3072;
export const REL_PATH_MAX = 2048;

/** Transaction id 0 means "no transaction". */
export const NO_TRANSACTION = 0;

/** Watch paths that name events rather than nodes. */
export const SPECIAL_WATCH_PATHS = ['@introduceDomain', '@releaseDomain'] as const;

export interface FrameHeader {
  type: number;
  reqId: number;
  txId: number;
  len: number;
}

export interface Frame extends FrameHeader {
  payload: Buffer;
}
