/**
 * The proxy daemon's server over real unix sockets, with real SO_PEERCRED: what it
 * serves, what it refuses, its limits, and how it treats malformed clients. The backend
 * is the (real) test driver; clients run as root here and as 'nobody' in child processes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import '../../lib/drivers/test/index.js';
import { driversForScheme } from '../../lib/registry.js';
import type { HypervisorDriver } from '../../lib/driver.js';
import { isVirError } from '../../lib/errors.js';
import { ProxyServer } from '../../lib/proxy/server.js';
import { ProxyClient } from '../../lib/proxy/client.js';
import { FrameParser, FrameType, encodeFrame, HEADER_SIZE } from '../../lib/proxy/protocol.js';

const isRoot = process.getuid?.() === 0;

async function openTestDriver(): Promise<HypervisorDriver> {
  const r = await driversForScheme('test')[0]!.open(new URL('test:///default'), { options: {}, readOnly: false, events: new EventEmitter() });
  if (r === 'declined') throw new Error('test driver declined');
  return r.driver;
}

async function rejects(p: Promise<unknown>, code: string, text?: RegExp) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isVirError(e), `expected VirError ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
  if (text) expect((e as Error).message).toMatch(text);
}

/** Send raw bytes, collect everything until the server closes (or 2 s). */
function rawExchange(path: string, bytes: Buffer): Promise<{ frames: ReturnType<FrameParser['push']>; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.createConnection(path);
    const parser = new FrameParser(1 << 20);
    const frames: ReturnType<FrameParser['push']> = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ frames, closed: false });
    }, 2000);
    s.on('data', (c) => frames.push(...parser.push(c)));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ frames, closed: true });
    });
    s.write(bytes);
  });
}

