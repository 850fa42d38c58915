/**
 * Remote driver: xenvirt's pure-TypeScript client of libvirt's RPC protocol against
 * libvirt's own C client (benchmarks/remote/libvirt-client.c, built here on libvirt-dev),
 * on the same private libvirtd (test/helpers/libvirtd.ts, test:///default) in the same run,
 * the two sides taking turns. Over the unix socket:
 *   (1) one getInfo round trip, (2) 1000 getInfos in flight at once vs C one at a time,
 *   (3) the same vs C with THREADS threads on one connection, (4) connect + open;
 * over TLS (throw-away CA, 127.0.0.1): (5) one getInfo round trip, (6) connect + open.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from '../../lib/index.js';
import { sampleMicros, stats, type BenchCase, type BenchRow, type Stats } from '../harness.js';
import { libvirtdUnavailable, startLibvirtd } from '../../test/helpers/libvirtd.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const source = resolve(here, '../remote/libvirt-client.c');

const N_ONE = Number(process.env.REMOTE_BENCH_ONE ?? 3000);
const N_BATCH = Number(process.env.REMOTE_BENCH_BATCH ?? 15);
const N_CONNECT = Number(process.env.REMOTE_BENCH_CONNECT ?? 60);
const THREADS = Number(process.env.REMOTE_BENCH_THREADS ?? 4);
/** C and xenvirt take turns this many times, so a change in machine load hits both alike. */
const ROUNDS = Number(process.env.REMOTE_BENCH_ROUNDS ?? 3);
const share = (n: number) => Math.max(1, Math.ceil(n / ROUNDS));
const DOMAIN = 'test'; // test:///default's running domain
/**
 * libvirtd serves at most max_client_requests (default 5) calls of one connection at a
 * time; REMOTE_BENCH_MAX_CLIENT_REQUESTS raises it to see what that limit costs.
 */
const MAX_CLIENT_REQUESTS = process.env.REMOTE_BENCH_MAX_CLIENT_REQUESTS || undefined;

type Samples = Record<'getinfo' | 'seq1000' | 'thread1000' | 'connect', number[]>;
const empty = (): Samples => ({ getinfo: [], seq1000: [], thread1000: [], connect: [] });

async function buildReference(dir: string): Promise<string> {
  const out = join(dir, 'libvirt-client');
  const { stdout } = await run('pkg-config', ['--cflags', '--libs', 'libvirt']);
  await run('gcc', ['-O2', '-Wall', '-pthread', '-o', out, source, ...stdout.trim().split(/\s+/)]);
  return out;
}

