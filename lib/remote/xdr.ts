/**
 * XDR (RFC 4506) reader and writer: the runtime the generated codecs in ./protocol call.
 *
 * Pure, no I/O. Every read is bounds-checked and every bounded array/string/opaque length is
 * checked against its declared maximum on both sides, so a hostile or broken peer gets a
 * VirError (VIR_ERR_RPC) instead of a RangeError or a huge allocation. `hyper` is a bigint.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';

export function xdrError(message: string): VirError {
  return new VirError(message, { code: ErrorCode.RPC, domain: ErrorDomain.RPC });
}

const UINT32_MAX = 0xffff_ffff;
const textDecoder = new TextDecoder('utf-8');

/** Bytes of zero padding after `len` bytes of opaque/string data. */
export function xdrPadding(len: number): number {
  return (4 - (len & 3)) & 3;
}

export class XdrReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  #need(n: number, what: string): void {
    if (this.end - this.pos < n) throw xdrError(`XDR decode: truncated ${what} (need ${n} bytes, have ${this.end - this.pos})`);
  }

  int(): number {
    this.#need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  uint(): number {
    this.#need(4, 'unsigned int');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  hyper(): bigint {
    this.#need(8, 'hyper');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  uhyper(): bigint {
    this.#need(8, 'unsigned hyper');
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  float(): number {
    this.#need(4, 'float');
    const v = this.buf.readFloatBE(this.pos);
    this.pos += 4;
    return v;
  }
  double(): number {
    this.#need(8, 'double');
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }
  bool(): boolean {
    const v = this.int();
    if (v !== 0 && v !== 1) throw xdrError(`XDR decode: bool is ${v}, not 0 or 1`);
    return v === 1;
  }
  /** A length prefix checked against the declared maximum before anything is allocated. */
  length(max: number, what: string): number {
    const n = this.uint();
    if (n > max) throw xdrError(`XDR decode: ${what} length ${n} exceeds its maximum ${max}`);
    return n;
  }
  fixedOpaque(len: number): Buffer {
    const padded = len + xdrPadding(len);
    this.#need(padded, 'opaque');
    // A copy, so decoded values do not pin the whole (up to 32 MiB) frame in memory.
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += padded;
    return out;
  }
  varOpaque(max: number): Buffer {
    return this.fixedOpaque(this.length(max, 'opaque'));
  }
  string(max: number): string {
    const len = this.length(max, 'string');
    const padded = len + xdrPadding(len);
    this.#need(padded, 'string');
    const s = textDecoder.decode(this.buf.subarray(this.pos, this.pos + len));
    this.pos += padded;
    return s;
  }
  /** Optional data (`T *x`): a bool, then the value when true. */
  optional<T>(read: (r: XdrReader) => T): T | null {
    return this.bool() ? read(this) : null;
  }
  fixedArray<T>(len: number, read: (r: XdrReader) => T): T[] {
    // Each element takes at least 4 bytes: refuse counts the frame cannot hold.
    this.#need(len * 4, 'array');
    const out = new Array<T>(len);
    for (let i = 0; i < len; i++) out[i] = read(this);
    return out;
  }
  varArray<T>(max: number, read: (r: XdrReader) => T): T[] {
    return this.fixedArray(this.length(max, 'array'), read);
  }
}

export class XdrWriter {
  buf: Buffer;
  pos: number;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.pos = 0;
  }

  #grow(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  int(v: number): void {
    if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) throw xdrError(`XDR encode: ${String(v)} is not a 32-bit signed integer`);
    this.#grow(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }
  uint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > UINT32_MAX) throw xdrError(`XDR encode: ${String(v)} is not a 32-bit unsigned integer`);
    this.#grow(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }
  hyper(v: bigint | number): void {
    const b = BigInt(v);
    if (b < -(1n << 63n) || b >= 1n << 63n) throw xdrError(`XDR encode: ${b} is not a 64-bit signed integer`);
    this.#grow(8);
    this.buf.writeBigInt64BE(b, this.pos);
    this.pos += 8;
  }
  uhyper(v: bigint | number): void {
    const b = BigInt(v);
    if (b < 0n || b >= 1n << 64n) throw xdrError(`XDR encode: ${b} is not a 64-bit unsigned integer`);
    this.#grow(8);
    this.buf.writeBigUInt64BE(b, this.pos);
    this.pos += 8;
  }
  float(v: number): void {
    this.#grow(4);
    this.buf.writeFloatBE(v, this.pos);
    this.pos += 4;
  }
  double(v: number): void {
    this.#grow(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  bool(v: boolean): void {
    this.int(v ? 1 : 0);
  }
  #bytes(data: Uint8Array): void {
    const pad = xdrPadding(data.length);
    this.#grow(data.length + pad);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    for (let i = 0; i < pad; i++) this.buf[this.pos++] = 0;
  }
  fixedOpaque(data: Uint8Array, len: number): void {
    if (data.length !== len) throw xdrError(`XDR encode: fixed opaque needs ${len} bytes, got ${data.length}`);
    this.#bytes(data);
  }
  varOpaque(data: Uint8Array, max: number): void {
    if (data.length > max) throw xdrError(`XDR encode: opaque of ${data.length} bytes exceeds its maximum ${max}`);
    this.uint(data.length);
    this.#bytes(data);
  }
  string(s: string, max: number): void {
    if (typeof s !== 'string') throw xdrError(`XDR encode: expected a string, got ${typeof s}`);
    const data = Buffer.from(s, 'utf8');
    if (data.length > max) throw xdrError(`XDR encode: string of ${data.length} bytes exceeds its maximum ${max}`);
    this.uint(data.length);
    this.#bytes(data);
  }
  optional<T>(v: T | null | undefined, write: (w: XdrWriter, v: T) => void): void {
    if (v === null || v === undefined) {
      this.int(0);
      return;
    }
    this.int(1);
    write(this, v);
  }
  fixedArray<T>(items: readonly T[], len: number, write: (w: XdrWriter, v: T) => void): void {
    if (!Array.isArray(items) || items.length !== len) throw xdrError(`XDR encode: fixed array needs ${len} elements`);
    for (const item of items) write(this, item);
  }
  varArray<T>(items: readonly T[], max: number, write: (w: XdrWriter, v: T) => void): void {
    if (!Array.isArray(items)) throw xdrError('XDR encode: expected an array');
    if (items.length > max) throw xdrError(`XDR encode: array of ${items.length} elements exceeds its maximum ${max}`);
    this.uint(items.length);
    for (const item of items) write(this, item);
  }
}

/** Codec pair the generator emits for every type. */
export interface XdrCodec<T> {
  read(r: XdrReader): T;
  write(w: XdrWriter, v: T): void;
}

/** One row of a generated procedure table: the payload codecs a procedure uses. */
export interface ProcedureInfo {
  name: string;
  /** Call arguments (client → server). */
  args?: XdrCodec<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Reply payload. */
  ret?: XdrCodec<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Asynchronous message payload (events). */
  msg?: XdrCodec<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