/** Run a raw exchange in a child process as another user (real SO_PEERCRED of that uid). */
function rawExchangeAs(uid: number, gid: number, path: string, bytes: Buffer): Promise<ReturnType<FrameParser['push']>> {
  const script = `
    const s = require('net').createConnection(process.argv[1]);
    const out = [];
    s.on('data', (c) => { out.push(c); s.end(); });
    s.on('error', (e) => { console.error(e.message); process.exit(3); });
    s.on('close', () => { process.stdout.write(Buffer.concat(out).toString('hex')); });
    s.write(Buffer.from(process.argv[2], 'hex'));
    setTimeout(() => s.end(), 3000).unref();
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script, path, bytes.toString('hex')], { uid, gid, timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`child as uid ${uid} failed: ${err.message} ${stderr}`));
      resolve(new FrameParser(1 << 20).push(Buffer.from(stdout, 'hex')));
    });
  });
}

describe('xenvirt-proxy server', () => {
  let dir: string;
  let sock: string;
  let backend: HypervisorDriver;
  let server: ProxyServer;
  const clients: ProxyClient[] = [];
  const start = async (opts: Partial<ConstructorParameters<typeof ProxyServer>[0]> = {}) => {
    server = new ProxyServer({ socketPath: sock, backend, ...opts });
    await server.listen();
  };
  const client = async () => {
    const c = await ProxyClient.connect(sock, { timeoutMs: 3000 });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xenvirt-proxy-test-'));
    chmodSync(dir, 0o755); // children running as 'nobody' must reach the socket
    sock = join(dir, 'proxy.sock');
    backend = await openTestDriver();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await server?.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells a client who it is, from SO_PEERCRED', async () => {
    await start();
    const c = await client();
    expect(await c.call('$hello')).toEqual({ server: 'xenvirt-proxy', protocol: 1, uid: process.getuid!(), gid: process.getgid!(), pid: process.pid });
  });

  it('serves the read-only subset', async () => {
    await start();
    const c = await client();
    expect(await c.call('getVersion')).toBe(await backend.getVersion!());
    expect(await c.call('nodeGetInfo')).toEqual(await backend.nodeGetInfo!());
    expect(await c.call('getCapabilities')).toContain('<capabilities>');
    const list = (await c.call('listAllDomains', [{}])) as { name: string; uuid: string; id: number }[];
    expect(list.map((d) => d.name)).toEqual(['test']);
    const ref = await c.call('lookupDomainByName', ['test']);
    expect(ref).toEqual(list[0]);
    expect(await c.call('lookupDomainById', [list[0]!.id])).toEqual(ref);
    expect(await c.call('lookupDomainByUUID', [list[0]!.uuid])).toEqual(ref);
    // cpuTime moves on between the two reads; everything else must be identical.
    const { cpuTime, ...viaProxy } = (await c.call('domainGetInfo', [ref])) as { cpuTime: number };
    const { cpuTime: _t, ...direct } = await backend.domainGetInfo!(list[0]!);
    expect(viaProxy).toEqual(direct);
    expect(cpuTime).toBeTypeOf('number');
    expect(await c.call('domainGetXMLDesc', [ref, {}])).toContain('<name>test</name>');
  });

  it('denies every other method with VIR_ERR_OPERATION_DENIED, and the connection stays usable', async () => {
    await start();
    const c = await client();
    const ref = await c.call('lookupDomainByName', ['test']);
    await rejects(c.call('domainSuspend', [ref]), 'VIR_ERR_OPERATION_DENIED', /read-only calls only: 'domainSuspend'/);
    await rejects(c.call('defineXML', ['<domain/>']), 'VIR_ERR_OPERATION_DENIED');
    await rejects(c.call('networkDestroy', [{}]), 'VIR_ERR_OPERATION_DENIED');
    expect(((await backend.domainGetInfo!(ref as never)) as { state: string }).state).toBe('running');
    expect(await c.call('getVersion')).toBeTypeOf('number');
  });

  it('checks arguments and resolves domains by uuid itself (a forged name changes nothing)', async () => {
    await start();
    const c = await client();
    await rejects(c.call('lookupDomainById', ['1; rm -rf /']), 'VIR_ERR_INVALID_ARG');
    await rejects(c.call('listAllDomains', [{ everything: true }]), 'VIR_ERR_INVALID_ARG');
    await rejects(c.call('domainGetInfo', [{ name: 'test' }]), 'VIR_ERR_INVALID_ARG', /uuid/);
    await rejects(c.call('lookupDomainByName', ['nosuch']), 'VIR_ERR_NO_DOMAIN');
    const ref = (await c.call('lookupDomainByName', ['test'])) as { uuid: string };
    const xml = (await c.call('domainGetXMLDesc', [{ name: 'forged', id: 999, uuid: ref.uuid }, {}])) as string;
    expect(xml).toContain('<name>test</name>');
  });

  it('never shows passwords from a domain definition', async () => {
    await start();
    await backend.defineXML!(`<domain type='test'><name>vnc</name><memory>8192</memory><vcpu>1</vcpu><os><type>hvm</type></os>
      <devices><graphics type='vnc' port='-1' passwd='s3cret'/></devices></domain>`);
    const c = await client();
    const ref = await c.call('lookupDomainByName', ['vnc']);
    const xml = (await c.call('domainGetXMLDesc', [ref, { inactive: true }])) as string;
    expect(xml).toContain("<graphics type='vnc'");
    expect(xml).not.toContain('s3cret');
  });

  it('answers a malformed frame with a connection-level VIR_ERR_RPC and hangs up', async () => {
    await start();
    const bad = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await rawExchange(sock, bad);
    expect(r.closed).toBe(true);
    expect(r.frames).toHaveLength(1);
    expect(r.frames[0]).toMatchObject({ type: FrameType.ERROR, serial: 0, payload: { code: 'VIR_ERR_RPC' } });
    expect(String(r.frames[0]!.payload.message)).toMatch(/bad magic/);
  });

  it('refuses an oversized request from its header, before its payload arrives', async () => {
    await start({ maxRequestBytes: 1024 });
    const h = encodeFrame(FrameType.CALL, 1, { method: 'getVersion', args: ['x'.repeat(2000)] }).subarray(0, HEADER_SIZE);
    const r = await rawExchange(sock, h);
    expect(r.closed).toBe(true);
    expect(r.frames[0]!.payload).toMatchObject({ code: 'VIR_ERR_RPC' });
    expect(String(r.frames[0]!.payload.message)).toMatch(/exceeds the 1024-byte limit/);
  });

  it('refuses a client that sends replies, and one with a bad call shape', async () => {
    await start();
    const r1 = await rawExchange(sock, encodeFrame(FrameType.REPLY, 1, { result: 1 }));
    expect(String(r1.frames[0]!.payload.message)).toMatch(/may only send calls/);
    const r2 = await rawExchange(sock, encodeFrame(FrameType.CALL, 1, { method: 7 }));
    expect(r2.closed).toBe(true);
    expect(r2.frames[0]).toMatchObject({ serial: 0, payload: { code: 'VIR_ERR_RPC' } });
  });

  it('answers pipelined calls in order, with their serials', async () => {
    await start();
    const frames = Buffer.concat([1, 2, 3, 4, 5].map((n) => encodeFrame(FrameType.CALL, n, { method: n % 2 ? 'getVersion' : 'domainSuspend', args: [] })));
    const s = net.createConnection(sock);
    const parser = new FrameParser(1 << 20);
    const got: number[] = [];
    await new Promise<void>((resolve) => {
      s.on('data', (c) => {
        for (const f of parser.push(c)) got.push(f.type === FrameType.REPLY ? f.serial : -f.serial);
        if (got.length === 5) resolve();
      });
      s.write(frames);
    });
    s.destroy();
    expect(got).toEqual([1, -2, 3, -4, 5]);
  });

  it('limits concurrent clients', async () => {
    await start({ maxClients: 2 });
    const a = await client();
    const b = await client();
    expect(await a.call('$hello')).toBeTruthy();
    expect(await b.call('$hello')).toBeTruthy();
    const c = await client();
    await rejects(c.call('$hello'), 'VIR_ERR_OPERATION_FAILED', /too many clients \(limit 2\)/);
    await a.close();
    await new Promise((r) => setTimeout(r, 100));
    const d = await client();
    expect(await d.call('$hello')).toBeTruthy();
  });

  it('refuses a peer whose credentials cannot be read', async () => {
    await start({
      peerCredentials: () => {
        throw new Error('simulated SO_PEERCRED failure');
      },
    });
    const r = await rawExchange(sock, encodeFrame(FrameType.CALL, 1, { method: '$hello' }));
    expect(r.closed).toBe(true);
    expect(r.frames).toEqual([]);
  });

  it('replaces a stale socket file but never a live daemon or a non-socket', async () => {
    // A stale socket: bound by a process that died without removing it.
    execFileSync(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => process.exit(0))", sock]);
    expect(existsSync(sock)).toBe(true);
    await start();
    const c = await client();
    expect(await c.call('$hello')).toBeTruthy();
    const second = new ProxyServer({ socketPath: sock, backend });
    await rejects(second.listen(), 'VIR_ERR_OPERATION_FAILED', /already listening/);
    const file = join(dir, 'regular');
    writeFileSync(file, 'x');
    await rejects(new ProxyServer({ socketPath: file, backend }).listen(), 'VIR_ERR_SYSTEM_ERROR', /not a socket/);
  });

  // CI runs as root: there a missing privilege is a failure, not a skip.
  describe.skipIf(!isRoot && process.env.CI !== 'true')('peers running as other users (needs root to start them)', () => {
    it('serves an unprivileged user and reports its real uid', async () => {
      await start();
      const frames = await rawExchangeAs(65534, 65534, sock, encodeFrame(FrameType.CALL, 1, { method: '$hello', args: [] }));
      expect(frames[0]).toMatchObject({ type: FrameType.REPLY, serial: 1, payload: { result: { uid: 65534, gid: 65534 } } });
    });

    it('refuses a user outside --allow-uid/--allow-gid with VIR_ERR_OPERATION_DENIED; root is always allowed', async () => {
      await start({ allowUids: [12345] });
      const frames = await rawExchangeAs(65534, 65534, sock, encodeFrame(FrameType.CALL, 1, { method: '$hello', args: [] }));
      expect(frames[0]).toMatchObject({ type: FrameType.ERROR, serial: 0, payload: { code: 'VIR_ERR_OPERATION_DENIED' } });
      expect(String(frames[0]!.payload.message)).toMatch(/uid 65534 is not allowed/);
      const c = await client();
      expect(await c.call('$hello')).toMatchObject({ uid: 0 });
    });

    it('lets a listed group in', async () => {
      await start({ allowUids: [12345], allowGids: [65534] });
      const frames = await rawExchangeAs(65534, 65534, sock, encodeFrame(FrameType.CALL, 1, { method: 'getVersion', args: [] }));
      expect(frames[0]).toMatchObject({ type: FrameType.REPLY, serial: 1 });
    });
  });
});
