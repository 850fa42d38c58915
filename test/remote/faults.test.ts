/**
 * The RPC client and the remote driver facing a misbehaving peer (fake-libvirt-peer.ts):
 * every fault ends in a VirError for the calls concerned, no hang, no unhandled rejection.
 */
import { createConnection } from 'node:net';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakePeer, type FakePeer } from './fake-libvirt-peer.js';
import { RemoteClient } from '../../lib/remote/client.js';
import { XdrReader } from '../../lib/remote/xdr.js';
import * as P from '../../lib/remote/protocol/remote.js';
import { connect, VirError } from '../../lib/index.js';

let peer: FakePeer;
let client: RemoteClient;

async function rawClient(): Promise<RemoteClient> {
  const socket = createConnection(peer.socketPath);
  await once(socket, 'connect');
  return new RemoteClient(socket, { describe: 'fake peer' });
}
async function failure(p: Promise<unknown>): Promise<VirError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(VirError);
    return e as VirError;
  }
  throw new Error('expected a rejection');
}
const lookup = (id: number) => client.call(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_ID, { id });
const domainReply = (id: number) => (w: Parameters<typeof P.write_remote_domain_lookup_by_id_ret>[0]) =>
  P.write_remote_domain_lookup_by_id_ret(w, { dom: { name: `dom-${id}`, uuid: Buffer.alloc(16, id & 0xff), id } });

beforeEach(async () => {
  peer = await startFakePeer();
  client = await rawClient();
});
afterEach(async () => {
  client.close();
  await peer.close();
});

describe('RPC client against a faulty peer', () => {
  it('matches 10,000 calls in flight to replies sent in reverse order', async () => {
    const held: { id: number; reply: () => void }[] = [];
    peer.onCall = (call) => {
      const { id } = P.read_remote_domain_lookup_by_id_args(new XdrReader(call.packet.body));
      held.push({ id, reply: () => call.reply(domainReply(id)) });
      if (held.length === 10_000) for (const h of held.reverse()) h.reply();
    };
    const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => lookup(i)));
    results.forEach((r, i) => expect(r.dom.name).toBe(`dom-${i}`));
    expect(client.pendingCalls).toBe(0);
  });

  it('rejects every pending call at once when the peer dies mid-reply', async () => {
    let n = 0;
    peer.onCall = (call) => {
      if (++n === 3) {
        const frame = call.replyFrame(domainReply(1));
        call.socket.write(frame.subarray(0, frame.length - 5)); // half a reply…
        setTimeout(() => call.socket.destroy(), 20); // …then gone
      }
    };
    const calls = [lookup(1), lookup(2), lookup(3)];
    const errors = await Promise.all(calls.map(failure));
    for (const e of errors) {
      expect(e.code).toBe('VIR_ERR_RPC');
      expect(e.message).toMatch(/closed|end of file/);
    }
    expect(client.closed).toBe(true);
    expect((await failure(lookup(4))).message).toMatch(/closed/);
  });

  it.each([
    ['an oversized frame (over 32 MiB)', () => Buffer.from('02000001', 'hex'), /exceeds libvirt's maximum/],
    ['a frame shorter than its header', () => Buffer.from('0000000800000000', 'hex'), /shorter than the 28-byte header/],
  ])('closes the connection on %s and says why', async (_name, frame, why) => {
    peer.onCall = (call) => {
      call.socket.write(frame());
    };
    const closed = once(client, 'close');
    const e = await failure(lookup(1));
    expect(e.code).toBe('VIR_ERR_RPC');
    expect(e.message).toMatch(why);
    const [ev] = (await closed) as [{ reason: string }];
    expect(ev.reason).toBe('error');
  });

  it('rejects only the call whose reply payload is garbage, and keeps serving', async () => {
    let n = 0;
    peer.onCall = (call) => {
      if (++n === 1) call.reply((w) => w.uint(0xffffffff)); // a string length of 4 GiB
      else call.reply(domainReply(2));
    };
    const e = await failure(lookup(1));
    expect(e.code).toBe('VIR_ERR_RPC');
    expect((await lookup(2)).dom.name).toBe('dom-2');
  });

  it('rejects a reply that names another procedure than the call', async () => {
    peer.onCall = (call) => {
      call.packet.proc = P.REMOTE_PROC_CONNECT_GET_TYPE;
      call.reply((w) => P.write_remote_connect_get_type_ret(w, { type: 'x' }));
    };
    expect((await failure(lookup(1))).message).toMatch(/names procedure/);
  });

  it("maps the daemon's error for a procedure it does not know", async () => {
    const e = await failure(client.callProgram({ prog: P.REMOTE_PROGRAM, vers: 1, table: { 9999: { name: 'REMOTE_PROC_FROM_THE_FUTURE' } } }, 9999, undefined));
    expect(e.code).toBe('VIR_ERR_NO_SUPPORT');
    expect(e.message).toContain('procedure 9999 not scripted');
  });

  it('refuses to send a procedure its tables do not know, or arguments that do not encode', async () => {
    expect((await failure(client.callProgram({ prog: 1, vers: 1, table: {} }, 5, undefined))).code).toBe('VIR_ERR_INVALID_ARG');
    expect((await failure(client.call(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_ID, { id: 2 ** 40 }))).code).toBe('VIR_ERR_RPC');
  });

  it('ignores unsolicited messages, replies to unknown serials and unknown programs', async () => {
    peer.onCall = (call) => {
      const { socket, packet } = call;
      const odd = call.replyFrame();
      odd.writeInt32BE(9, 16); // a message type the protocol does not define, same serial
      socket.write(odd);
      const stray = call.replyFrame(domainReply(9));
      stray.writeUInt32BE(packet.serial + 1000, 20); // unknown serial
      socket.write(stray);
      const msg = call.replyFrame();
      msg.writeInt32BE(2, 16); // type MESSAGE
      msg.writeInt32BE(77777, 12); // unknown event procedure
      socket.write(msg);
      const other = call.replyFrame();
      other.writeUInt32BE(0x12345678, 4); // unknown program
      other.writeUInt32BE(packet.serial + 2000, 20);
      socket.write(other);
      call.reply(domainReply(5));
    };
    expect((await lookup(5)).dom.name).toBe('dom-5');
    expect(client.closed).toBe(false);
  });

  it('rejects an aborted call at once and a timed-out call after its timeout; late replies are dropped', async () => {
    const held: (() => void)[] = [];
    peer.onCall = (call) => {
      held.push(() => call.reply(domainReply(1)));
    };
    const ac = new AbortController();
    const aborted = lookup(1);
    const p1 = client.call(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_ID, { id: 1 }, { signal: ac.signal });
    ac.abort(new Error('user gave up'));
    const e1 = await failure(p1);
    expect(e1.message).toMatch(/REMOTE_PROC_DOMAIN_LOOKUP_BY_ID aborted: user gave up/);
    const e2 = await failure(client.call(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_ID, { id: 1 }, { timeoutMs: 50 }));
    expect(e2.code).toBe('VIR_ERR_OPERATION_TIMEOUT');
    expect((await failure(client.call(P.REMOTE_PROC_DOMAIN_LOOKUP_BY_ID, { id: 1 }, { signal: AbortSignal.abort() }))).message).toMatch(/aborted/);
    for (const h of held) h();
    expect((await aborted).dom.id).toBe(1);
    expect(client.pendingCalls).toBe(0);
  });

  it('rejects calls in flight when the client closes', async () => {
    peer.onCall = () => {};
    const calls = Array.from({ length: 100 }, (_, i) => lookup(i));
    await new Promise((r) => setTimeout(r, 20));
    client.close();
    const errors = await Promise.all(calls.map(failure));
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['VIR_ERR_INVALID_CONN']));
  });

  it("answers the daemon's keepalive PING with a PONG", async () => {
    const pong = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (peer.keepalivesReceived.includes(2)) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
    for (const s of peer.sockets) s.write(Buffer.from('0000001c6b65657000000001000000010000000200000000' + '00000000', 'hex'));
    await pong;
  });

  it('gives up on a peer that stops answering keepalives: reason keepalive, calls rejected', async () => {
    peer.answerPings = false;
    peer.onCall = () => {}; // the call is never answered either
    const closed = once(client, 'close');
    client.setKeepAlive(0.2, 2);
    const e = await failure(lookup(1));
    expect(e.message).toMatch(/no keepalive response/);
    const [ev] = (await closed) as [{ reason: string }];
    expect(ev.reason).toBe('keepalive');
    expect(peer.keepalivesReceived.filter((p) => p === 1)).toHaveLength(2);
  });

  it('keeps a connection whose peer answers keepalives', async () => {
    // count 3: only three silent intervals in a row (a PONG lost to a loaded machine is not enough) close it
    client.setKeepAlive(0.2, 3);
    await new Promise((r) => setTimeout(r, 1000));
    expect(client.closed).toBe(false);
    expect(peer.keepalivesReceived.filter((p) => p === 1).length).toBeGreaterThan(1);
  });
});

