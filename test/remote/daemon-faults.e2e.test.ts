/**
 * The remote driver when the REAL libvirtd fails under it: killed with calls in flight,
 * stopped (SIGSTOP) so only keepalive can notice. Each daemon is private to its test.
 */
import { describe, expect, it } from 'vitest';
import { libvirtdSkipReason, startLibvirtd } from '../helpers/libvirtd.js';
import { connect, VirError } from '../../lib/index.js';

describe.skipIf(libvirtdSkipReason())('remote driver when the real daemon fails', () => {
  it('rejects every call in flight with a VirError when the daemon is killed, and says the connection closed', async () => {
    const daemon = await startLibvirtd();
    try {
      const conn = await connect(daemon.uri('unix'));
      const dom = await conn.lookupDomainByName('test');
      const closed = new Promise<{ reason: string }>((r) => conn.once('connection-closed', r));
      // Keep a stream of calls in flight, then kill the daemon under them.
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 2000; i++) calls.push(dom.getInfo());
      daemon.kill('SIGKILL');
      for (let i = 0; i < 200; i++) calls.push(dom.getInfo());
      const results = await Promise.allSettled(calls);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      for (const r of rejected) {
        expect(r.reason).toBeInstanceOf(VirError);
        expect((r.reason as VirError).code).toBe('VIR_ERR_RPC');
      }
      expect(['eof', 'error']).toContain((await closed).reason);
      await expect(dom.getInfo()).rejects.toMatchObject({ code: 'VIR_ERR_RPC' });
      await conn.close();
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  it('notices a stopped daemon through keepalive and rejects the pending call', async () => {
    const daemon = await startLibvirtd();
    try {
      const conn = await connect(daemon.uri('unix'));
      await conn.setKeepAlive(1, 2);
      const dom = await conn.lookupDomainByName('test');
      const closed = new Promise<{ reason: string }>((r) => conn.once('connection-closed', r));
      daemon.kill('SIGSTOP');
      const e = await dom.getInfo().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(VirError);
      expect((e as VirError).message).toMatch(/no keepalive response/);
      expect((await closed).reason).toBe('keepalive');
      await conn.close();
    } finally {
      daemon.kill('SIGCONT');
      await daemon.stop();
    }
  }, 60_000);

  it('validates setKeepAlive arguments', async () => {
    const daemon = await startLibvirtd();
    try {
      const conn = await connect(daemon.uri('unix'));
      await expect(conn.setKeepAlive(-1, 2)).rejects.toMatchObject({ code: 'VIR_ERR_INVALID_ARG' });
      await conn.setKeepAlive(0, 0); // off
      await conn.close();
    } finally {
      await daemon.stop();
    }
  }, 60_000);
});
