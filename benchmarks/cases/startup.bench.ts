/**
 * CLI start-up: whole `xenvirt` processes against `node -e 0` (node's own start-up) on
 * the same machine, in the same run, interleaved round by round. Goal from issue 15: at
 * most 1.5× node's own start-up. Runs the built CLI (bin/xenvirt.js loads dist/), as a
 * user would, with its V8 code cache warm (a private cache directory, filled by the
 * warm-up rounds); one row without the cache shows what the cache is worth.
 *
 * Rows: `list` on test:///default, `help`, and a xen:/// open — on a host without Xen it
 * runs as far as it goes (the Xen driver, the native addon and every sub-driver module
 * load, the open answers VIR_ERR_NO_XEN), in dom0 it lists for real.
 *
 * The environment is cleaned of NODE_OPTIONS and NODE_EXTRA_CA_CERTS: node reads and
 * parses the extra CA file at start-up (~70 ms on the development machine, which sets
 * it), a constant that would hide our own cost in every ratio.
 *
 * Each row: the ratio of medians (wall time), the spread of the per-round ratios
 * (quartiles), and the ratio of mean CPU time (user + system; steadier on a loaded host).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stats, type BenchCase, type BenchRow } from '../harness.js';
import { timeProcesses, type TimedCommand } from '../process-time.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const ROUNDS = Number(process.env.XENVIRT_STARTUP_ROUNDS ?? 30);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const startup: BenchCase = {
  suite: 'startup',
  async run() {
    if (!existsSync(resolve(root, 'dist/cli.cjs'))) return { skipped: 'dist/ is not built (npx tsup)' };
    const bin = resolve(root, 'bin/xenvirt.js');
    const cacheDir = mkdtempSync(join(tmpdir(), 'xenvirt-startup-bench-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, XENVIRT_DEFAULT_URI: '', XENVIRT_CODE_CACHE_DIR: cacheDir };
      delete env.NODE_OPTIONS;
      delete env.NODE_EXTRA_CA_CERTS;
      const cmds: TimedCommand[] = [
        { label: 'node', argv: [process.execPath, '-e', '0'], env },
        { label: 'list', argv: [process.execPath, bin, '-c', 'test:///default', 'list'], env },
        { label: 'help', argv: [process.execPath, bin, 'help'], env },
        { label: 'xen', argv: [process.execPath, bin, '-c', 'xen:///', 'list', '--all'], env, expectFailure: /\(VIR_ERR_NO_XEN\)/ },
        { label: 'list-nocache', argv: [process.execPath, bin, '-c', 'test:///default', 'list'], env: { ...env, XENVIRT_CODE_CACHE: '0' } },
      ];
      timeProcesses(cmds, 2); // warm the page cache and write the code cache
      const cpu = new Map<string, number[]>();
      const t = timeProcesses(cmds, ROUNDS, 120_000, { count: 0 }, cpu);
      const nodeWall = t.get('node')!;
      const node = stats(nodeWall, 'ms/process');
      const row = (name: string, label: string): BenchRow => {
        const wall = t.get(label)!;
        const x = stats(wall, 'ms/process');
        const perRound = wall.map((ms, i) => ms / nodeWall[i]!);
        const cpuX = cpu.get(label);
        const cpuNode = cpu.get('node');
        const cpuRatio = cpuX && cpuNode && mean(cpuNode) > 0 ? (mean(cpuX) / mean(cpuNode)).toFixed(2) : 'n/a';
        return {
          suite: 'startup',
          name,
          xenvirt: x,
          reference: { ...node, label: 'node -e 0' },
          ratio: x.median / node.median,
          better: 'lower',
          goal: '≤ 1.5',
          note: `per-round ratio quartiles ${quantile(perRound, 0.25).toFixed(2)}–${quantile(perRound, 0.75).toFixed(2)}; CPU-time ratio ${cpuRatio}`,
        };
      };
      const rows = [
        row('xenvirt -c test:///default list (process)', 'list'),
        row('xenvirt help (process)', 'help'),
        row('xenvirt -c xen:/// list --all (process; on a host without Xen: up to VIR_ERR_NO_XEN)', 'xen'),
        row('xenvirt -c test:///default list, no code cache (process)', 'list-nocache'),
      ];
      for (const r of rows) console.log(`startup: ${r.name}: ${r.note}`); // the table has no column for it
      return rows;
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  },
};
export default startup;
