/**
 * A hand-made REMOTE_PROC_AUTH_LIST call (the first call libvirt's client makes) for the
 * transport tests: proves a stream reaches a libvirt daemon without the RPC client.
 */
import type { Duplex } from 'node:stream';

const REMOTE_PROGRAM = 0x20008086;
const REMOTE_PROC_AUTH_LIST = 66;

export interface AuthListReply {
  procedure: number;
  type: number;
  serial: number;
  status: number;
  /** remote_auth_type values the daemon offers (0 = none). */
  auth: number[];
}

export function authListOverStream(stream: Duplex, serial = 7, timeoutMs = 20_000): Promise<AuthListReply> {
  const frame = Buffer.alloc(28);
  [28, REMOTE_PROGRAM, 1, REMOTE_PROC_AUTH_LIST, 0, serial, 0].forEach((v, i) => frame.writeUInt32BE(v, i * 4));
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`no AUTH_LIST reply within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 4 || got.length < got.readUInt32BE(0)) return;
      const count = got.readUInt32BE(28);
      const auth = Array.from({ length: count }, (_, i) => got.readUInt32BE(32 + i * 4));
      finish(undefined, { procedure: got.readUInt32BE(12), type: got.readUInt32BE(16), serial: got.readUInt32BE(20), status: got.readUInt32BE(24), auth });
    };
    const onError = (e: Error) => finish(e);
    const onEnd = () => finish(new Error('stream ended before the AUTH_LIST reply'));
    function finish(error?: Error, reply?: AuthListReply) {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('end', onEnd);
      if (error) reject(error);
      else resolve(reply as AuthListReply);
    }
    stream.on('data', onData);
    stream.once('error', onError);
    stream.once('end', onEnd);
    stream.write(frame);
  });
}

/** What a healthy no-auth daemon answers: a REPLY (1) to our serial, status OK, auth [none]. */
export const AUTH_NONE_REPLY = { procedure: REMOTE_PROC_AUTH_LIST, type: 1, status: 0, auth: [0] };
