/**
 * A FAKE libvirt daemon for fault injection only: it speaks just enough of the RPC protocol
 * (auth list, open, get type, keepalive feature) for a client to connect, and lets a test
 * script every other answer — truncated, oversized or garbage frames, replies out of order,
 * unknown procedures, dying mid-reply, never answering. Everything a real daemon can do is
 * tested against the real libvirtd (driver.e2e.test.ts); this exists for what it cannot do.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameDecoder, encodePacket, type Packet } from '../../lib/remote/packet.js';
import type { XdrWriter } from '../../lib/remote/xdr.js';
import * as P from '../../lib/remote/protocol/remote.js';
import { KEEPALIVE_PROGRAM } from '../../lib/remote/protocol/keepalive.js';

export const VIR_NET_REPLY = 1;
export const VIR_NET_MESSAGE = 2;

/** What a scripted handler may do with one call. */
export interface PeerCall {
  packet: Packet;
  socket: Socket;
  /** Reply OK with a payload. */
  reply(write?: (w: XdrWriter) => void): void;
  /** Reply with a remote_error. */
  fail(code: number, domain: number, message: string): void;
  /** The encoded reply frame, to send in pieces or corrupt. */
  replyFrame(write?: (w: XdrWriter) => void): Buffer;
}

export type CallHandler = (call: PeerCall) => void | 'default';

export interface FakePeer {
  socketPath: string;
  uri: string;
  /** Handler for calls after the handshake (default: every call answered as the handshake's or NO_SUPPORT). */
  onCall: CallHandler | undefined;
  /** Answer keepalive PINGs (default true). */
  answerPings: boolean;
  /** Keepalive packets received from the client, by procedure (1 PING, 2 PONG). */
  keepalivesReceived: number[];
  sockets: Set<Socket>;
  close(): Promise<void>;
}

export async function startFakePeer(): Promise<FakePeer> {
  const dir = mkdtempSync(join(tmpdir(), 'xenvirt-fake-peer-'));
  const socketPath = join(dir, 'sock');
  const sockets = new Set<Socket>();
  const peer: FakePeer = {
    socketPath,
    uri: `test+unix:///default?socket=${socketPath}`,
    onCall: undefined,
    answerPings: true,
    keepalivesReceived: [],
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      let packets: Packet[];
      try {
        packets = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const packet of packets) handle(packet, socket);
    });
  });
  function handle(packet: Packet, socket: Socket): void {
    if (packet.prog === KEEPALIVE_PROGRAM) {
      peer.keepalivesReceived.push(packet.proc);
      if (packet.proc === 1 && peer.answerPings) socket.write(encodePacket({ ...packet, proc: 2, type: VIR_NET_MESSAGE }));
      return;
    }
    const replyFrame = (write?: (w: XdrWriter) => void) => encodePacket({ ...packet, type: VIR_NET_REPLY, status: 0 }, write);
    const call: PeerCall = {
      packet,
      socket,
      replyFrame,
      reply: (write) => socket.write(replyFrame(write)),
      fail: (code, domain, message) =>
        socket.write(
          encodePacket({ ...packet, type: VIR_NET_REPLY, status: 1 }, (w) =>
            P.write_remote_error(w, { code, domain, message, level: 2, dom: null, str1: null, str2: null, str3: null, int1: 0, int2: 0, net: null }),
          ),
        ),
    };
    if (peer.onCall && peer.onCall(call) !== 'default') return;
    switch (packet.proc) {
      case P.REMOTE_PROC_AUTH_LIST:
        return call.reply((w) => P.write_remote_auth_list_ret(w, { types: [P.REMOTE_AUTH_NONE] }));
      case P.REMOTE_PROC_CONNECT_OPEN:
      case P.REMOTE_PROC_CONNECT_CLOSE:
        return call.reply();
      case P.REMOTE_PROC_CONNECT_GET_TYPE:
        return call.reply((w) => P.write_remote_connect_get_type_ret(w, { type: 'FAKE' }));
      case P.REMOTE_PROC_CONNECT_SUPPORTS_FEATURE:
        return call.reply((w) => P.write_remote_connect_supports_feature_ret(w, { supported: 1 }));
      default:
        return call.fail(3, 0, `fake peer: procedure ${packet.proc} not scripted`); // VIR_ERR_NO_SUPPORT
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return peer;
}
