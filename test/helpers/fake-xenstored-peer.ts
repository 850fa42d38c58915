/**
 * A FAKE xenstored: a unix-socket server that parses real request frames and answers
 * however a test script says — including truncated, oversized, garbage and out-of-order
 * frames that the real daemons never send. Only for fault injection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameParser } from '../../lib/xenstore/parser.js';
import { frame } from '../../lib/xenstore/serializer.js';
import type { Frame } from '../../lib/xenstore/wire.js';

export type FakeHandler = (req: Frame, peer: FakePeerConnection) => void;

export class FakePeerConnection {
  constructor(readonly socket: Socket) {}
  /** Send a well-formed frame. */
  send(type: number, reqId: number, payload: Buffer | string = Buffer.alloc(0), txId = 0): void {
    this.socket.write(frame({ type, reqId, txId }, typeof payload === 'string' ? Buffer.from(payload) : payload));
  }
  /** Send raw bytes (truncated or garbage frames). */
  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }
  /** Reply to `req` with its own type. */
  reply(req: Frame, payload: Buffer | string): void {
    this.send(req.type, req.reqId, payload, req.txId);
  }
  end(): void {
    this.socket.end();
  }
}

export interface FakeXenstoredPeer {
  socket: string;
  /** Every request received, in order. */
  requests: Frame[];
  stop(): Promise<void>;
}

export async function startFakeXenstoredPeer(handler: FakeHandler): Promise<FakeXenstoredPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'xenvirt-fake-xsd-'));
  const path = join(dir, 'socket');
  const requests: Frame[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    const parser = new FrameParser();
    const conn = new FakePeerConnection(s);
    s.on('data', (chunk) => {
      for (const f of parser.parse(chunk)) {
        requests.push(f);
        handler(f, conn);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return {
    socket: path,
    requests,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