async function runReference(bin: string, uri: string, into: Samples): Promise<void> {
  const { stdout } = await run(bin, [uri, DOMAIN, share(N_ONE), share(N_BATCH), THREADS, share(N_CONNECT)].map(String), {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  for (const line of stdout.trim().split('\n')) {
    const [name, ...rest] = line.split(' ');
    if (rest[0] === 'FAILED') throw new Error(`libvirt's C client failed at ${name}: ${rest.slice(1).join(' ')}`);
    if (name && name in into) into[name as keyof Samples].push(...rest.map(Number));
  }
}

/** CPU time (ms) a process has used so far, from /proc (10 ms resolution). */
function cpuMillis(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

async function measureXenvirt(uri: string, daemonPid: number, into: Samples) {
  const conn = await connect(uri);
  let daemonCpuMs = 0;
  let ownCpuMs = 0;
  let batchWallMs = 0;
  try {
    const dom = await conn.lookupDomainByName(DOMAIN);
    const info = await dom.getInfo();
    if (info.state === undefined) throw new Error('getInfo returned no state');
    for (let i = 0; i < 200; i++) await dom.getInfo(); // warm-up (JIT), as the C side does
    into.getinfo.push(...(await sampleMicros(share(N_ONE), () => dom.getInfo())));
    const cpu0 = cpuMillis(daemonPid);
    const ownCpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    for (let b = 0; b < share(N_BATCH); b++) {
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: 1000 }, () => dom.getInfo()));
      into.seq1000.push(1000 / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    // How busy the daemon was: near 100% of one core, concurrency has hit its ceiling.
    daemonCpuMs = cpuMillis(daemonPid) - cpu0;
    const own = process.cpuUsage(ownCpu0);
    ownCpuMs = (own.user + own.system) / 1000;
    batchWallMs = Number(process.hrtime.bigint() - wall0) / 1e6;
  } finally {
    await conn.close();
  }
  for (let i = 0; i < share(N_CONNECT); i++) {
    const t0 = process.hrtime.bigint();
    const c = await connect(uri);
    into.connect.push(Number(process.hrtime.bigint() - t0) / 1000);
    await c.close(); // untimed, as in C
  }
  return { daemonCpuMs, ownCpuMs, batchWallMs };
}

function row(name: string, xenvirt: Stats, reference: Stats, label: string, better: 'lower' | 'higher', goal?: string, note?: string): BenchRow {
  return {
    suite: 'remote',
    name,
    xenvirt,
    reference: { ...reference, label },
    ratio: xenvirt.median / reference.median,
    better,
    ...(goal ? { goal } : {}),
    ...(note ? { note } : {}),
  };
}

const remoteBench: BenchCase = {
  suite: 'remote',
  async run() {
    const why = libvirtdUnavailable();
    if (why) return { skipped: why };
    if (!existsSync('/usr/include/libvirt/libvirt.h')) return { skipped: 'libvirt-dev missing (no libvirt.h to build the C reference)' };
    const work = mkdtempSync(join(tmpdir(), 'xenvirt-remotebench-'));
    const daemon = await startLibvirtd(MAX_CLIENT_REQUESTS ? { extraConfig: `max_client_requests = ${Number(MAX_CLIENT_REQUESTS)}` } : {});
    try {
      const bin = await buildReference(work);
      const uri = daemon.uri('unix');
      const tlsUri = daemon.uri('tls');
      const ref = empty();
      const ours = empty();
      const refTls = empty();
      const oursTls = empty();
      let daemonCpuMs = 0;
      let ownCpuMs = 0;
      let batchWallMs = 0;
      for (let r = 0; r < ROUNDS; r++) {
        await runReference(bin, uri, ref);
        const m = await measureXenvirt(uri, daemon.pid, ours);
        daemonCpuMs += m.daemonCpuMs;
        ownCpuMs += m.ownCpuMs;
        batchWallMs += m.batchWallMs;
        await runReference(bin, tlsUri, refTls);
        await measureXenvirt(tlsUri, daemon.pid, oursTls);
      }
      const C = "libvirt's C client";
      const one = stats(ours.getinfo, 'µs/op');
      const refOne = stats(ref.getinfo, 'µs/op');
      const conc = stats(ours.seq1000, 'calls/s');
      const pct = (ms: number) => `${((100 * ms) / batchWallMs).toFixed(0)}%`;
      const busy =
        `during xenvirt's concurrent batches libvirtd used ${pct(daemonCpuMs)} and node ${pct(ownCpuMs)} of one core; ` +
        `max_client_requests ${MAX_CLIENT_REQUESTS ?? '5 (libvirtd default)'}`;
      const rows = [
        row('one getInfo round trip (unix socket)', one, refOne, C, 'lower', '≤ 1.0', `p99 ratio ${(one.p99 / refOne.p99).toFixed(2)}`),
        row('1000 getInfos: all in flight vs C one at a time', conc, stats(ref.seq1000, 'calls/s'), C, 'higher', '≥ 3', busy),
        row(`1000 getInfos: all in flight vs C with ${THREADS} threads`, conc, stats(ref.thread1000, 'calls/s'), `${C}, ${THREADS} threads`, 'higher', 'report'),
        row('connect + open (unix socket)', stats(ours.connect, 'µs/op'), stats(ref.connect, 'µs/op'), C, 'lower', '≤ 1.0'),
        row('one getInfo round trip (TLS)', stats(oursTls.getinfo, 'µs/op'), stats(refTls.getinfo, 'µs/op'), C, 'lower', '≤ 1.0'),
        row('connect + open (TLS, handshake and verdict)', stats(oursTls.connect, 'µs/op'), stats(refTls.connect, 'µs/op'), C, 'lower', '≤ 1.0'),
      ];
      for (const r of rows) if (r.note) console.error(`bench: ${r.name}: ${r.note}`);
      return rows;
    } finally {
      await daemon.stop();
      rmSync(work, { recursive: true, force: true });
    }
  },
};

export default remoteBench;
