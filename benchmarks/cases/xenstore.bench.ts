/**
 * XenStore: xenvirt's client against libxenstore in C (benchmarks/xenstore/xsref.c,
 * built here with gcc against Debian's libxen-dev), on the same real daemon in the same
 * run, for both C xenstored and oxenstored:
 *   (1) sequential read latency, (2) 1000 reads pipelined vs one at a time,
 *   (3) directory of 1000 children (a 6000-byte list), (4) transaction of 100 writes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sampleMicros, stats, type BenchCase, type BenchRow, type Stats } from '../harness.js';
import { XenStore } from '../../lib/xenstore/index.js';
import { DAEMON_KINDS, DAEMON_NAMES, startXenstored, xenstoredUnavailable, type DaemonKind } from '../../test/helpers/xenstored.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const source = resolve(here, '../xenstore/xsref.c');

const N_SEQ = Number(process.env.XS_BENCH_SEQ ?? 20000);
const N_BATCH = Number(process.env.XS_BENCH_BATCH ?? 30);
const N_DIR = Number(process.env.XS_BENCH_DIR ?? 300);
const N_TX = Number(process.env.XS_BENCH_TX ?? 100);
/** Listings xenvirt keeps in flight for the directory throughput row. */
const DIR_DEPTH = 8;
/**
 * C and xenvirt take turns this many times (each turn a share of the samples), so a
 * change in machine load hits both sides alike.
 */
const ROUNDS = Number(process.env.XS_BENCH_ROUNDS ?? 3);
const share = (n: number) => Math.max(1, Math.ceil(n / ROUNDS));

type RefResult = Record<string, number[] | { failed: string }>;

async function buildReference(dir: string): Promise<string> {
  const out = join(dir, 'xsref');
  await run('gcc', ['-O2', '-Wall', '-o', out, source, '-lxenstore']);
  return out;
}

async function runReference(bin: string, socket: string): Promise<RefResult> {
  const { stdout } = await run(bin, [N_SEQ, N_BATCH, N_DIR, N_TX].map(share).map(String), {
    env: { ...process.env, XENSTORED_PATH: socket },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  const out: RefResult = {};
  for (const line of stdout.trim().split('\n')) {
    const [name, ...rest] = line.split(' ');
    out[name!] = rest[0] === 'FAILED' ? { failed: rest.slice(1).join(' ') } : rest.map(Number);
  }
  return out;
}

const refStats = (r: RefResult, name: string, unit: string): { stats: Stats; failed?: string } => {
  const v = r[name];
  if (v === undefined) return { stats: stats([], unit), failed: 'no result' };
  if (!Array.isArray(v)) return { stats: stats([], unit), failed: v.failed };
  return { stats: stats(v, unit) };
};

/** CPU time (ms) a process has used so far, from /proc (10 ms resolution). */
function cpuMillis(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

async function measureXenvirt(socket: string, daemonPid: number) {
  const xs = await XenStore.open({ path: socket });
  try {
    await xs.rm('/bench-x').catch(() => undefined);
    await xs.write('/bench-x/key', 'value-0123456789');
    for (let i = 0; i < 1000; i++) await xs.read('/bench-x/key');
    const seq = await sampleMicros(share(N_SEQ), () => xs.read('/bench-x/key'));

    const batch: number[] = [];
    const cpu0 = cpuMillis(daemonPid);
    const wall0 = process.hrtime.bigint();
    for (let b = 0; b < share(N_BATCH); b++) {
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: 1000 }, () => xs.read('/bench-x/key')));
      batch.push(1000 / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    // How busy the daemon was: when it is near 100%, pipelining has hit its ceiling.
    const daemonCpuMs = cpuMillis(daemonPid) - cpu0;
    const batchWallMs = Number(process.hrtime.bigint() - wall0) / 1e6;

    await xs.transaction(async (tx) => {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => tx.write(`/bench-x/dir/c${String(i).padStart(4, '0')}`, '')));
    });
    const check = await xs.directory('/bench-x/dir');
    if (check.length !== 1000) throw new Error(`directory returned ${check.length} children, not 1000`);
    const dirLatency = await sampleMicros(share(N_DIR), () => xs.directory('/bench-x/dir'));
    // Listings per second with DIR_DEPTH in flight, over N_DIR listings per sample.
    const dirRate: number[] = [];
    for (let s = 0; s < share(10); s++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N_DIR / DIR_DEPTH; i++) await Promise.all(Array.from({ length: DIR_DEPTH }, () => xs.directory('/bench-x/dir')));
      dirRate.push((Math.floor(N_DIR / DIR_DEPTH) * DIR_DEPTH) / (Number(process.hrtime.bigint() - t0) / 1e9));
    }

    // Changed before every listing (child c1000 added, then removed), as the C side does.
    let flip = 0;
    const dirChanged = await sampleMicros(share(N_DIR), async () => {
      const add = flip++ % 2 === 0;
      await (add ? xs.write('/bench-x/dir/c1000', '') : xs.rm('/bench-x/dir/c1000'));
      const n = (await xs.directory('/bench-x/dir')).length;
      if (n !== (add ? 1001 : 1000)) throw new Error(`directory returned ${n} children after a change`);
    });

    let k = 0;
    const tx = await sampleMicros(share(N_TX), () => {
      const v = String(k++);
      return xs.transaction((t) => Promise.all(Array.from({ length: 100 }, (_, i) => t.write(`/bench-x/tx/k${String(i).padStart(2, '0')}`, v))));
    });
    await xs.rm('/bench-x');
    return { seq, batch, dirLatency, dirRate, dirChanged, tx, daemonCpuMs, batchWallMs, batchReads: share(N_BATCH) * 1000 };
  } finally {
    await xs.close();
  }
}

