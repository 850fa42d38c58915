/**
 * The unix and tcp transports against a real libvirtd (test/helpers/libvirtd.ts), and their
 * failures: a wrong ?socket=, a path that is no socket, a refused port, an abort.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTransport } from '../../../lib/remote/transport/index.js';
import { parseRemoteURI } from '../../../lib/remote/uri.js';
import { freePort, libvirtdSkipReason, type RunningLibvirtd, startLibvirtd } from '../../helpers/libvirtd.js';
import { rejection } from '../../helpers/rejection.js';
import { AUTH_NONE_REPLY, authListOverStream } from './auth-list-probe.js';

describe.skipIf(libvirtdSkipReason())('unix and tcp transports', () => {
  let daemon: RunningLibvirtd;
  beforeAll(async () => {
    daemon = await startLibvirtd();
  });
  afterAll(() => daemon?.stop());

  it('reaches the daemon through ?socket=', async () => {
    const t = await openTransport(parseRemoteURI(daemon.uri('unix')));
    try {
      expect(t.describe).toBe(`unix:${daemon.socket}`);
      expect(t.secure).toBe(true);
      expect(await authListOverStream(t.stream)).toMatchObject({ ...AUTH_NONE_REPLY, serial: 7 });
    } finally {
      t.close();
    }
  });

  it('reaches the daemon over tcp, with Nagle off', async () => {
    const t = await openTransport(parseRemoteURI(daemon.uri('tcp')));
    try {
      expect(t.describe).toBe(`tcp:127.0.0.1:${daemon.tcpPort}`);
      expect(t.secure).toBe(false);
      expect(await authListOverStream(t.stream, 9)).toMatchObject({ ...AUTH_NONE_REPLY, serial: 9 });
    } finally {
      t.close();
    }
  });

  it('names a wrong ?socket= path in a VIR_ERR_SYSTEM_ERROR', async () => {
    const wrong = `${daemon.dir}/no-such-sock`;
    const e = await rejection(openTransport(parseRemoteURI(`test+unix:///default?socket=${wrong}`)));
    expect(e.code).toBe('VIR_ERR_SYSTEM_ERROR');
    expect(e.domain).toBe('VIR_FROM_RPC');
    expect(e.syscall).toBe('ENOENT');
    expect(e.message).toContain(`'${wrong}' (from ?socket=): No such file or directory`);
  });

  it('refuses a ?socket= that is a regular file', async () => {
    const file = `${daemon.dir}/not-a-socket`;
    writeFileSync(file, 'x');
    const e = await rejection(openTransport(parseRemoteURI(`test+unix:///default?socket=${file}`)));
    expect(e.code).toBe('VIR_ERR_SYSTEM_ERROR');
    expect(e.message).toContain(file);
  });

  it('names host and port when tcp is refused', async () => {
    const port = await freePort();
    const e = await rejection(openTransport(parseRemoteURI(`test+tcp://127.0.0.1:${port}/default`)));
    expect(e.code).toBe('VIR_ERR_SYSTEM_ERROR');
    expect(e.syscall).toBe('ECONNREFUSED');
    expect(e.message).toBe(`unable to connect to server at '127.0.0.1:${port}': Connection refused`);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const aborted = AbortSignal.abort(new Error('user gave up'));
    const e = await rejection(openTransport(parseRemoteURI(daemon.uri('tcp')), { signal: aborted }));
    expect(e.code).toBe('VIR_ERR_OPERATION_ABORTED');
    expect(e.message).toContain('user gave up');
  });
});
