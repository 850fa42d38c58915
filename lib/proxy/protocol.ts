/**
 * The xenvirt-proxy wire format: versioned, length-prefixed frames. Pure functions and
 * a parser that accumulates partial input; the server and client only move bytes.
 *
 *   offset  size  field
 *   0       4     magic 'XVPX'
 *   4       1     protocol version (1)
 *   5       1     type: 1 CALL, 2 REPLY, 3 ERROR
 *   6       2     reserved, 0
 *   8       4     serial (big-endian): a reply carries its call's serial; 0 = about the connection
 *   12      4     payload length (big-endian)
 *   16      n     payload: UTF-8 JSON object
 *
 * The header is checked before the payload arrives, so an oversized or foreign frame is
 * refused without buffering it.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';

export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 16;
const MAGIC = 0x58565058; // 'XVPX'

export const FrameType = { CALL: 1, REPLY: 2, ERROR: 3 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: FrameType;
  serial: number;
  payload: Record<string, unknown>;
}

export function protocolError(message: string): VirError {
  return new VirError(`xenvirt-proxy protocol: ${message}`, { code: ErrorCode.RPC, domain: ErrorDomain.PROXY });
}

/** One frame as bytes. Throws when the payload would exceed `maxPayload`. */
export function encodeFrame(type: FrameType, serial: number, payload: Record<string, unknown>, maxPayload = 0xffffffff): Buffer {
  if (!Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) throw protocolError(`invalid serial ${serial}`);
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  if (body.length > maxPayload) throw protocolError(`message of ${body.length} bytes exceeds the ${maxPayload}-byte limit`);
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt8(PROTOCOL_VERSION, 4);
  out.writeUInt8(type, 5);
  out.writeUInt16BE(0, 6);
  out.writeUInt32BE(serial, 8);
  out.writeUInt32BE(body.length, 12);
  body.copy(out, HEADER_SIZE);
  return out;
}

interface Header {
  type: FrameType;
  serial: number;
  length: number;
}

function checkHeader(h: Buffer, maxPayload: number): Header {
  const magic = h.readUInt32BE(0);
  if (magic !== MAGIC) throw protocolError(`bad magic 0x${magic.toString(16).padStart(8, '0')} (not a xenvirt-proxy peer?)`);
  const version = h.readUInt8(4);
  if (version !== PROTOCOL_VERSION) throw protocolError(`unsupported protocol version ${version} (this side speaks ${PROTOCOL_VERSION})`);
  const type = h.readUInt8(5);
  if (type !== FrameType.CALL && type !== FrameType.REPLY && type !== FrameType.ERROR) throw protocolError(`unknown frame type ${type}`);
  if (h.readUInt16BE(6) !== 0) throw protocolError('reserved header bytes are not zero');
  const length = h.readUInt32BE(12);
  if (length > maxPayload) throw protocolError(`frame of ${length} bytes exceeds the ${maxPayload}-byte limit`);
  return { type: type as FrameType, serial: h.readUInt32BE(8), length };
}

function decodePayload(bytes: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw protocolError(`payload is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw protocolError('payload is not a JSON object');
  return v as Record<string, unknown>;
}

/**
 * Accumulates bytes and yields whole frames. After it has thrown once, the stream is
 * out of step: it keeps throwing, and the connection must be closed.
 */
export class FrameParser {
  readonly #maxPayload: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #header: Header | undefined;
  #failed: VirError | undefined;

  constructor(maxPayload: number) {
    this.#maxPayload = maxPayload;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.#chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(k);
      }
    }
    this.#buffered -= n;
    return out;
  }

  push(chunk: Buffer): Frame[] {
    if (this.#failed) throw this.#failed;
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: Frame[] = [];
    try {
      for (;;) {
        if (!this.#header) {
          if (this.#buffered < HEADER_SIZE) break;
          this.#header = checkHeader(this.#take(HEADER_SIZE), this.#maxPayload);
        }
        if (this.#buffered < this.#header.length) break;
        const h = this.#header;
        this.#header = undefined;
        frames.push({ type: h.type, serial: h.serial, payload: decodePayload(this.#take(h.length)) });
      }
    } catch (e) {
      this.#failed = e as VirError;
      this.#chunks = [];
      this.#buffered = 0;
      throw e;
    }
    return frames;
  }
}
