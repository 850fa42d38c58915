/**
 * Starts Debian's real C xenstored or oxenstored as an ordinary process on a private
 * socket (tools/xenstored/start-xenstored.sh with the fakexen.c shim standing in for
 * the hypervisor), for tests and benchmarks.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(root, 'tools/xenstored/start-xenstored.sh');
const shimSource = join(root, 'tools/xenstored/fakexen.c');

export type DaemonKind = 'c' | 'ocaml';
export const DAEMON_KINDS: readonly DaemonKind[] = ['c', 'ocaml'];
export const DAEMON_NAMES: Record<DaemonKind, string> = { c: 'C xenstored', ocaml: 'oxenstored' };
const BINARIES: Record<DaemonKind, string> = {
  c: '/usr/lib/xen-4.17/bin/xenstored',
  ocaml: '/usr/lib/xen-4.17/bin/oxenstored',
};

/** Why this daemon cannot run here (undefined when it can). */
export function xenstoredUnavailable(kind: DaemonKind): string | undefined {
  if (process.platform !== 'linux') return 'xenstored runs on Linux only';
  if (!existsSync(BINARIES[kind])) return `${BINARIES[kind]} missing (apt-get install xen-utils-4.17; see .ci/setup.d/20-xenstored.sh)`;
  if (!existsSync('/usr/include/xenctrl.h')) return 'libxen-dev missing (needed to build the fakexen shim)';
  if (kind === 'ocaml' && process.getuid?.() !== 0) return 'oxenstored needs root for its private mount namespace';
  return undefined;
}

/** For describe.skipIf: in CI a missing daemon is a failure, elsewhere a skip. */
export function skipReason(kind: DaemonKind): string | undefined {
  const why = xenstoredUnavailable(kind);
  if (why && process.env.CI === 'true') {
    throw new Error(`CI=true but ${DAEMON_NAMES[kind]} cannot run: ${why}`);
  }
  if (why) console.warn(`skipping ${DAEMON_NAMES[kind]} tests: ${why}`);
  return why;
}

let shim: Promise<string> | undefined;
/** Compile the shim once per process. */
function buildShim(): Promise<string> {
  shim ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenvirt-fakexen-'));
    const out = join(dir, 'fakexen.so');
    await run('gcc', ['-O2', '-shared', '-fPIC', '-o', out, shimSource, '-ldl']);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return out;
  })();
  return shim;
}

export interface RunningXenstored {
  kind: DaemonKind;
  socket: string;
  rundir: string;
  pid: number;
  /** Send a signal without waiting (fault tests). */
  kill(signal?: NodeJS.Signals): void;
  /** Stop the daemon, wait for it to exit, remove its files. Idempotent. */
  stop(): Promise<void>;
}

/** Running (a zombie left for a parent that never reaps counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function startXenstored(kind: DaemonKind, extraEnv: Record<string, string> = {}): Promise<RunningXenstored> {
  const so = await buildShim();
  const rundir = mkdtempSync(join(tmpdir(), `xenvirt-xsd-${kind}-`));
  try {
    await run('sh', [script, kind, rundir], { env: { ...process.env, FAKEXEN_SO: so, ...extraEnv }, timeout: 30_000 });
  } catch (e) {
    const out = existsSync(join(rundir, 'xenstored.out')) ? readFileSync(join(rundir, 'xenstored.out'), 'utf8') : '';
    rmSync(rundir, { recursive: true, force: true });
    throw new Error(`could not start ${DAEMON_NAMES[kind]}: ${(e as Error).message}\n${out}`);
  }
  const pid = Number(readFileSync(join(rundir, 'xenstored.pid'), 'utf8').trim());
  let stopped: Promise<void> | undefined;
  return {
    kind,
    socket: join(rundir, 'socket'),
    rundir,
    pid,
    kill(signal = 'SIGKILL') {
      if (alive(pid)) process.kill(pid, signal);
    },
    stop() {
      stopped ??= (async () => {
        if (alive(pid)) process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
        if (alive(pid)) process.kill(pid, 'SIGKILL');
        rmSync(rundir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
