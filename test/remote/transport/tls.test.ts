/**
 * The tls transport against a real libvirtd with a throw-away CA, and its failures: a server
 * certificate from another CA, a client certificate the daemon does not trust, missing files,
 * a peer that never finishes the handshake (timeout, abort), and a negative verdict byte from
 * a fake peer (the real daemon only sends one when its DN/address checks fail).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTransport } from '../../../lib/remote/transport/index.js';
import { locateClientPki } from '../../../lib/remote/transport/tls.js';
import { parseRemoteURI } from '../../../lib/remote/uri.js';
import { type LibvirtdPki, libvirtdSkipReason, makeTestPki, type RunningLibvirtd, startLibvirtd } from '../../helpers/libvirtd.js';
import { rejection } from '../../helpers/rejection.js';
import { AUTH_NONE_REPLY, authListOverStream } from './auth-list-probe.js';

function listen(server: Server | TlsServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe.skipIf(libvirtdSkipReason())('tls transport', () => {
  let daemon: RunningLibvirtd;
  let scratch: string;
  let strangerPki: LibvirtdPki;
  beforeAll(async () => {
    daemon = await startLibvirtd();
    scratch = mkdtempSync(join(tmpdir(), 'xenvirt-tls-test-'));
    strangerPki = await makeTestPki(join(scratch, 'stranger')); // same layout, another CA
  });
  afterAll(async () => {
    await daemon?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it.each(['localhost', '127.0.0.1'])('reaches the daemon at %s with ?pkipath=, after its verdict', async (host) => {
    const t = await openTransport(parseRemoteURI(`test+tls://${host}:${daemon.tlsPort}/default?pkipath=${daemon.pki.dir}`));
    try {
      expect(t.describe).toBe(`tls:${host}:${daemon.tlsPort}`);
      expect(t.secure).toBe(true);
      expect(await authListOverStream(t.stream)).toMatchObject(AUTH_NONE_REPLY);
    } finally {
      t.close();
    }
  });

  it('refuses a server whose certificate another CA signed (VIR_ERR_AUTH_FAILED)', async () => {
    // Our CA is the stranger's; the daemon's certificate is not signed by it.
    const e = await rejection(openTransport(parseRemoteURI(`test+tls://localhost:${daemon.tlsPort}/default?pkipath=${strangerPki.dir}`)));
    expect(e.code).toBe('VIR_ERR_AUTH_FAILED');
    expect(e.message).toContain("server's certificate was not accepted");
    expect(e.message).toContain(strangerPki.caCert);
  });

  it('with no_verify=1 skips our check, and the daemon then refuses our untrusted client certificate', async () => {
    const e = await rejection(openTransport(parseRemoteURI(`test+tls://localhost:${daemon.tlsPort}/default?no_verify=1&pkipath=${strangerPki.dir}`)));
    expect(e.code).toBe('VIR_ERR_AUTH_FAILED');
    expect(e.message).toContain(strangerPki.clientCert);
  });

  it('says which file is missing', async () => {
    const e = await rejection(openTransport(parseRemoteURI(`test+tls://localhost:${daemon.tlsPort}/default?pkipath=${scratch}/nowhere`)));
    expect(e.code).toBe('VIR_ERR_SYSTEM_ERROR');
    expect(e.message).toContain(`Cannot read CA certificate '${scratch}/nowhere/cacert.pem'`);
  });

  it('says when the key pair cannot be used', async () => {
    const broken = join(scratch, 'broken');
    mkdirSync(broken);
    copyFileSync(daemon.pki.caCert, join(broken, 'cacert.pem'));
    copyFileSync(daemon.pki.clientCert, join(broken, 'clientcert.pem'));
    writeFileSync(join(broken, 'clientkey.pem'), 'not a key\n');
    const e = await rejection(openTransport(parseRemoteURI(`test+tls://localhost:${daemon.tlsPort}/default?pkipath=${broken}`)));
    expect(e.code).toBe('VIR_ERR_SYSTEM_ERROR');
    expect(e.message).toContain(`Cannot use the client certificate ${broken}/clientcert.pem`);
  });

  it('reads the files again when they change (the parsed context is cached)', async () => {
    const changing = join(scratch, 'changing');
    mkdirSync(changing);
    for (const f of ['cacert.pem', 'clientcert.pem', 'clientkey.pem']) copyFileSync(join(daemon.pki.dir, f), join(changing, f));
    const uri = `test+tls://localhost:${daemon.tlsPort}/default?pkipath=${changing}`;
    (await openTransport(parseRemoteURI(uri))).close();
    // Now a client pair the daemon does not trust (the CA file still lets us trust the daemon).
    copyFileSync(strangerPki.clientCert, join(changing, 'clientcert.pem'));
    copyFileSync(strangerPki.clientKey, join(changing, 'clientkey.pem'));
    expect((await rejection(openTransport(parseRemoteURI(uri)))).code).toBe('VIR_ERR_AUTH_FAILED');
  });

  it('times out on a peer that accepts TCP and never speaks TLS', async () => {
    const silent = createNetServer(() => {}); // the simulated hung daemon
    const sockets: Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    const port = await listen(silent);
    try {
      const e = await rejection(openTransport(parseRemoteURI(`test+tls://localhost:${port}/default?pkipath=${daemon.pki.dir}`), { timeoutMs: 300 }));
      expect(e.code).toBe('VIR_ERR_OPERATION_TIMEOUT');
      expect(e.message).toBe(`connecting to tls:localhost:${port} took longer than 300 ms`);
      const controller = new AbortController();
      const pending = openTransport(parseRemoteURI(`test+tls://localhost:${port}/default?pkipath=${daemon.pki.dir}`), { signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      expect((await rejection(pending)).code).toBe('VIR_ERR_OPERATION_ABORTED');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('fails with VIR_ERR_AUTH_FAILED when the server answers the handshake with a non-1 verdict', async () => {
    // A fake daemon with the real certificates that rejects every client after the handshake.
    const fake = createTlsServer({ key: readFileSync(daemon.pki.serverKey), cert: readFileSync(daemon.pki.serverCert) }, (s) => s.end(Buffer.from([0])));
    const port = await listen(fake);
    try {
      const e = await rejection(openTransport(parseRemoteURI(`test+tls://localhost:${port}/default?pkipath=${daemon.pki.dir}`)));
      expect(e.code).toBe('VIR_ERR_AUTH_FAILED');
      expect(e.message).toContain('TLS verdict 0');
    } finally {
      fake.close();
    }
  });

  it("finds libvirt's default places: ~/.pki/libvirt when not root and complete, else the system's", () => {
    const all = () => true;
    expect(locateClientPki(undefined, { euid: 1000, home: '/home/u', exists: all })).toEqual({
      caCert: '/home/u/.pki/libvirt/cacert.pem', clientCert: '/home/u/.pki/libvirt/clientcert.pem', clientKey: '/home/u/.pki/libvirt/clientkey.pem', from: 'user',
    });
    const system = { caCert: '/etc/pki/CA/cacert.pem', clientCert: '/etc/pki/libvirt/clientcert.pem', clientKey: '/etc/pki/libvirt/private/clientkey.pem', from: 'system' };
    expect(locateClientPki(undefined, { euid: 1000, home: '/home/u', exists: (p) => !p.endsWith('clientkey.pem') })).toEqual(system);
    expect(locateClientPki(undefined, { euid: 0, home: '/root', exists: all })).toEqual(system);
  });
});
