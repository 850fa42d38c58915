/**
 * Starts Debian's real libvirtd (9.0.0) as an unprivileged process in a temp dir, for the
 * remote driver's tests and benchmarks: a unix socket, plain TCP and TLS on 127.0.0.1
 * (throw-away CA, server and client certificates made here with openssl), no auth.
 *
 * Run as root libvirtd refuses to start (its QEMU driver wants the `libvirt-qemu` user), so
 * as root the daemon runs as `nobody` through setpriv; it then starts in session mode and
 * serves `test:///default` and `qemu:///session` (see ../shared/docs/xen-on-this-machine.md §8).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const LIBVIRTD_BINARY = '/usr/sbin/libvirtd';
/** The user the daemon runs as when the tests run as root. */
const DAEMON_USER = 'nobody';
const DAEMON_GROUP = 'nogroup';

export type LibvirtTransportName = 'unix' | 'tcp' | 'tls';

/** Files laid out as libvirt's `?pkipath=` expects (cacert.pem, clientcert.pem, clientkey.pem). */
export interface LibvirtdPki {
  /** The directory to pass as `?pkipath=`. */
  dir: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
  serverCert: string;
  serverKey: string;
}

export interface RunningLibvirtd {
  /** The daemon's temp dir (config, log, home, runtime dir, pki). */
  dir: string;
  /** The read-write unix socket (`libvirt-sock`). */
  socket: string;
  /** The directory the socket lives in ($XDG_RUNTIME_DIR of the daemon). */
  runtimeDir: string;
  host: '127.0.0.1';
  tcpPort: number;
  tlsPort: number;
  pki: LibvirtdPki;
  pid: number;
  logFile: string;
  /**
   * A URI for libvirt's own client (virsh) or ours: `driver+transport://…/path` with the
   * socket or pkipath filled in. TLS uses `localhost`, a name the server certificate carries.
   */
  uri(transport?: LibvirtTransportName, driverPath?: string): string;
  /** The daemon's log so far (for failure messages). */
  log(): string;
  /** Send a signal without waiting (fault tests: SIGSTOP, SIGCONT, SIGKILL). */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the daemon process has exited (for whatever reason). */
  readonly exited: Promise<void>;
  /** SIGTERM, wait, SIGKILL after a bound, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartLibvirtdOptions {
  /** Lines appended to libvirtd.conf. */
  extraConfig?: string;
  /** How long to wait for the daemon to serve (default 60 s: a loaded 2-core machine). */
  readyTimeoutMs?: number;
  /** Add the daemon user to the `kvm` group so QEMU guests may use /dev/kvm when it exists. */
  kvm?: boolean;
  /**
   * Run libvirtd as root (system mode: qemu:///system, network:///system with real bridges,
   * iptables and dnsmasq) inside private mount and network namespaces, so nothing it does
   * reaches the host: tmpfs over /run and libvirt's state, config and log dirs, a passwd/group
   * with the `libvirt-qemu` user Debian's QEMU driver insists on, and an empty network
   * namespace. Unix socket only (its TCP ports would be in that namespace). Needs root.
   */
  privileged?: boolean;
}

/** Why the privileged (root, namespaced) daemon cannot run here (undefined when it can). */
export function privilegedLibvirtdUnavailable(): string | undefined {
  const base = libvirtdUnavailable();
  if (base) return base;
  if (process.getuid?.() !== 0) return 'the privileged libvirtd needs root (unshare --mount --net)';
  for (const tool of ['/usr/bin/unshare', '/usr/sbin/iptables', '/usr/sbin/dnsmasq', '/usr/sbin/ip']) {
    if (!existsSync(tool)) return `${tool} missing (see .ci/setup.d/40-libvirt.sh: util-linux, iptables, dnsmasq-base, iproute2)`;
  }
  for (const dir of SYSTEM_STATE_DIRS) if (!existsSync(dir)) return `${dir} missing (libvirt-daemon not installed?)`;
  return undefined;
}

/** For describe.skipIf: in CI a missing component is a failure, elsewhere a skip. */
export function privilegedLibvirtdSkipReason(): string | undefined {
  const why = privilegedLibvirtdUnavailable();
  if (why && process.env.CI === 'true') throw new Error(`CI=true but the privileged libvirtd cannot run: ${why}`);
  if (why) console.warn(`skipping privileged libvirtd tests: ${why}`);
  return why;
}

/** What a system-mode libvirtd writes besides /run: each gets a private tmpfs. */
const SYSTEM_STATE_DIRS = ['/etc/libvirt', '/var/lib/libvirt', '/var/cache/libvirt', '/var/log/libvirt'];

