/**
 * Starts Debian's OpenSSH server on 127.0.0.1 with its own host key, config and a throw-away
 * client key, for the ssh transport's tests: the test process's own user logs in with that
 * key and nothing else (no passwords, no PAM, no ~/.ssh of the user involved on the server).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './libvirtd.js';

const run = promisify(execFile);
export const SSHD_BINARY = '/usr/sbin/sshd';

export interface RunningSshd {
  dir: string;
  host: '127.0.0.1';
  port: number;
  /** The user that may log in (the test process's own). */
  user: string;
  /** Private key accepted by the server (pass as ?keyfile=). */
  clientKey: string;
  /** known_hosts naming this server's host key (pass as ?known_hosts=). */
  knownHosts: string;
  /**
   * An `ssh` wrapper (pass as ?command=) that ignores the user's ~/.ssh/config and uses only
   * the key and known_hosts above, so the tests do not depend on the machine's ssh setup.
   */
  sshCommand: string;
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

/** Why sshd cannot run here (undefined when it can). */
export function sshdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the sshd test helper runs on Linux only';
  if (!existsSync(SSHD_BINARY)) return `${SSHD_BINARY} missing (apt-get install openssh-server; see .ci/setup.d/40-libvirt.sh)`;
  if (!existsSync('/usr/bin/ssh-keygen') || !existsSync('/usr/bin/ssh')) return 'ssh/ssh-keygen missing (apt-get install openssh-client)';
  return undefined;
}

/** For describe.skipIf: in CI a missing sshd is a failure, elsewhere a skip. */
export function sshdSkipReason(): string | undefined {
  const why = sshdUnavailable();
  if (why && process.env.CI === 'true') throw new Error(`CI=true but sshd cannot run: ${why}`);
  if (why) console.warn(`skipping ssh tests: ${why}`);
  return why;
}

function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      conn.destroy();
      resolve(ok);
    };
    conn.setTimeout(2_000, () => done(false));
    conn.once('data', (d) => done(d.toString('latin1').startsWith('SSH-2.0-')));
    conn.once('error', () => done(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StartSshdOptions {
  /**
   * Serve sessions in a private mount namespace whose /run/libvirt (so also /var/run/libvirt)
   * is this directory: the far side's virt-ssh-helper, which only knows the system socket
   * when run as root, then reaches a private daemon. Needs root (unshare, mount).
   */
  libvirtRunDir?: string;
  readyTimeoutMs?: number;
}

/** Why a private-namespace sshd cannot run here (undefined when it can). */
export function namespacedSshdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a private /run/libvirt for sshd sessions needs root (unshare --mount)';
  if (!existsSync('/usr/bin/unshare')) return 'unshare missing (util-linux)';
  return sshdUnavailable();
}

export async function startSshd(options: StartSshdOptions = {}): Promise<RunningSshd> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const dir = mkdtempSync(join(tmpdir(), 'xenvirt-sshd-'));
  const p = (name: string) => join(dir, name);
  const keygen = (file: string, comment: string) => run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { timeout: 30_000 });
  await keygen(p('host_key'), 'xenvirt-test-host');
  await keygen(p('client_key'), 'xenvirt-test-client');
  writeFileSync(p('authorized_keys'), readFileSync(p('client_key.pub')));
  chmodSync(p('authorized_keys'), 0o600);
  const port = await freePort();
  const user = userInfo().username;
  writeFileSync(
    p('sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${p('host_key')}`,
      `PidFile ${p('sshd.pid')}`,
      `AuthorizedKeysFile ${p('authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The key files live in a temp dir, not under the user's home with its usual modes.
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const hostKey = readFileSync(p('host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(p('known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
  writeFileSync(
    p('ssh'),
    `#!/bin/sh\nexec /usr/bin/ssh -F /dev/null -o IdentitiesOnly=yes -o IdentityFile=${p('client_key')} -o UserKnownHostsFile=${p('known_hosts')} -o BatchMode=yes "$@"\n`,
  );
  chmodSync(p('ssh'), 0o755);
  // sshd running as root insists on its privilege separation directory (systemd makes it).
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const out = openSync(p('sshd.log'), 'a');
  const sshdArgs = ['-D', '-e', '-f', p('sshd_config')];
  const child: ChildProcess = options.libvirtRunDir
    ? // A fresh tmpfs on /run inside the namespace, so nothing is created in the host's /run.
      spawn(
        '/usr/bin/unshare',
        ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c',
          'mount -t tmpfs -o mode=755 xenvirt-run /run && mkdir -p /run/sshd /run/libvirt && mount --bind "$1" /run/libvirt && shift && exec "$@"',
          'sh', options.libvirtRunDir, SSHD_BINARY, ...sshdArgs],
        { stdio: ['ignore', out, out] },
      )
    : spawn(SSHD_BINARY, sshdArgs, { stdio: ['ignore', out, out] });
  closeSync(out);
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitStatus = signal ? `killed by ${signal}` : `exited with ${code}`;
      resolve();
    });
    child.once('error', (e) => {
      exitStatus = `could not be spawned: ${e.message}`;
      resolve();
    });
  });
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  const log = () => (existsSync(p('sshd.log')) ? readFileSync(p('sshd.log'), 'utf8') : '');
  let stopped: Promise<void> | undefined;
  const sshd: RunningSshd = {
    dir,
    host: '127.0.0.1',
    port,
    user,
    clientKey: p('client_key'),
    knownHosts: p('known_hosts'),
    sshCommand: p('ssh'),
    pid: child.pid ?? -1,
    log,
    stop() {
      stopped ??= (async () => {
        process.off('exit', onExit);
        if (exitStatus === undefined) {
          child.kill('SIGTERM');
          if ((await Promise.race([exited.then(() => 'exited'), sleep(10_000).then(() => 'timeout')])) === 'timeout') {
            child.kill('SIGKILL');
            await exited;
          }
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exitStatus !== undefined) {
      const text = log();
      await sshd.stop();
      throw new Error(`sshd ${exitStatus} before serving:\n${text}`);
    }
    if (await banner(port)) return sshd;
    if (Date.now() > deadline) {
      const text = log();
      await sshd.stop();
      throw new Error(`sshd did not answer on 127.0.0.1:${port} within ${readyTimeoutMs} ms:\n${text}`);
    }
    await sleep(50);
  }
}
