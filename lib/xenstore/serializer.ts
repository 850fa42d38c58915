/**
 * Pure builders of XenStore request payloads and frames: no I/O, no state, so each is
 * tested on its own and the native layer only ever receives ready bytes.
 */
import { HEADER_SIZE, type FrameHeader } from './wire.js';
import type { Permission } from './decode.js';

const NUL = Buffer.from([0]);

/** `s\0` */
export function cstring(s: string): Buffer {
  const b = Buffer.allocUnsafe(Buffer.byteLength(s) + 1);
  const n = b.write(s, 0);
  b[n] = 0;
  return b;
}

/** `a\0b\0…` — each string NUL-terminated. */
export function cstrings(parts: readonly string[]): Buffer {
  return Buffer.concat(parts.map(cstring));
}

/** READ, DIRECTORY, GET_PERMS, MKDIR, RM: the path. */
export function pathPayload(path: string): Buffer {
  return cstring(path);
}

/** WRITE: the path, then the raw value bytes (no terminator). */
export function writePayload(path: string, value: string | Uint8Array): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([cstring(path), v]);
}

/** WATCH and UNWATCH: path and token. */
export function watchPayload(path: string, token: string): Buffer {
  return cstrings([path, token]);
}

/**
 * TRANSACTION_START takes no argument, but oxenstored waits for more bytes on an empty
 * payload: always send one NUL.
 */
export function transactionStartPayload(): Buffer {
  return Buffer.from(NUL);
}

/** TRANSACTION_END: `T` commits, `F` aborts. */
export function transactionEndPayload(commit: boolean): Buffer {
  return cstring(commit ? 'T' : 'F');
}

/** DIRECTORY_PART: path and byte offset into the child list. */
export function directoryPartPayload(path: string, offset: number): Buffer {
  return cstrings([path, String(offset)]);
}

/** GET_DOMAIN_PATH, RELEASE, IS_DOMAIN_INTRODUCED, RESUME: the domid. */
export function domidPayload(domid: number): Buffer {
  return cstring(String(domid));
}

/** INTRODUCE: domid, the ring page's frame number and the event channel port. */
export function introducePayload(domid: number, mfn: number | bigint, port: number): Buffer {
  return cstrings([String(domid), String(mfn), String(port)]);
}

/** One permission as the daemon spells it: n (none), r, w or b (both) + domid. */
export function formatPermission(p: Permission): string {
  const letter = p.read && p.write ? 'b' : p.read ? 'r' : p.write ? 'w' : 'n';
  return `${letter}${p.domid}`;
}

/** SET_PERMS: path, then the owner's entry, then one per other domain. */
export function setPermsPayload(path: string, perms: readonly Permission[]): Buffer {
  return cstrings([path, ...perms.map(formatPermission)]);
}

/** A whole frame (header + payload): what the fake peers in the tests send and parse. */
export function frame(h: Omit<FrameHeader, 'len'>, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const b = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  b.writeUInt32LE(h.type >>> 0, 0);
  b.writeUInt32LE(h.reqId >>> 0, 4);
  b.writeUInt32LE(h.txId >>> 0, 8);
  b.writeUInt32LE(payload.length, 12);
  b.set(payload, HEADER_SIZE);
  return b;
}