describe('remote driver through the public API against a faulty peer', () => {
  it('opens, then reports the peer dying as connection-closed and VirErrors', async () => {
    const conn = await connect(peer.uri);
    expect(conn.getType()).toBe('FAKE');
    peer.onCall = (call) => {
      if (call.packet.proc === P.REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME) call.socket.destroy();
      else return 'default';
    };
    const closed = new Promise<{ reason: string }>((r) => conn.once('connection-closed', r));
    const e = await failure(conn.lookupDomainByName('x'));
    expect(e.code).toBe('VIR_ERR_RPC');
    expect((await closed).reason).toBe('eof');
    await conn.close(); // still fine after the peer is gone
  });

  it('refuses SASL it cannot do (no SCRAM offered, no credentials), with VIR_ERR_AUTH_FAILED', async () => {
    let mechlist = 'DIGEST-MD5 GSSAPI';
    peer.onCall = (call) => {
      if (call.packet.proc === P.REMOTE_PROC_AUTH_LIST) call.reply((w) => P.write_remote_auth_list_ret(w, { types: [P.REMOTE_AUTH_SASL] }));
      else if (call.packet.proc === P.REMOTE_PROC_AUTH_SASL_INIT) call.reply((w) => P.write_remote_auth_sasl_init_ret(w, { mechlist }));
      else return 'default';
    };
    const e1 = await failure(connect(peer.uri));
    expect(e1.code).toBe('VIR_ERR_AUTH_FAILED');
    expect(e1.message).toMatch(/offers SASL mechanisms DIGEST-MD5, GSSAPI/);
    mechlist = 'SCRAM-SHA-256';
    const e2 = await failure(connect(peer.uri));
    expect(e2.code).toBe('VIR_ERR_AUTH_FAILED');
    expect(e2.message).toMatch(/needs a username and password/);
  });

  it('times the handshake out against a peer that accepts but never answers', async () => {
    peer.onCall = () => {};
    const e = await failure(connect(peer.uri, { remote: { openTimeoutMs: 300 } }));
    expect(e.code).toBe('VIR_ERR_OPERATION_TIMEOUT');
  });
});