/**
 * The namespace's setup, run by sh inside `unshare --mount --net`, then exec'ing libvirtd:
 * $1 = the helper's dir (passwd, group), the rest = the libvirtd command line.
 */
const PRIVATE_NAMESPACE_SETUP = [
  'set -e',
  `for d in /run ${SYSTEM_STATE_DIRS.join(' ')}; do mount -t tmpfs -o mode=755 xenvirt-libvirtd "$d"; done`,
  'mount --bind "$1/passwd" /etc/passwd',
  'mount --bind "$1/group" /etc/group',
  'ip link set lo up',
  // /var/lock is /run/lock: libvirt locks a guest's console pty there.
  'mkdir -p /run/lock',
  // System-mode QEMU sends guest stdio through virtlogd (/run/libvirt/virtlogd-sock).
  '/usr/sbin/virtlogd --daemon',
  'shift',
  'exec "$@"',
].join('\n');

/** The host's passwd/group plus the libvirt-qemu user and group, for the namespace only. */
function writeNamespaceAccounts(dir: string): void {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const group = readFileSync('/etc/group', 'utf8');
  const nl = (t: string) => (t.endsWith('\n') ? t : `${t}\n`);
  writeFileSync(join(dir, 'passwd'), nl(passwd) + (/^libvirt-qemu:/m.test(passwd) ? '' : 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n'));
  writeFileSync(join(dir, 'group'), nl(group) + (/^libvirt-qemu:/m.test(group) ? '' : 'libvirt-qemu:x:64055:\n'));
}

/** Every process in a network namespace (the daemon, and the dnsmasq it left daemonized). */
function processesInNetns(netns: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === netns) out.push(Number(entry));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

/**
 * Processes whose command line or environment names this daemon's temp dir: the QEMU guests
 * and virtlogd a session daemon spawns, which libvirt detaches and which outlive it.
 */
function processesUsing(dir: string): number[] {
  const needle = `${dir}/`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(needle) || readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) {
        out.push(Number(entry));
      }
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

/** Why the daemon cannot run here (undefined when it can). */
export function libvirtdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'libvirtd runs on Linux only';
  if (!existsSync(LIBVIRTD_BINARY)) return `${LIBVIRTD_BINARY} missing (apt-get install libvirt-daemon; see .ci/setup.d/40-libvirt.sh)`;
  if (!existsSync('/usr/bin/openssl')) return 'openssl missing (needed for the throw-away TLS CA)';
  if (process.getuid?.() === 0 && !existsSync('/usr/bin/setpriv')) return 'setpriv missing (util-linux), needed to drop root for libvirtd';
  return undefined;
}

/** For describe.skipIf: in CI a missing daemon is a failure, elsewhere a skip. */
export function libvirtdSkipReason(): string | undefined {
  const why = libvirtdUnavailable();
  if (why && process.env.CI === 'true') throw new Error(`CI=true but libvirtd cannot run: ${why}`);
  if (why) console.warn(`skipping libvirtd tests: ${why}`);
  return why;
}

/** A port nobody listens on right now (the daemon may still lose a race for it: start retries). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function idOf(database: 'passwd' | 'group', name: string): number {
  const line = readFileSync(`/etc/${database}`, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no ${database} entry for ${name}`);
  return Number(line.split(':')[2]);
}

const OPENSSL_EXTENSIONS = `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`;

/**
 * A throw-away CA and a server and client certificate signed by it. libvirt checks the key
 * usage and purpose bits of both ends, and the server's name against the host in the URI.
 */
export async function makeTestPki(dir: string): Promise<LibvirtdPki> {
  mkdirSync(dir, { recursive: true });
  const cnf = join(dir, 'openssl.cnf');
  writeFileSync(cnf, OPENSSL_EXTENSIONS);
  const p = (name: string) => join(dir, name);
  const openssl = (args: string[]) => run('openssl', args, { timeout: 60_000 });
  const key = ['-newkey', 'rsa:2048', '-nodes'];
  await openssl(['req', '-x509', ...key, '-keyout', p('cakey.pem'), '-out', p('cacert.pem'), '-days', '2',
    '-subj', '/CN=xenvirt throw-away test CA', '-config', cnf, '-extensions', 'ca']);
  for (const [who, cn] of [['server', 'localhost'], ['client', 'xenvirt-test-client']] as const) {
    await openssl(['req', '-new', ...key, '-keyout', p(`${who}key.pem`), '-out', p(`${who}.csr`), '-subj', `/CN=${cn}`, '-config', cnf]);
    await openssl(['x509', '-req', '-in', p(`${who}.csr`), '-CA', p('cacert.pem'), '-CAkey', p('cakey.pem'),
      '-CAcreateserial', '-out', p(`${who}cert.pem`), '-days', '2', '-extfile', cnf, '-extensions', who]);
  }
  return {
    dir,
    caCert: p('cacert.pem'),
    clientCert: p('clientcert.pem'),
    clientKey: p('clientkey.pem'),
    serverCert: p('servercert.pem'),
    serverKey: p('serverkey.pem'),
  };
}

function daemonConfig(dir: string, runtimeDir: string, pki: LibvirtdPki, tcpPort: number, tlsPort: number, extra = '', listen = true): string {
  const network = listen
    ? [
        'listen_tcp = 1',
        'listen_tls = 1',
        'listen_addr = "127.0.0.1"',
        `tcp_port = "${tcpPort}"`,
        `tls_port = "${tlsPort}"`,
        'auth_tcp = "none"',
        'auth_tls = "none"',
        `key_file = "${pki.serverKey}"`,
        `cert_file = "${pki.serverCert}"`,
        `ca_file = "${pki.caCert}"`,
      ]
    : [];
  return [
    `unix_sock_dir = "${runtimeDir}"`,
    'auth_unix_rw = "none"',
    'auth_unix_ro = "none"',
    // The tests run as root and the daemon as nobody: let both use the socket.
    'unix_sock_rw_perms = "0777"',
    ...network,
    // Logs to a file in the temp dir, not to stderr (which the test runner would print).
    `log_outputs = "3:file:${join(dir, 'libvirtd.log')}"`,
    extra,
    '',
  ].join('\n');
}

/**
 * Ask the daemon for its auth methods (REMOTE_PROC_AUTH_LIST, the first call libvirt's client
 * makes) with a hand-made frame: proves the daemon's event loop serves calls, without needing
 * the client under test.
 */
function probeUnixSocket(socket: string, timeoutMs = 2_000): Promise<boolean> {
  const REMOTE_PROGRAM = 0x20008086;
  const REMOTE_PROC_AUTH_LIST = 66;
  const frame = Buffer.alloc(28);
  [28, REMOTE_PROGRAM, 1, REMOTE_PROC_AUTH_LIST, 0 /* CALL */, 1 /* serial */, 0 /* OK */].forEach((v, i) => frame.writeUInt32BE(v, i * 4));
  return new Promise((resolve) => {
    const conn = createConnection(socket);
    let got = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    conn.on('error', () => done(false));
    conn.on('connect', () => conn.write(frame));
    conn.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      // A reply (type 1) to our serial with status OK.
      if (got.length >= 28) done(got.readUInt32BE(12) === REMOTE_PROC_AUTH_LIST && got.readUInt32BE(16) === 1 && got.readUInt32BE(24) === 0);
    });
  });
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = createConnection({ host: '127.0.0.1', port });
    conn.on('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.on('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every daemon this process started, so a crashed test run does not leave them behind. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}

