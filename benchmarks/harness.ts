/**
 * Shared pieces of the benchmark runner: timing, statistics, the report table and JSON.
 *
 * Each case measures xenvirt and its C (or library) reference in the same run, so the
 * ratio is meaningful even though absolute numbers move between machines and runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Stats {
  n: number;
  median: number;
  p99: number;
  mean: number;
  /** What the numbers are: 'µs/op', 'ops/s', 'docs/s', … */
  unit: string;
}

export interface BenchRow {
  /** Suite the row belongs to (e.g. 'xenstore', 'convert'). */
  suite: string;
  /** What was measured (e.g. 'sequential read latency (C xenstored)'). */
  name: string;
  xenvirt: Stats;
  reference: Stats & { label: string };
  /**
   * xenvirt relative to the reference, oriented so that the goal text reads naturally:
   * for latencies xenvirt/reference (lower is better), for throughputs xenvirt/reference
   * (higher is better). `better` says which.
   */
  ratio: number;
  better: 'lower' | 'higher';
  goal?: string;
  note?: string;
}

export interface BenchCase {
  suite: string;
  /** Return rows, or a one-line reason the case cannot run on this machine. */
  run(): Promise<BenchRow[] | { skipped: string }>;
}

export function stats(samples: number[], unit: string): Stats {
  if (samples.length === 0) return { n: 0, median: NaN, p99: NaN, mean: NaN, unit };
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { n: s.length, median: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, unit };
}

/** Time `fn` once per sample; returns per-sample durations in microseconds. */
export async function sampleMicros(count: number, fn: () => unknown | Promise<unknown>): Promise<number[]> {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return out;
}

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : '-');

export function printRows(rows: BenchRow[]): void {
  const head = ['suite', 'case', 'xenvirt median', 'p99', 'reference', 'ref median', 'p99', 'ratio', 'goal'];
  const body = rows.map((r) => [
    r.suite,
    r.name,
    `${fmt(r.xenvirt.median)} ${r.xenvirt.unit}`,
    fmt(r.xenvirt.p99),
    r.reference.label,
    `${fmt(r.reference.median)} ${r.reference.unit}`,
    fmt(r.reference.p99),
    `${r.ratio.toFixed(2)} (${r.better} is better)`,
    r.goal ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

export function writeResults(name: string, rows: BenchRow[]): string {
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2) + '\n');
  return file;
}
