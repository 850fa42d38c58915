// Where XenStore.open connects: explicit options, then the environment, then the
// well-known sockets, then the xenbus device.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from '../../lib/xenstore/connection.js';
import { XenStoreError } from '../../lib/xenstore/errors.js';

describe('XenStore endpoint resolution', () => {
  it('prefers explicit options', () => {
    expect(resolveEndpoint({ path: '/x/sock' }, { XENSTORED_PATH: '/env/sock' })).toEqual({ kind: 'socket', path: '/x/sock' });
    expect(resolveEndpoint({ device: true }, { XENSTORED_PATH: '/env/sock' })).toEqual({ kind: 'device', path: '/dev/xen/xenbus' });
    expect(resolveEndpoint({ device: true, path: '/dev/other' }, {})).toEqual({ kind: 'device', path: '/dev/other' });
  });

  it('then XENSTORED_PATH, then XENSTORED_RUNDIR/socket when it exists', () => {
    expect(resolveEndpoint({}, { XENSTORED_PATH: '/env/sock' })).toEqual({ kind: 'socket', path: '/env/sock' });
    const dir = mkdtempSync(join(tmpdir(), 'xenvirt-ep-'));
    try {
      writeFileSync(join(dir, 'socket'), '');
      expect(resolveEndpoint({}, { XENSTORED_RUNDIR: dir })).toEqual({ kind: 'socket', path: join(dir, 'socket') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // On a Xen host one of the defaults exists, and resolution rightly picks it.
  const onXenHost = ['/run/xenstored/socket', '/var/run/xenstored/socket', '/dev/xen/xenbus'].some((p) => existsSync(p));
  it.skipIf(onXenHost)('says what it tried when nothing is there', () => {
    let err: unknown;
    try {
      resolveEndpoint({}, { XENSTORED_RUNDIR: '/nonexistent-rundir' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XenStoreError);
    expect((err as XenStoreError).code).toBe('VIR_ERR_NO_XENSTORE');
    expect((err as XenStoreError).message).toContain('/nonexistent-rundir/socket');
    expect((err as XenStoreError).message).toContain('/dev/xen/xenbus');
  });
});
