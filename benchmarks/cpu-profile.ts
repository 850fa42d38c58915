/**
 * Where the time went, from a V8 CPU profile (`node --cpu-prof`, or the inspector's
 * Profiler in-process): self time summed per function and per script, top entries first.
 * The peers benchmark records these next to its rows so a missed goal comes with its
 * measured reason.
 */
import { Session } from 'node:inspector/promises';
import { basename } from 'node:path';

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** [label, ms, share of total] */
  byFunction: [string, number, number][];
  byScript: [string, number, number][];
}

const scriptOf = (url: string) => (url ? basename(url.replace(/^file:\/\//, '')) : '(native/VM)');

export function summarizeProfile(p: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const script = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!);
    const us = p.timeDeltas[i] ?? 0;
    if (!n) continue;
    total += us;
    const f = n.callFrame;
    const label = `${f.functionName || '(anonymous)'} ${scriptOf(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fn.set(label, (fn.get(label) ?? 0) + us);
    script.set(scriptOf(f.url), (script.get(scriptOf(f.url)) ?? 0) + us);
  }
  const rank = (m: Map<string, number>): [string, number, number][] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => [k, us / 1000, total ? us / total : 0]);
  return { totalMs: total / 1000, byFunction: rank(fn), byScript: rank(script) };
}

/** Profile `fn` in this process with V8's sampling profiler. */
export async function profileInProcess(fn: () => Promise<void>, intervalUs = 200): Promise<CpuProfile> {
  const s = new Session();
  s.connect();
  try {
    await s.post('Profiler.enable');
    await s.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await s.post('Profiler.start');
    await fn();
    const { profile } = (await s.post('Profiler.stop')) as { profile: CpuProfile };
    return profile;
  } finally {
    s.disconnect();
  }
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const line = ([k, ms, share]: [string, number, number]) => `  ${ms.toFixed(1).padStart(9)} ms ${(share * 100).toFixed(1).padStart(5)}%  ${k}`;
  return [`${title} (${s.totalMs.toFixed(0)} ms sampled)`, ' by script:', ...s.byScript.map(line), ' by function:', ...s.byFunction.map(line), ''].join('\n');
}
