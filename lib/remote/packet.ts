/**
 * libvirt RPC framing, pure (no sockets): a frame is a 4-byte big-endian total length
 * (itself included), a 24-byte header (prog, vers, proc, type, serial, status) and the
 * XDR payload. `FrameDecoder` takes bytes split anywhere and yields whole frames; a length
 * that cannot be a frame (shorter than a header, above libvirt's 32 MiB cap) is a VirError
 * before anything is buffered for it.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { XdrReader, XdrWriter } from './xdr.js';
import { VIR_NET_MESSAGE_MAX, VIR_NET_MESSAGE_HEADER_MAX, VIR_NET_MESSAGE_LEN_MAX, type virNetMessageHeader } from './protocol/virnet.js';

export const FRAME_MAX = VIR_NET_MESSAGE_MAX;
const PREFIX = VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_HEADER_MAX;

/**
 * The generated virNetMessageHeader (libvirt's virnetprotocol.x): type is virNetMessageType
 * (CALL 0, REPLY 1, MESSAGE 2, STREAM 3, …), status virNetMessageStatus (OK 0, ERROR 1, CONTINUE 2).
 */
export type PacketHeader = virNetMessageHeader;

export interface Packet extends PacketHeader {
  /** The payload (a view into the frame). */
  body: Buffer;
}

function frameError(message: string): VirError {
  return new VirError(message, { code: ErrorCode.RPC, domain: ErrorDomain.RPC });
}

/**
 * Encode one frame. `writeBody` appends the payload; the length is patched in afterwards
 * so the payload is encoded once, straight into the frame.
 */
export function encodePacket(header: PacketHeader, writeBody?: (w: XdrWriter) => void, sizeHint = 256): Buffer {
  const w = new XdrWriter(sizeHint);
  w.uint(0);
  w.uint(header.prog);
  w.uint(header.vers);
  w.int(header.proc);
  w.int(header.type);
  w.uint(header.serial);
  w.int(header.status);
  writeBody?.(w);
  if (w.pos > FRAME_MAX) throw frameError(`packet of ${w.pos} bytes exceeds libvirt's maximum of ${FRAME_MAX}`);
  w.buf.writeUInt32BE(w.pos, 0);
  return w.bytes();
}

/** Encode a frame whose payload bytes are already in hand (stream data). */
export function encodeRawPacket(header: PacketHeader, body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX + body.length);
  if (frame.length > FRAME_MAX) throw frameError(`packet of ${frame.length} bytes exceeds libvirt's maximum of ${FRAME_MAX}`);
  frame.writeUInt32BE(frame.length, 0);
  frame.writeUInt32BE(header.prog, 4);
  frame.writeUInt32BE(header.vers, 8);
  frame.writeInt32BE(header.proc, 12);
  frame.writeInt32BE(header.type, 16);
  frame.writeUInt32BE(header.serial, 20);
  frame.writeInt32BE(header.status, 24);
  frame.set(body, PREFIX);
  return frame;
}

/** Decode one whole frame (length word included). */
export function decodePacket(frame: Buffer): Packet {
  if (frame.length < PREFIX) throw frameError(`truncated packet: ${frame.length} bytes, a header needs ${PREFIX}`);
  const len = frame.readUInt32BE(0);
  if (len !== frame.length) throw frameError(`packet length word says ${len} bytes, frame has ${frame.length}`);
  const r = new XdrReader(frame, 4);
  return {
    prog: r.uint(),
    vers: r.uint(),
    proc: r.int(),
    type: r.int(),
    serial: r.uint(),
    status: r.int(),
    body: frame.subarray(PREFIX),
  };
}

/** Reassembles frames from a byte stream cut anywhere. */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need = 0; // total length of the frame being assembled, 0 while the length word is incomplete

  /** Feed bytes; returns the packets they complete (possibly none). Throws a VirError on a bad length. */
  push(chunk: Buffer): Packet[] {
    const out: Packet[] = [];
    if (chunk.length === 0) return out;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need === 0) {
        if (this.#buffered < 4) break;
        const len = this.#peekLength();
        if (len < PREFIX) throw frameError(`bad packet length ${len}: shorter than the ${PREFIX}-byte header`);
        if (len > FRAME_MAX) throw frameError(`packet of ${len} bytes exceeds libvirt's maximum of ${FRAME_MAX}`);
        this.#need = len;
      }
      if (this.#buffered < this.#need) break;
      out.push(decodePacket(this.#take(this.#need)));
      this.#need = 0;
    }
    return out;
  }

  /** Bytes held for an incomplete frame (a peer dying mid-frame leaves this non-zero). */
  get pending(): number {
    return this.#buffered;
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.concat(this.#chunks, Math.min(this.#buffered, 16));
    return head.readUInt32BE(0);
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let frame: Buffer;
    if (first.length >= n) {
      frame = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      frame = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.#chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(frame, off, 0, k);
        off += k;
        if (k === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(k);
      }
    }
    this.#buffered -= n;
    return frame;
  }
}