async function startOnce(options: StartLibvirtdOptions): Promise<RunningLibvirtd> {
  const dir = mkdtempSync(join(tmpdir(), 'xenvirt-libvirtd-'));
  const runtimeDir = join(dir, 'run');
  const home = join(dir, 'home');
  mkdirSync(runtimeDir);
  mkdirSync(home);
  const pki = await makeTestPki(join(dir, 'pki'));
  const [tcpPort, tlsPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'libvirtd.conf');
  const logFile = join(dir, 'libvirtd.log');
  const privileged = options.privileged === true;
  writeFileSync(conf, daemonConfig(dir, runtimeDir, pki, tcpPort, tlsPort, options.extraConfig, !privileged));

  const asRoot = process.getuid?.() === 0;
  const env = { HOME: home, XDG_RUNTIME_DIR: runtimeDir, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
  const daemonArgs = [...(privileged ? [] : ['--listen']), '-f', conf, '-p', join(dir, 'libvirtd.pid')];
  let command = LIBVIRTD_BINARY;
  let args = daemonArgs;
  if (privileged) {
    if (!asRoot) throw new Error('startLibvirtd({ privileged: true }) needs root');
    writeNamespaceAccounts(dir);
    chmodSync(dir, 0o755);
    // setpriv and unshare exec, sh execs libvirtd: the child's pid is the daemon's.
    command = '/usr/bin/setpriv';
    args = ['--pdeathsig', 'SIGKILL', '--', '/usr/bin/unshare', '--mount', '--net', '--propagation', 'private', '--',
      '/bin/sh', '-c', PRIVATE_NAMESPACE_SETUP, 'sh', dir, LIBVIRTD_BINARY, ...daemonArgs];
  } else if (asRoot) {
    chownTree(dir, idOf('passwd', DAEMON_USER), idOf('group', DAEMON_GROUP));
    chmodSync(dir, 0o755);
    const groups = options.kvm && existsSync('/dev/kvm') ? ['--groups', 'kvm'] : ['--clear-groups'];
    // setpriv execs libvirtd, so the child's pid is the daemon's; the daemon dies with us.
    command = '/usr/bin/setpriv';
    args = [`--reuid=${DAEMON_USER}`, `--regid=${DAEMON_GROUP}`, ...groups, '--pdeathsig', 'SIGKILL', '--', LIBVIRTD_BINARY, ...daemonArgs];
  }
  const out = openSync(join(dir, 'stderr.log'), 'a');
  const child = spawn(command, args, { env, stdio: ['ignore', out, out] });
  closeSync(out);
  running.add(child);
  killAllOnExit();
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitStatus = signal ? `killed by ${signal}` : `exited with ${code}`;
      running.delete(child);
      resolve();
    });
    child.once('error', (e) => {
      exitStatus = `could not be spawned: ${e.message}`;
      running.delete(child);
      resolve();
    });
  });

  const readLog = () =>
    ['stderr.log', 'libvirtd.log'].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '')).join('');
  const socket = join(runtimeDir, 'libvirt-sock');
  let stopped: Promise<void> | undefined;
  let netns: string | undefined;
  const daemon: RunningLibvirtd = {
    dir,
    socket,
    runtimeDir,
    host: '127.0.0.1',
    tcpPort,
    tlsPort,
    pki,
    pid: child.pid ?? -1,
    logFile,
    exited,
    uri(transport = 'unix', driverPath = 'test:///default') {
      const m = /^([a-z0-9]+):\/\/\/?(.*)$/i.exec(driverPath);
      if (!m) throw new Error(`not a driver URI: ${driverPath}`);
      const [, driver, path] = m;
      if (transport === 'unix') return `${driver}+unix:///${path}?socket=${socket}`;
      if (privileged) throw new Error('the privileged libvirtd listens on its unix socket only');
      if (transport === 'tcp') return `${driver}+tcp://127.0.0.1:${tcpPort}/${path}`;
      return `${driver}+tls://localhost:${tlsPort}/${path}?pkipath=${pki.dir}`;
    },
    log: readLog,
    kill(signal = 'SIGKILL') {
      if (exitStatus === undefined) child.kill(signal);
    },
    stop() {
      stopped ??= (async () => {
        // dnsmasq daemonizes out of libvirtd's reach and outlives it: end the whole namespace.
        const namespaceMembers = netns ? processesInNetns(netns).filter((p) => p !== child.pid) : [];
        if (exitStatus === undefined) {
          child.kill('SIGTERM');
          child.kill('SIGCONT'); // a SIGSTOPped daemon only sees SIGTERM once continued
          const bound = sleep(10_000).then(() => 'timeout' as const);
          if ((await Promise.race([exited, bound])) === 'timeout') {
            child.kill('SIGKILL');
            await exited;
          }
        }
        // Guests and helpers the daemon detached keep running without it: end them too.
        const leftovers = [...namespaceMembers, ...(netns ? processesInNetns(netns) : []), ...processesUsing(dir)];
        for (const pid of leftovers) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exitStatus !== undefined) {
      const log = readLog();
      await daemon.stop();
      throw new Error(`libvirtd ${exitStatus} before serving:\n${log}`);
    }
    const ports = privileged || ((await portAccepts(tcpPort)) && (await portAccepts(tlsPort)));
    if (existsSync(socket) && (await probeUnixSocket(socket)) && ports) {
      if (privileged) netns = readlinkSync(`/proc/${child.pid}/ns/net`);
      return daemon;
    }
    if (Date.now() > deadline) {
      const log = readLog();
      await daemon.stop();
      throw new Error(`libvirtd did not serve ${socket} and ports ${tcpPort}/${tlsPort} within ${options.readyTimeoutMs ?? 60_000} ms:\n${log}`);
    }
    await sleep(50);
  }
}

/**
 * Start a private libvirtd. Retries a few times because a free port found here can be taken
 * by another process before the daemon binds it.
 */
export async function startLibvirtd(options: StartLibvirtdOptions = {}): Promise<RunningLibvirtd> {
  let last: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      last = e as Error;
      if (!/Address already in use|bind/i.test(last.message)) throw last;
    }
  }
  throw last;
}
