/**
 * The ext transport: a program's stdio carries the protocol. Reaches the real daemon through
 * `nc -U`, and reports a program that fails (with its stderr) or does not exist.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirError } from '../../../lib/errors.js';
import { openTransport } from '../../../lib/remote/transport/index.js';
import { parseRemoteURI } from '../../../lib/remote/uri.js';
import { libvirtdSkipReason, type RunningLibvirtd, startLibvirtd } from '../../helpers/libvirtd.js';
import { rejection } from '../../helpers/rejection.js';
import { AUTH_NONE_REPLY, authListOverStream } from './auth-list-probe.js';

describe.skipIf(libvirtdSkipReason())('ext transport', () => {
  let daemon: RunningLibvirtd;
  let scratch: string;
  const script = (name: string, body: string) => {
    const path = join(scratch, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  beforeAll(async () => {
    daemon = await startLibvirtd();
    scratch = mkdtempSync(join(tmpdir(), 'xenvirt-ext-test-'));
  });
  afterAll(async () => {
    await daemon?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("carries the protocol over the command's stdio", async () => {
    const proxy = script('proxy', `exec nc -U '${daemon.socket}'`);
    const t = await openTransport(parseRemoteURI(`test+ext:///default?command=${proxy}`));
    try {
      expect(t.describe).toBe(`ext:${proxy}`);
      expect(await authListOverStream(t.stream)).toMatchObject(AUTH_NONE_REPLY);
    } finally {
      t.close();
    }
  });

  it('turns a command that dies into a stream error with its exit status and stderr', async () => {
    const failing = script('failing', 'echo "proxy: no route to the daemon" >&2; exit 3');
    const t = await openTransport(parseRemoteURI(`test+ext:///default?command=${failing}`));
    const error = await new Promise<Error>((resolve) => t.stream.once('error', resolve));
    expect(error).toBeInstanceOf(VirError);
    expect((error as VirError).code).toBe('VIR_ERR_SYSTEM_ERROR');
    expect(error.message).toBe(`ext:${failing}: the command exited with status 3: proxy: no route to the daemon`);
    t.close();
  });

  it('ends the stream cleanly when the command exits 0', async () => {
    const quiet = script('quiet', 'exit 0');
    const t = await openTransport(parseRemoteURI(`test+ext:///default?command=${quiet}`));
    let errored = false;
    t.stream.on('error', () => (errored = true));
    await new Promise((resolve) => t.stream.once('end', resolve).resume());
    expect(errored).toBe(false);
    t.close();
  });

  it('names a command that does not exist', async () => {
    const e = await rejection(openTransport(parseRemoteURI(`test+ext:///default?command=${scratch}/missing`)));
    expect(e.code).toBe('VIR_ERR_SYSTEM_ERROR');
    expect(e.syscall).toBe('ENOENT');
    expect(e.message).toBe(`cannot run '${scratch}/missing' for ext:${scratch}/missing: No such file or directory`);
  });
});
