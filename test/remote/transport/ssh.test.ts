/**
 * The ssh transport through a real local sshd (test/helpers/sshd.ts) to a real libvirtd:
 * netcat on the far side (with the socket path quoted through two shells), virt-ssh-helper
 * chosen by proxy=auto/native (its own error reaches us: as root it looks for the system
 * daemon, which does not run here), and ssh's own failures with its stderr.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirError } from '../../../lib/errors.js';
import { openTransport } from '../../../lib/remote/transport/index.js';
import { remoteProxyScript, sshArguments } from '../../../lib/remote/transport/ssh.js';
import { parseRemoteURI } from '../../../lib/remote/uri.js';
import { freePort, libvirtdSkipReason, type RunningLibvirtd, startLibvirtd } from '../../helpers/libvirtd.js';
import { namespacedSshdUnavailable, type RunningSshd, sshdSkipReason, startSshd } from '../../helpers/sshd.js';
import { AUTH_NONE_REPLY, authListOverStream } from './auth-list-probe.js';

describe.skipIf(libvirtdSkipReason() ?? sshdSkipReason())('ssh transport', () => {
  let daemon: RunningLibvirtd;
  let sshd: RunningSshd;
  beforeAll(async () => {
    [daemon, sshd] = await Promise.all([startLibvirtd(), startSshd()]);
  });
  afterAll(async () => {
    await Promise.all([daemon?.stop(), sshd?.stop()]);
  });
  const base = () => `test+ssh://${sshd.user}@127.0.0.1:${sshd.port}/default`;
  const q = encodeURIComponent;

  it('reaches the daemon with nc -U on the far side, using ?keyfile= and ?known_hosts=', async () => {
    const t = await openTransport(parseRemoteURI(`${base()}?keyfile=${sshd.clientKey}&known_hosts=${sshd.knownHosts}&no_tty=1&socket=${daemon.socket}`));
    try {
      expect(t.describe).toBe(`ssh:${sshd.user}@127.0.0.1:${sshd.port}`);
      expect(t.secure).toBe(true);
      expect(await authListOverStream(t.stream)).toMatchObject(AUTH_NONE_REPLY);
    } finally {
      t.close();
    }
  });

  it('quotes a socket path with a space and a quote through both shells', async () => {
    const odd = join(daemon.dir, "it's a sock");
    symlinkSync(daemon.socket, odd);
    const t = await openTransport(parseRemoteURI(`${base()}?command=${sshd.sshCommand}&proxy=netcat&socket=${q(odd)}`));
    try {
      expect(await authListOverStream(t.stream)).toMatchObject(AUTH_NONE_REPLY);
    } finally {
      t.close();
    }
  });

  it.each(['native', 'auto'])('with proxy=%s runs virt-ssh-helper on the far side and passes its error on', async (proxy) => {
    const t = await openTransport(parseRemoteURI(`${base()}?command=${sshd.sshCommand}&proxy=${proxy}`));
    const error = await authListOverStream(t.stream).then(
      () => undefined,
      (e: Error) => e,
    );
    t.close();
    expect(error).toBeInstanceOf(VirError);
    expect((error as VirError).code).toBe('VIR_ERR_SYSTEM_ERROR');
    // Run as root, virt-ssh-helper looks for the system daemon's socket.
    expect(error?.message).toMatch(/ssh exited with status \d+: .*virt-ssh-helper: cannot connect to '\/var\/run\/libvirt\/libvirt-sock'/s);
  });

  it("reports ssh's refusal of a wrong key with its stderr", async () => {
    const t = await openTransport(parseRemoteURI(`${base()}?keyfile=${sshd.knownHosts}&known_hosts=${sshd.knownHosts}&no_tty=1&socket=${daemon.socket}`));
    const error = await authListOverStream(t.stream).then(
      () => undefined,
      (e: Error) => e,
    );
    t.close();
    expect(error).toBeInstanceOf(VirError);
    expect(error?.message).toMatch(/ssh exited with status 255: .*Permission denied \(publickey\)/s);
  });

  it('reports a refused ssh port', async () => {
    const port = await freePort();
    const t = await openTransport(parseRemoteURI(`test+ssh://127.0.0.1:${port}/default?command=${sshd.sshCommand}&socket=${daemon.socket}`));
    const error = await authListOverStream(t.stream).then(
      () => undefined,
      (e: Error) => e,
    );
    t.close();
    expect(error?.message).toMatch(new RegExp(`^ssh:127.0.0.1:${port}: ssh exited with status 255: .*Connection refused`, 's'));
  });
});

// virt-ssh-helper run as root only knows the system socket, /var/run/libvirt/libvirt-sock: an
// sshd whose sessions see the private daemon's socket dir there lets it succeed.
const namespaced = namespacedSshdUnavailable();
if (namespaced && process.env.CI === 'true') throw new Error(`CI=true but the namespaced sshd cannot run: ${namespaced}`);
describe.skipIf(libvirtdSkipReason() ?? sshdSkipReason() ?? namespaced)('ssh transport with virt-ssh-helper on the far side', () => {
  let daemon: RunningLibvirtd;
  let sshd: RunningSshd;
  beforeAll(async () => {
    daemon = await startLibvirtd();
    sshd = await startSshd({ libvirtRunDir: daemon.runtimeDir });
  });
  afterAll(async () => {
    await Promise.all([daemon?.stop(), sshd?.stop()]);
  });

  it.each(['native', 'auto'])('reaches the daemon with proxy=%s', async (proxy) => {
    const t = await openTransport(parseRemoteURI(`test+ssh://${sshd.user}@127.0.0.1:${sshd.port}/default?command=${sshd.sshCommand}&proxy=${proxy}`));
    try {
      expect(await authListOverStream(t.stream)).toMatchObject(AUTH_NONE_REPLY);
    } finally {
      t.close();
    }
  });
});

describe('ssh command line', () => {
  it('passes port, user, key, batch mode and no escape character, then the host and one remote command', () => {
    const args = sshArguments(parseRemoteURI('qemu+ssh://admin@h.example:2222/system?keyfile=/k&no_tty=1&no_verify=1&proxy=native'));
    expect(args).toEqual([
      '-p', '2222', '-l', 'admin', '-i', '/k', '-T', '-e', 'none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
      '--', 'h.example', `sh -c 'exec virt-ssh-helper '\\''qemu:///system'\\'''`,
    ]);
  });

  it('asks virt-ssh-helper first and falls back to nc on the system socket (proxy=auto)', () => {
    const script = remoteProxyScript(parseRemoteURI('qemu+ssh://h/system'));
    expect(script).toMatch(/^if command -v virt-ssh-helper >\/dev\/null 2>&1; then exec virt-ssh-helper 'qemu:\/\/\/system'; fi; /);
    expect(script).toMatch(/exec 'nc' \$q -U \/var\/run\/libvirt\/libvirt-sock$/);
    expect(remoteProxyScript(parseRemoteURI('qemu+ssh://h/system'), true)).toMatch(/virt-ssh-helper -r .*libvirt-sock-ro$/);
  });

  it('uses netcat when ?netcat= or ?socket= is given, and the per-user socket for /session', () => {
    expect(remoteProxyScript(parseRemoteURI('qemu+ssh://h/system?netcat=/opt/nc'))).toMatch(/^case "\$\('\/opt\/nc' -q 2>&1\)".*exec '\/opt\/nc' \$q -U \/var\/run\/libvirt\/libvirt-sock$/);
    expect(remoteProxyScript(parseRemoteURI('qemu+ssh://h/session?proxy=netcat'))).toMatch(/-U "\$\{XDG_RUNTIME_DIR:-\$HOME\/.cache\}\/libvirt\/libvirt-sock"$/);
    expect(remoteProxyScript(parseRemoteURI('qemu+ssh://h/system?socket=/s'))).not.toContain('virt-ssh-helper');
  });
});
