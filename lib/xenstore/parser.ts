/**
 * Incremental XenStore frame parser: feed it chunks as they arrive (split anywhere,
 * several frames per chunk) and it returns the complete frames. A header announcing
 * more than REPLY_MAX bytes, or an unknown type, is garbage: parse() throws.
 *
 * The addon does the same job in C++ for the client; this is the protocol's reference
 * in TypeScript, used by the test peers that play xenstored.
 */
import { XenStoreError } from './errors.js';
import { HEADER_SIZE, REPLY_MAX, type Frame } from './wire.js';

const TYPE_MAX = 64;

export function readHeader(b: Buffer, at = 0): Omit<Frame, 'payload'> {
  return { type: b.readUInt32LE(at), reqId: b.readUInt32LE(at + 4), txId: b.readUInt32LE(at + 8), len: b.readUInt32LE(at + 12) };
}

export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: number = REPLY_MAX) {}

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }

  parse(chunk: Uint8Array): Frame[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    let at = 0;
    while (this.buf.length - at >= HEADER_SIZE) {
      const h = readHeader(this.buf, at);
      if (h.len > this.maxPayload || h.type > TYPE_MAX) {
        this.buf = Buffer.alloc(0);
        throw XenStoreError.protocol(`malformed XenStore frame (type ${h.type}, length ${h.len})`);
      }
      if (this.buf.length - at < HEADER_SIZE + h.len) break;
      const payload = Buffer.from(this.buf.subarray(at + HEADER_SIZE, at + HEADER_SIZE + h.len));
      out.push({ ...h, payload });
      at += HEADER_SIZE + h.len;
    }
    this.buf = at === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
    return out;
  }
}