function row(
  kind: DaemonKind,
  name: string,
  xenvirt: Stats,
  ref: { stats: Stats; failed?: string },
  better: 'lower' | 'higher',
  goal?: string,
  note?: string,
): BenchRow {
  const pick = (s: Stats) => s.median;
  return {
    suite: 'xenstore',
    name: `${name} (${DAEMON_NAMES[kind]})`,
    xenvirt,
    reference: { ...ref.stats, label: 'libxenstore (C)' },
    ratio: ref.failed ? NaN : pick(xenvirt) / pick(ref.stats),
    better,
    ...(goal ? { goal } : {}),
    ...(ref.failed || note ? { note: [ref.failed ? `libxenstore fails: ${ref.failed}` : '', note ?? ''].filter(Boolean).join('; ') } : {}),
  };
}

const xenstoreBench: BenchCase = {
  suite: 'xenstore',
  async run() {
    const kinds = DAEMON_KINDS.filter((k) => !xenstoredUnavailable(k));
    if (kinds.length === 0) return { skipped: DAEMON_KINDS.map((k) => `${DAEMON_NAMES[k]}: ${xenstoredUnavailable(k)}`).join('; ') };
    if (!existsSync('/usr/include/xenstore.h')) return { skipped: 'libxen-dev missing (no xenstore.h to build the C reference)' };
    const work = mkdtempSync(join(tmpdir(), 'xenvirt-xsbench-'));
    const rows: BenchRow[] = [];
    try {
      const bin = await buildReference(work);
      for (const kind of kinds) {
        const daemon = await startXenstored(kind);
        try {
          const ref: RefResult = {};
          let daemonCpuMs = 0;
          let batchWallMs = 0;
          let batchReads = 0;
          const x = { seq: [] as number[], batch: [] as number[], dirLatency: [] as number[], dirRate: [] as number[], dirChanged: [] as number[], tx: [] as number[] };
          for (let r = 0; r < ROUNDS; r++) {
            for (const [name, v] of Object.entries(await runReference(bin, daemon.socket))) {
              const have = ref[name];
              if (!Array.isArray(v)) ref[name] = v;
              else if (have === undefined) ref[name] = [...v];
              else if (Array.isArray(have)) have.push(...v);
            }
            const m = await measureXenvirt(daemon.socket, daemon.pid);
            for (const k of Object.keys(x) as (keyof typeof x)[]) x[k].push(...m[k]);
            daemonCpuMs += m.daemonCpuMs;
            batchWallMs += m.batchWallMs;
            batchReads += m.batchReads;
          }
          const seqRef = refStats(ref, 'seqread', 'µs/op');
          const xSeq = stats(x.seq, 'µs/op');
          rows.push(row(kind, 'sequential read latency p50', xSeq, seqRef, 'lower', '≤ 1.0', `p99 ratio ${(xSeq.p99 / seqRef.stats.p99).toFixed(2)}`));
          const busy = `${DAEMON_NAMES[kind]} busy ${((100 * daemonCpuMs) / batchWallMs).toFixed(0)}% of the time, ${((1000 * daemonCpuMs) / batchReads).toFixed(1)} µs CPU per read: ceiling ≈ ${Math.round(batchReads / (daemonCpuMs / 1000))} ops/s`;
          rows.push(row(kind, '1000 reads: pipelined vs one at a time', stats(x.batch, 'ops/s'), refStats(ref, 'batch1000', 'ops/s'), 'higher', '≥ 3', busy));
          const dirRef = refStats(ref, 'dir1000', 'µs/op');
          const refRate = dirRef.failed
            ? { stats: stats([], 'listings/s'), failed: dirRef.failed }
            : { stats: stats(((ref.dir1000 as number[]) ?? []).map((us) => 1e6 / us), 'listings/s') };
          rows.push(
            row(kind, `directory of 1000 children: ${DIR_DEPTH} in flight vs one at a time`, stats(x.dirRate, 'listings/s'), refRate, 'higher', '≥ 2, works on oxenstored'),
          );
          rows.push(
            row(kind, 'directory of 1000 children: one listing latency', stats(x.dirLatency, 'µs/op'), dirRef, 'lower', undefined, 'unchanged list: xenvirt revalidates by generation count'),
          );
          rows.push(
            row(kind, 'directory of 1000 children: add/remove a child, then list', stats(x.dirChanged, 'µs/op'), refStats(ref, 'dirchg', 'µs/op'), 'lower', undefined, 'full listing every time'),
          );
          rows.push(row(kind, 'transaction of 100 writes', stats(x.tx, 'µs/tx'), refStats(ref, 'tx100', 'µs/tx'), 'lower'));
        } finally {
          await daemon.stop();
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    // The shared table has no column for notes (they are in the JSON too).
    for (const r of rows) if (r.note) console.error(`bench: ${r.name}: ${r.note}`);
    return rows;
  },
};

export default xenstoreBench;
