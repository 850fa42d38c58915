/**
 * Wall time of whole processes (start-up included), for the benchmarks that compare
 * commands: each round runs every command once, in turn, so load drift hits all alike.
 */
import { spawnSync } from 'node:child_process';

export interface TimedCommand {
  label: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

/** A process that died of a signal: under emulation dom0 userland crashes now and then. */
const crashed = (status: number | null, signal: NodeJS.Signals | null) => signal !== null || (status !== null && status > 128);

/**
 * Per-command samples in milliseconds, `rounds` each; throws if a command fails. A run
 * killed by a signal is retried once (`crashes` counts them) and only a second crash in a
 * row is an error, so one infrastructure hiccup does not sink a whole benchmark.
 */
export function timeProcesses(commands: TimedCommand[], rounds: number, timeoutMs = 120_000, crashes = { count: 0 }): Map<string, number[]> {
  const out = new Map(commands.map((c) => [c.label, [] as number[]]));
  for (let r = 0; r < rounds; r++) {
    for (const c of commands) {
      for (let attempt = 1; ; attempt++) {
        const t0 = process.hrtime.bigint();
        const res = spawnSync(c.argv[0]!, c.argv.slice(1), {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: c.env ?? process.env,
          timeout: timeoutMs,
          maxBuffer: 16 << 20,
        });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (res.error) throw new Error(`${c.label}: ${res.error.message}`);
        if (crashed(res.status, res.signal) && attempt === 1) {
          crashes.count++;
          continue;
        }
        if (res.status !== 0) {
          throw new Error(`${c.label}: exit ${res.status ?? res.signal}: ${String(res.stderr).trim().slice(0, 500)}`);
        }
        out.get(c.label)!.push(ms);
        break;
      }
    }
  }
  return out;
}
