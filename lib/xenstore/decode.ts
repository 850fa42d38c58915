/** Pure decoders of XenStore reply payloads. */
import { isAscii } from 'node:buffer';
import { XenStoreError } from './errors.js';

/** One entry of a node's permission list; the first entry names the owner. */
export interface Permission {
  domid: number;
  read: boolean;
  write: boolean;
}

/** A string reply: the payload up to its terminating NUL (if any). */
export function decodeString(payload: Buffer): string {
  const end = payload.indexOf(0);
  return payload.toString('utf8', 0, end < 0 ? payload.length : end);
}

/** `a\0b\0` → ['a', 'b']; an empty payload (or a lone NUL) is the empty list. */
export function decodeList(payload: Buffer): string[] {
  const end = payload.length > 0 && payload[payload.length - 1] === 0 ? payload.length - 1 : payload.length;
  if (end === 0) return [];
  // Node names are ASCII by the protocol's rules; latin1 decodes ASCII for less work
  // than UTF-8 (a large directory listing is mostly this decode).
  return payload.toString(isAscii(payload) ? 'latin1' : 'utf8', 0, end).split('\0');
}

export function parsePermission(s: string): Permission {
  const m = /^([nrwb])(\d+)$/.exec(s);
  if (!m) throw XenStoreError.protocol(`malformed permission entry ${JSON.stringify(s)} from xenstored`);
  const l = m[1]!;
  return { domid: Number(m[2]), read: l === 'r' || l === 'b', write: l === 'w' || l === 'b' };
}

export function decodePerms(payload: Buffer): Permission[] {
  return decodeList(payload).map(parsePermission);
}

export interface DirectoryPart {
  /** Generation count of the node: a change means the listing must restart. */
  generation: string;
  children: string[];
  /** Bytes of the child list this part covered (advance the offset by this). */
  bytes: number;
  /** The daemon marks the last part with an extra NUL. */
  last: boolean;
}

/** The generation count at the head of a DIRECTORY_PART reply (no list decoding). */
export function directoryPartGeneration(payload: Buffer): string {
  const genEnd = payload.indexOf(0);
  if (genEnd < 0) throw XenStoreError.protocol('DIRECTORY_PART reply without a generation count');
  return payload.toString('latin1', 0, genEnd);
}

/** DIRECTORY_PART reply: `gen\0child\0child\0…` with an extra `\0` on the last part. */
export function decodeDirectoryPart(payload: Buffer): DirectoryPart {
  const genEnd = payload.indexOf(0);
  if (genEnd < 0) throw XenStoreError.protocol('DIRECTORY_PART reply without a generation count');
  const generation = payload.toString('latin1', 0, genEnd);
  const rest = payload.subarray(genEnd + 1);
  // Last part: the list ends with an empty string, i.e. "…\0\0" or just "\0".
  const last = rest.length === 0 || (rest[rest.length - 1] === 0 && (rest.length === 1 || rest[rest.length - 2] === 0));
  const listBytes = last ? rest.subarray(0, rest.length - 1) : rest;
  return { generation, children: decodeList(listBytes), bytes: listBytes.length, last };
}
