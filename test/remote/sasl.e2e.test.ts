/**
 * SASL (SCRAM-SHA-256) against a REAL libvirtd 9.0.0 with auth_unix_rw = "sasl". cyrus-sasl
 * reads its configuration only from /etc/sasl2, so the daemon runs in a private mount
 * namespace with an overlay on /etc: the test's libvirt.conf and sasldb are visible to the
 * daemon alone and the host's /etc is never written. Needs root (unshare, overlay) and
 * sasl2-bin (saslpasswd2); .ci/setup.d/42-sasl.sh installs it.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, VirError } from '../../lib/index.js';

const USER = 'alice';
const PASSWORD = 'through the looking glass';

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Linux only';
  if (process.getuid?.() !== 0) return 'needs root (a private mount namespace with an overlay on /etc)';
  for (const bin of ['/usr/sbin/libvirtd', '/usr/sbin/saslpasswd2', '/usr/bin/unshare', '/usr/bin/setpriv']) if (!existsSync(bin)) return `${bin} missing`;
  if (!existsSync('/usr/lib/x86_64-linux-gnu/sasl2/libscram.so') && !existsSync('/usr/lib/sasl2/libscram.so')) return 'cyrus-sasl SCRAM plugin missing (libsasl2-modules)';
  return undefined;
}
function skipReason(): string | undefined {
  const why = unavailable();
  if (why && process.env.CI === 'true') throw new Error(`CI=true but the SASL libvirtd cannot run: ${why}`);
  return why;
}

interface SaslDaemon {
  socket: string;
  log(): string;
  stop(): Promise<void>;
}

async function startSaslLibvirtd(): Promise<SaslDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'xenvirt-sasl-libvirtd-'));
  chmodSync(dir, 0o755);
  for (const d of ['run', 'home', 'sasl2', 'up', 'work']) mkdirSync(join(dir, d));
  const db = join(dir, 'sasl2', 'passwd.db');
  const made = spawnSync('/usr/sbin/saslpasswd2', ['-c', '-p', '-f', db, '-a', 'libvirt', USER], { input: PASSWORD });
  if (made.status !== 0) throw new Error(`saslpasswd2 failed: ${made.stderr}`);
  writeFileSync(join(dir, 'sasl2', 'libvirt.conf'), `mech_list: scram-sha-256\nsasldb_path: ${db}\n`);
  const logFile = join(dir, 'home', 'libvirtd.log');
  writeFileSync(
    join(dir, 'libvirtd.conf'),
    [`unix_sock_dir = "${join(dir, 'run')}"`, 'auth_unix_rw = "sasl"', 'auth_unix_ro = "sasl"', 'unix_sock_rw_perms = "0777"', `log_outputs = "3:file:${logFile}"`, ''].join('\n'),
  );
  execFileSync('chown', ['-R', 'nobody:nogroup', join(dir, 'run'), join(dir, 'home'), join(dir, 'sasl2')]);
  const setup = [
    'set -e',
    'mount -t overlay xenvirt-sasl -o "lowerdir=/etc,upperdir=$1/up,workdir=$1/work" /etc',
    'mkdir -p /etc/sasl2',
    'cp "$1/sasl2/libvirt.conf" /etc/sasl2/libvirt.conf',
    'exec setpriv --reuid=nobody --regid=nogroup --clear-groups env -i HOME="$1/home" XDG_RUNTIME_DIR="$1/run" PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/libvirtd -f "$1/libvirtd.conf"',
  ].join('\n');
  const out = openSync(join(dir, 'stdout.log'), 'w');
  // unshare's default propagation is private: the overlay never reaches the host.
  const child: ChildProcess = spawn('unshare', ['--mount', 'sh', '-c', setup, 'sh', dir], { stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const socket = join(dir, 'run', 'libvirt-sock');
  const log = () => ['stdout.log', 'home/libvirtd.log'].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '')).join('\n');
  const stop = async () => {
    child.kill('SIGTERM');
    const bound = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(bound);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (existsSync(socket) && (await canConnect(socket))) return { socket, log, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`SASL libvirtd did not start: ${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe.skipIf(skipReason())('SASL SCRAM-SHA-256 against a real libvirtd', () => {
  let daemon: SaslDaemon;
  let uri: string;
  beforeAll(async () => {
    daemon = await startSaslLibvirtd();
    uri = `test+unix:///default?socket=${daemon.socket}`;
  });
  afterAll(() => daemon?.stop());

  it('authenticates with the right password and serves the API', async () => {
    const conn = await connect(uri, { remote: { sasl: { username: USER, password: PASSWORD } } });
    try {
      expect(conn.getType()).toBe('TEST');
      expect((await conn.listAllDomains()).map((d) => d.name)).toContain('test');
    } finally {
      await conn.close();
    }
  });

  it('is refused with a wrong password, and without credentials, as VIR_ERR_AUTH_FAILED', async () => {
    const wrong = await connect(uri, { remote: { sasl: { username: USER, password: 'wrong' } } }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(VirError);
    expect((wrong as VirError).code).toBe('VIR_ERR_AUTH_FAILED');
    const none = await connect(uri).catch((e: unknown) => e);
    expect((none as VirError).code).toBe('VIR_ERR_AUTH_FAILED');
    expect((none as VirError).message).toMatch(/needs a username and password/);
  });

  it('is the same daemon virsh authenticates to', async () => {
    const r = spawnSync('virsh', ['-c', uri, 'list', '--name'], { input: `${USER}\n${PASSWORD}\n`, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toMatch(/(^|\s)test$/m); // after virsh's prompts on the same line
  });
});
