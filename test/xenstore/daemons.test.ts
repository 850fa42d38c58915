// The same suite against Debian's real C xenstored and oxenstored, each started as an
// ordinary process on a private socket (test/helpers/xenstored.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XenStore, XenStoreError, type XenStoreWatchEvent } from '../../lib/index.js';
import { VirError } from '../../lib/errors.js';
import { DAEMON_KINDS, DAEMON_NAMES, skipReason, startXenstored, type RunningXenstored } from '../helpers/xenstored.js';

async function rejection(p: Promise<unknown>): Promise<XenStoreError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(XenStoreError);
    return e as XenStoreError;
  }
  throw new Error('expected the call to fail');
}

/** Collects watch events; `until` waits for one matching. */
function collect(w: { on(ev: 'change', f: (e: XenStoreWatchEvent) => void): unknown }) {
  const events: XenStoreWatchEvent[] = [];
  const waiters: Array<() => void> = [];
  w.on('change', (e) => {
    events.push(e);
    for (const f of waiters.splice(0)) f();
  });
  const until = async (pred: (e: XenStoreWatchEvent) => boolean, ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!events.some(pred)) {
      if (Date.now() > deadline) throw new Error(`no matching watch event; got ${JSON.stringify(events)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return { events, until };
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

for (const kind of DAEMON_KINDS) {
  describe.skipIf(skipReason(kind))(`XenStore against ${DAEMON_NAMES[kind]}`, () => {
    let daemon: RunningXenstored;
    let xs: XenStore;

    beforeAll(async () => {
      daemon = await startXenstored(kind);
      xs = await XenStore.open({ path: daemon.socket });
    });
    afterAll(async () => {
      await xs?.close();
      await daemon?.stop();
    });

    describe('nodes', () => {
      it('writes and reads strings and raw bytes', async () => {
        await xs.write('/t/rw/s', 'héllo wörld');
        expect(await xs.read('/t/rw/s')).toBe('héllo wörld');
        const bytes = Buffer.from([0, 1, 2, 0xff, 0]);
        await xs.write('/t/rw/b', bytes);
        expect(await xs.readBuffer('/t/rw/b')).toEqual(bytes);
        await xs.write('/t/rw/e', '');
        expect(await xs.read('/t/rw/e')).toBe('');
      });

      it('reports a missing node as ENOENT', async () => {
        const e = await rejection(xs.read('/t/does/not/exist'));
        expect(e).toBeInstanceOf(VirError);
        expect(e.syscall).toBe('ENOENT');
        expect(e.errno).toBe(2);
        expect(e.domain).toBe('VIR_FROM_XENSTORE');
        expect(e.path).toBe('/t/does/not/exist');
        expect(e.message).toContain('/t/does/not/exist');
      });

      it('mkdir makes an empty node and leaves an existing one alone', async () => {
        await xs.mkdir('/t/mk/a/b');
        expect(await xs.read('/t/mk/a/b')).toBe('');
        await xs.write('/t/mk/a/b', 'kept');
        await xs.mkdir('/t/mk/a/b');
        expect(await xs.read('/t/mk/a/b')).toBe('kept');
      });

      it('rm removes the whole subtree', async () => {
        await xs.write('/t/rm/a/b/c', '1');
        await xs.rm('/t/rm/a');
        expect((await rejection(xs.read('/t/rm/a/b/c'))).syscall).toBe('ENOENT');
        expect(await xs.directory('/t/rm')).toEqual([]);
      });

      it('resolves relative paths against the connection home (/local/domain/0)', async () => {
        await xs.write('xenvirt-rel/x', 'r');
        expect(await xs.read('/local/domain/0/xenvirt-rel/x')).toBe('r');
      });

      it('refuses a request over 4096 bytes before sending, and stays usable', async () => {
        const e = await rejection(xs.write('/t/big', 'x'.repeat(5000)));
        expect(e.syscall).toBe('E2BIG');
        expect(await xs.read('/t/rw/s')).toBe('héllo wörld');
      });

      it('rejects invalid paths with EINVAL without asking the daemon', async () => {
        const e = await rejection(xs.read('/bad//path'));
        expect(e.syscall).toBe('EINVAL');
        expect(e.code).toBe('VIR_ERR_INVALID_ARG');
      });

      it('matches 1000 pipelined replies to their requests', async () => {
        await xs.transaction(async (tx) => {
          await Promise.all(Array.from({ length: 200 }, (_, i) => tx.write(`/t/pipe/k${i}`, `v${i}`)));
        });
        const reads = Array.from({ length: 1000 }, (_, i) => xs.read(`/t/pipe/k${i % 200}`));
        const values = await Promise.all(reads);
        values.forEach((v, i) => expect(v).toBe(`v${i % 200}`));
        expect(xs.pending).toBe(0);
      });
    });

    describe('connections', () => {
      it('opens 50 connections at once although the daemon’s listen backlog is tiny', async () => {
        const all = await Promise.all(Array.from({ length: 50 }, () => XenStore.open({ path: daemon.socket })));
        try {
          expect(await Promise.all(all.map((c) => c.getDomainPath(0)))).toEqual(Array(50).fill('/local/domain/0'));
        } finally {
          await Promise.all(all.map((c) => c.close()));
        }
      });
    });

    describe('directory', () => {
      it('lists 0 and 1 children', async () => {
        await xs.mkdir('/t/dir0');
        expect(await xs.directory('/t/dir0')).toEqual([]);
        await xs.write('/t/dir1/only', '');
        expect(await xs.directory('/t/dir1')).toEqual(['only']);
      });

      it.each([
        ['short names (one reply)', (i: number) => String(i)],
        ['long names (past 4096 bytes)', (i: number) => `child-name-${String(i).padStart(5, '0')}`],
      ])('lists 1000 children with %s', async (_label, name) => {
        const base = `/t/dir1k-${name(0).length}`;
        await xs.transaction(async (tx) => {
          await Promise.all(Array.from({ length: 1000 }, (_, i) => tx.write(`${base}/${name(i)}`, '')));
        });
        const got = await xs.directory(base);
        expect(got).toHaveLength(1000);
        expect(new Set(got)).toEqual(new Set(Array.from({ length: 1000 }, (_, i) => name(i))));
      });

      it('reports ENOENT for a missing node', async () => {
        expect((await rejection(xs.directory('/t/no-such-dir'))).syscall).toBe('ENOENT');
      });

      it('sees every change to a large directory listed repeatedly', async () => {
        const base = '/t/dirchg';
        const name = (i: number) => `a-fairly-long-child-name-${String(i).padStart(4, '0')}`;
        const all = (n: number) => Array.from({ length: n }, (_, i) => name(i));
        await xs.transaction((tx) => Promise.all(all(400).map((c) => tx.write(`${base}/${c}`, ''))));
        const sorted = async () => (await xs.directory(base)).sort();
        expect(await sorted()).toEqual(all(400));
        expect(await sorted()).toEqual(all(400)); // unchanged
        await xs.write(`${base}/${name(400)}`, ''); // added
        expect(await sorted()).toEqual(all(401));
        await xs.rm(`${base}/${name(400)}`); // removed
        expect(await sorted()).toEqual(all(400));
        const got = await xs.directory(base);
        got.length = 0; // the caller's copy is theirs to change
        expect(await sorted()).toEqual(all(400));
        // Replaced by a different list of the same byte length.
        await xs.rm(base);
        const other = all(400).map((c) => c.replace('a-fairly', 'b-fairly'));
        await xs.transaction((tx) => Promise.all(other.map((c) => tx.write(`${base}/${c}`, ''))));
        expect(await sorted()).toEqual(other);
        // Changed by a committed transaction, and listed inside one.
        await xs.transaction(async (tx) => {
          await tx.write(`${base}/zz-in-tx`, '');
          expect((await tx.directory(base)).length).toBe(401);
        });
        expect((await xs.directory(base)).includes('zz-in-tx')).toBe(true);
        await xs.rm(base);
        expect((await rejection(xs.directory(base))).syscall).toBe('ENOENT');
      });
    });

    describe('permissions', () => {
      it('sets and reads back the owner and per-domain rights', async () => {
        await xs.write('/t/perm', 'p');
        const perms = [
          { domid: 0, read: false, write: false },
          { domid: 3, read: true, write: false },
          { domid: 5, read: true, write: true },
        ];
        await xs.setPerms('/t/perm', perms);
        expect(await xs.getPerms('/t/perm')).toEqual(perms);
      });

      it('gives a new node its parent’s permissions', async () => {
        await xs.mkdir('/t/permp');
        await xs.setPerms('/t/permp', [{ domid: 0, read: true, write: false }]);
        await xs.write('/t/permp/child', '');
        expect((await xs.getPerms('/t/permp/child'))[0]).toEqual({ domid: 0, read: true, write: false });
      });

      it('rejects malformed permission lists locally and ENOENT from the daemon', async () => {
        expect((await rejection(xs.setPerms('/t/perm', []))).syscall).toBe('EINVAL');
        expect((await rejection(xs.getPerms('/t/no-such-perm'))).syscall).toBe('ENOENT');
      });
    });

    describe('domains', () => {
      it('getDomainPath names the domain home', async () => {
        expect(await xs.getDomainPath(0)).toBe('/local/domain/0');
        expect(await xs.getDomainPath(7)).toBe('/local/domain/7');
        expect((await rejection(xs.getDomainPath(-1))).syscall).toBe('EINVAL');
      });

      it('fires @introduceDomain and @releaseDomain watches', async () => {
        const intro = xs.watch('@introduceDomain');
        const rel = xs.watch('@releaseDomain');
        const i = collect(intro);
        const r = collect(rel);
        await Promise.all([intro.ready, rel.ready]);
        await i.until((e) => e.path === '@introduceDomain'); // the initial event
        await r.until((e) => e.path === '@releaseDomain');
        const before = [i.events.length, r.events.length];
        await xs.introduceDomain(9, 0x1234, 5);
        expect(await xs.isDomainIntroduced(9)).toBe(true);
        await i.until(() => i.events.length > before[0]!);
        await xs.releaseDomain(9);
        await r.until(() => r.events.length > before[1]!);
        expect(await xs.isDomainIntroduced(9)).toBe(false);
        await Promise.all([intro.close(), rel.close()]);
      });
    });

    describe('watches', () => {
      it('fires once at registration, then on changes below the path', async () => {
        await xs.mkdir('/t/w1');
        const w = xs.watch('/t/w1', 'tok-w1');
        const c = collect(w);
        await w.ready;
        await c.until((e) => e.path === '/t/w1' && e.token === 'tok-w1');
        await xs.write('/t/w1/a/b', 'x');
        await c.until((e) => e.path === '/t/w1/a/b');
        await w.close();
      });

      it('is an async iterator that ends on close', async () => {
        const w = xs.watch('/t/w2');
        const seen: string[] = [];
        const done = (async () => {
          for await (const ev of w) {
            seen.push(ev.path);
            if (ev.path === '/t/w2/z') break; // break closes the watch
          }
        })();
        await w.ready;
        await xs.write('/t/w2/z', '1');
        await done;
        expect(seen).toContain('/t/w2');
        expect(seen).toContain('/t/w2/z');
        expect(w.closed).toBe(true);
      });

      it('stops firing after close (UNWATCH)', async () => {
        const w = xs.watch('/t/w3');
        const c = collect(w);
        await w.ready;
        await c.until((e) => e.path === '/t/w3');
        await w.close();
        await w.close(); // idempotent
        const n = c.events.length;
        await xs.write('/t/w3/after', '1');
        await xs.read('/t/w3/after');
        await settle();
        expect(c.events.length).toBe(n);
      });

      it('fires for a transaction’s writes only after commit', async () => {
        const w = xs.watch('/t/w4');
        const c = collect(w);
        await w.ready;
        await c.until((e) => e.path === '/t/w4');
        await xs.transaction(async (tx) => {
          await tx.write('/t/w4/in-tx', '1');
          await settle();
          expect(c.events.some((e) => e.path === '/t/w4/in-tx')).toBe(false);
        });
        await c.until((e) => e.path === '/t/w4/in-tx');
        await w.close();
      });

      it('refuses a token already in use on the connection', async () => {
        const w = xs.watch('/t/w5', 'dup');
        expect(() => xs.watch('/t/w6', 'dup')).toThrow(/already in use/);
        await w.close();
      });
    });

    describe('transactions', () => {
      it('commits', async () => {
        const out = await xs.transaction(async (tx) => {
          await tx.write('/t/tx/a', '1');
          await tx.write('/t/tx/b', '2');
          return tx.read('/t/tx/a');
        });
        expect(out).toBe('1');
        expect(await xs.read('/t/tx/b')).toBe('2');
      });

      it('aborts when the callback throws, and rethrows', async () => {
        const boom = new Error('boom');
        await expect(
          xs.transaction(async (tx) => {
            await tx.write('/t/tx/aborted', '1');
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect((await rejection(xs.read('/t/tx/aborted'))).syscall).toBe('ENOENT');
      });

      it('retries on a conflict (EAGAIN) and commits the second attempt', async () => {
        await xs.write('/t/tx/counter', '0');
        let attempts = 0;
        await xs.transaction(async (tx) => {
          attempts++;
          const v = Number(await tx.read('/t/tx/counter'));
          if (attempts === 1) await xs.write('/t/tx/counter', '100'); // a concurrent writer
          await tx.write('/t/tx/counter', String(v + 1));
        });
        expect(attempts).toBe(2);
        expect(await xs.read('/t/tx/counter')).toBe('101');
      });

      it('gives up with EAGAIN after maxAttempts conflicts', async () => {
        await xs.write('/t/tx/hot', '0');
        let attempts = 0;
        const e = await rejection(
          xs.transaction(
            async (tx) => {
              attempts++;
              await tx.read('/t/tx/hot');
              await xs.write('/t/tx/hot', String(attempts));
              await tx.write('/t/tx/hot', 'mine');
            },
            { maxAttempts: 3 },
          ),
        );
        expect(e.syscall).toBe('EAGAIN');
        expect(attempts).toBe(3);
      });

      it('refuses the transaction object once it has ended', async () => {
        let kept: { read(p: string): Promise<string> } | undefined;
        await xs.transaction(async (tx) => {
          kept = tx;
        });
        await expect(kept!.read('/t/tx/a')).rejects.toThrow(/already ended/);
      });
    });
  });
}
