/**
 * Wall time of whole processes (start-up included), for the benchmarks that compare
 * commands: each round runs every command once, in turn, so load drift hits all alike.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface TimedCommand {
  label: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * An expected failure: exit status 1 with stderr matching this counts as a run (e.g. a
   * xen:/// open on a host without Xen, timed up to the point where it answers NO_XEN).
   */
  expectFailure?: RegExp;
}

/** A process that died of a signal: under emulation dom0 userland crashes now and then. */
const crashed = (status: number | null, signal: NodeJS.Signals | null) => signal !== null || (status !== null && status > 128);

/**
 * CPU time (user + system, ms) of this process's reaped children so far, from
 * /proc/self/stat (cutime, cstime); undefined where there is no /proc. Clock ticks are
 * USER_HZ, 100 on Linux: 10 ms per tick, so only sums over many runs mean anything.
 */
export function childrenCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return (Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Per-command samples in milliseconds, `rounds` each; throws if a command fails. A run
 * killed by a signal is retried once (`crashes` counts them) and only a second crash in a
 * row is an error, so one infrastructure hiccup does not sink a whole benchmark.
 * `cpu`, when given, gets each command's CPU time per run (see childrenCpuMs).
 */
export function timeProcesses(
  commands: TimedCommand[],
  rounds: number,
  timeoutMs = 120_000,
  crashes = { count: 0 },
  cpu?: Map<string, number[]>,
): Map<string, number[]> {
  const out = new Map(commands.map((c) => [c.label, [] as number[]]));
  for (let r = 0; r < rounds; r++) {
    for (const c of commands) {
      for (let attempt = 1; ; attempt++) {
        const cpu0 = cpu ? childrenCpuMs() : undefined;
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
        const expectedFailure = c.expectFailure !== undefined && res.status === 1 && c.expectFailure.test(String(res.stderr));
        if (res.status !== 0 && !expectedFailure) {
          throw new Error(`${c.label}: exit ${res.status ?? res.signal}: ${String(res.stderr).trim().slice(0, 500)}`);
        }
        out.get(c.label)!.push(ms);
        const cpu1 = cpu0 === undefined ? undefined : childrenCpuMs();
        if (cpu && cpu0 !== undefined && cpu1 !== undefined) cpu.set(c.label, [...(cpu.get(c.label) ?? []), cpu1 - cpu0]);
        break;
      }
    }
  }
  return out;
}
