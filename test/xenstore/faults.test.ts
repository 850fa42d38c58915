// Connection loss and hostile peers: every pending call rejects promptly with a clear
// error, 'close' fires once, nothing hangs or crashes, close() is idempotent.
import { afterEach, describe, expect, it } from 'vitest';
import { XenStore, XenStoreError } from '../../lib/index.js';
import { XsType } from '../../lib/xenstore/wire.js';
import { frame } from '../../lib/xenstore/serializer.js';
import { startFakeXenstoredPeer, type FakeXenstoredPeer, type FakeHandler } from '../helpers/fake-xenstored-peer.js';
import { DAEMON_KINDS, DAEMON_NAMES, skipReason, startXenstored } from '../helpers/xenstored.js';

async function failure(p: Promise<unknown>): Promise<XenStoreError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(XenStoreError);
    return e as XenStoreError;
  }
  throw new Error('expected the call to fail');
}

function closeEvent(xs: XenStore): Promise<unknown> {
  return new Promise((resolve) => xs.once('close', resolve));
}

describe('XenStore against a fake xenstored peer', () => {
  let peer: FakeXenstoredPeer | undefined;
  let xs: XenStore | undefined;
  afterEach(async () => {
    await xs?.close();
    await peer?.stop();
    xs = peer = undefined;
  });

  async function withPeer(handler: FakeHandler): Promise<XenStore> {
    peer = await startFakeXenstoredPeer(handler);
    xs = await XenStore.open({ path: peer.socket });
    return xs;
  }

  it('rejects the pending call when the reply is cut off mid-frame', async () => {
    const c = await withPeer((req, p) => {
      const full = frame({ type: req.type, reqId: req.reqId, txId: 0 }, Buffer.from('a-long-reply-value'));
      p.raw(full.subarray(0, 20));
      p.end();
    });
    const closed = closeEvent(c);
    const e = await failure(c.read('/x'));
    expect(e.message).toMatch(/in the middle of a reply/);
    expect(e.code).toBe('VIR_ERR_RPC');
    expect(e.syscall).toBe('ECONNRESET');
    expect(await closed).toBeInstanceOf(XenStoreError);
    expect(c.closed).toBe(true);
    expect((await failure(c.read('/x'))).code).toBe('VIR_ERR_NO_CONNECT');
  });

  it('drops the connection on a garbage length instead of buffering it', async () => {
    const c = await withPeer((req, p) => {
      const h = Buffer.alloc(16);
      h.writeUInt32LE(req.type, 0);
      h.writeUInt32LE(req.reqId, 4);
      h.writeUInt32LE(0xfffffff0, 12);
      p.raw(h);
    });
    const closed = closeEvent(c);
    const e = await failure(c.read('/x'));
    expect(e.message).toMatch(/malformed XenStore frame/);
    expect(e.syscall).toBe('EPROTO');
    await closed;
  });

  it('drops the connection on plain garbage bytes', async () => {
    const c = await withPeer((_req, p) => p.raw(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const e = await failure(c.read('/x'));
    expect(e.syscall).toBe('EPROTO');
  });

  it('drops the connection on a reply to a request it never sent', async () => {
    const c = await withPeer((req, p) => p.send(req.type, req.reqId + 1000, 'x'));
    const e = await failure(c.read('/x'));
    expect(e.message).toMatch(/unknown request id/);
  });

  it('accepts a reply larger than 4096 bytes', async () => {
    const big = 'v'.repeat(50_000);
    const c = await withPeer((req, p) => p.reply(req, big));
    expect(await c.read('/x')).toBe(big);
  });

  it('reassembles a reply delivered one byte at a time', async () => {
    const c = await withPeer((req, p) => {
      const bytes = frame({ type: req.type, reqId: req.reqId, txId: 0 }, Buffer.from('slowly'));
      let i = 0;
      const drip = () => {
        if (i < bytes.length) {
          p.raw(bytes.subarray(i, ++i));
          setTimeout(drip, 1);
        }
      };
      drip();
    });
    expect(await c.read('/x')).toBe('slowly');
  });

  it('delivers a watch event that arrives before the WATCH reply', async () => {
    const c = await withPeer((req, p) => {
      if (req.type === XsType.WATCH) {
        const [path, token] = req.payload.toString().split('\0');
        p.send(XsType.WATCH_EVENT, 0, `${path}\0${token}\0`);
        p.reply(req, 'OK\0');
      }
    });
    const w = c.watch('/early', 'tk');
    const first = new Promise((r) => w.once('change', r));
    await w.ready;
    expect(await first).toEqual({ path: '/early', token: 'tk' });
    w.removeAllListeners();
  });

  it('fails a watch the daemon refuses: ready rejects, the iterator throws, error is emitted', async () => {
    const c = await withPeer((req, p) => p.send(XsType.ERROR, req.reqId, 'ENOSPC\0'));
    const w = c.watch('/quota', 'q');
    const emitted = new Promise((r) => w.once('error', r));
    expect((await failure(w.ready)).syscall).toBe('ENOSPC');
    expect(((await emitted) as XenStoreError).path).toBe('/quota');
    await expect(w[Symbol.asyncIterator]().next()).rejects.toThrow(/ENOSPC/);
    expect(w.closed).toBe(true);
    // The token is free again.
    expect(() => c.watch('/quota', 'q')).not.toThrow();
  });

  it('the addon itself refuses a request over 4096 bytes, whatever the caller checked', async () => {
    const c = await withPeer((req, p) => p.reply(req, 'OK\0'));
    const conn = (c as unknown as { conn: { request(t: number, tx: number, p: Buffer, as: number): Promise<unknown> } }).conn;
    let err: unknown;
    try {
      void conn.request(XsType.WRITE, 0, Buffer.alloc(4097, 0x61), 3);
    } catch (e) {
      err = e;
    }
    expect((err as { syscall?: string }).syscall).toBe('E2BIG');
    expect(peer!.requests).toHaveLength(0);
    await c.write('/still', 'usable');
    expect(peer!.requests).toHaveLength(1);
  });

  it('keeps at most 128 requests unanswered on the wire, sending the rest as answers come', async () => {
    let hold = true;
    const held: Array<() => void> = [];
    const c = await withPeer((req, p) => {
      const answer = () => p.reply(req, 'v');
      if (hold) held.push(answer);
      else answer();
    });
    const calls = Array.from({ length: 500 }, () => c.read('/k'));
    await new Promise((r) => setTimeout(r, 100));
    expect(peer!.requests).toHaveLength(128);
    hold = false;
    for (const f of held.splice(0)) f();
    expect(await Promise.all(calls)).toHaveLength(500);
    expect(peer!.requests).toHaveLength(500);
  });

  it('close() also settles requests still waiting for room on the wire', async () => {
    const c = await withPeer(() => undefined);
    const calls = Array.from({ length: 300 }, () => c.read('/k'));
    await c.close();
    const errs = await Promise.all(calls.map(failure));
    expect(errs.every((e) => e.code === 'VIR_ERR_NO_CONNECT')).toBe(true);
  });

  it('answers replies out of order to the right callers', async () => {
    const held: Array<() => void> = [];
    const c = await withPeer((req, p) => {
      held.push(() => p.reply(req, req.payload.toString().replace('\0', '') + '!'));
      if (held.length === 3) for (const f of held.reverse()) f();
    });
    expect(await Promise.all([c.read('/a'), c.read('/b'), c.read('/c')])).toEqual(['/a!', '/b!', '/c!']);
  });

  it('turns an ERROR reply into a XenStoreError with the errno name', async () => {
    const c = await withPeer((req, p) => p.send(XsType.ERROR, req.reqId, 'EACCES\0'));
    const e = await failure(c.write('/x', 'v'));
    expect(e.syscall).toBe('EACCES');
    expect(e.errno).toBe(13);
    expect(e.code).toBe('VIR_ERR_OPERATION_DENIED');
    expect(c.closed).toBe(false);
  });

  it('close() settles calls in flight, ends watches and is idempotent', async () => {
    const c = await withPeer(() => undefined); // never answers
    const calls = [c.read('/a'), c.directory('/b'), c.write('/c', 'v')];
    const w = c.watch('/w');
    const iterEnd = (async () => {
      for await (const _ of w) void _;
      return 'ended';
    })();
    const closed = closeEvent(c);
    await Promise.all([c.close(), c.close()]);
    for (const p of calls) expect((await failure(p)).code).toBe('VIR_ERR_NO_CONNECT');
    expect(await closed).toBeUndefined();
    await expect(iterEnd).resolves.toBe('ended');
    await c.close();
  });

  it('revalidates a large listing with one tiny DIRECTORY_PART and refetches on change', async () => {
    let gen = '7';
    const list = 'aa\0bb\0cc\0'; // 9 bytes
    const c = await withPeer((req, p) => {
      if (req.type === XsType.DIRECTORY) return p.send(XsType.ERROR, req.reqId, 'E2BIG\0');
      const offset = Number(req.payload.toString().split('\0')[1]);
      if (offset >= list.length) return p.reply(req, `${gen}\0\0`);
      if (offset === 0) return p.reply(req, `${gen}\0aa\0bb\0`);
      return p.reply(req, `${gen}\0cc\0\0`);
    });
    const sent = () => peer!.requests.map((r) => `${r.type}:${r.payload.toString().replaceAll('\0', '|')}`);
    expect(await c.directory('/d')).toEqual(['aa', 'bb', 'cc']);
    expect(sent()).toEqual(['1:/d|', '22:/d|0|', '22:/d|6|']);
    peer!.requests.length = 0;
    const again = await c.directory('/d');
    expect(again).toEqual(['aa', 'bb', 'cc']);
    expect(sent()).toEqual(['22:/d|9|']); // one probe past the end, nothing decoded
    again.push('mine'); // the caller's copy
    peer!.requests.length = 0;
    gen = '8';
    expect(await c.directory('/d')).toEqual(['aa', 'bb', 'cc']);
    expect(sent()).toEqual(['22:/d|9|', '22:/d|0|', '22:/d|6|']);
  });

  it('restarts a DIRECTORY_PART listing when the generation changes', async () => {
    let parts = 0;
    const c = await withPeer((req, p) => {
      if (req.type === XsType.DIRECTORY) return p.send(XsType.ERROR, req.reqId, 'E2BIG\0');
      const offset = Number(req.payload.toString().split('\0')[1]);
      parts++;
      const gen = parts <= 1 ? '1' : '2'; // changes after the first part
      if (offset === 0) p.reply(req, `${gen}\0a\0b\0`);
      else p.reply(req, `${gen}\0c\0\0`);
    });
    expect(await c.directory('/d')).toEqual(['a', 'b', 'c']);
    expect(parts).toBe(4); // 1st listing broken off at part 2, 2nd listing complete
  });
});

for (const kind of DAEMON_KINDS) {
  describe.skipIf(skipReason(kind))(`XenStore when ${DAEMON_NAMES[kind]} dies`, () => {
    it('rejects every call in flight and fires close once', async () => {
      const daemon = await startXenstored(kind);
      const xs = await XenStore.open({ path: daemon.socket });
      try {
        await xs.write('/t/k', 'v');
        const w = xs.watch('/t');
        await w.ready;
        const watchClosed = new Promise((r) => w.once('close', r));
        daemon.kill('SIGSTOP'); // requests now stay unanswered
        const calls = Array.from({ length: 50 }, () => xs.read('/t/k'));
        const closes: unknown[] = [];
        xs.on('close', (e) => closes.push(e));
        await new Promise((r) => setTimeout(r, 50));
        expect(xs.pending).toBe(50);
        const t0 = Date.now();
        daemon.kill('SIGKILL');
        const errs = await Promise.all(calls.map(failure));
        expect(Date.now() - t0).toBeLessThan(5000); // "promptly", with room for a loaded CI machine
        for (const e of errs) {
          expect(e.code).toBe('VIR_ERR_RPC');
          expect(e.message).toMatch(/closed the connection/);
        }
        expect(await watchClosed).toBeInstanceOf(XenStoreError);
        expect(closes).toHaveLength(1);
        await xs.close();
        await xs.close();
        expect(closes).toHaveLength(1);
      } finally {
        await xs.close();
        await daemon.stop();
      }
    });
  });
}

describe('XenStore.open', () => {
  it('fails with VIR_ERR_NO_XENSTORE when nothing listens', async () => {
    const e = await failure(XenStore.open({ path: '/nonexistent/xenstored/socket' }));
    expect(e.code).toBe('VIR_ERR_NO_XENSTORE');
    expect(e.syscall).toBe('ENOENT');
  });

  it('fails clearly when the xenbus device is missing', async () => {
    const e = await failure(XenStore.open({ device: true, path: '/nonexistent/xenbus' }));
    expect(e.code).toBe('VIR_ERR_NO_XENSTORE');
    expect(e.message).toMatch(/xenbus/);
  });
});
