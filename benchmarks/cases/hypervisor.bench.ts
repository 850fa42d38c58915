/**
 * Hypervisor queries: xenvirt's XenHypercalls vs libxenctrl (C) in the same dom0 and
 * the same run. Only meaningful inside Xen's dom0: `npm run test:xen` runs it there.
 *
 * - getdomaininfolist: XenHypercalls.listDomains() (JS objects out) vs
 *   xc_domain_getinfolist(xch, 0, 256, buf) — the same 256-entry batch.
 * - getdomaininfo: XenHypercalls.domainInfo(0) vs xc_domain_getinfo_single (Xen 4.18
 *   on) or xc_domain_getinfo(xch, 0, 1, &info) (4.17), whichever the release's
 *   libxenctrl has (the C program says which).
 * - the split of our cost: the addon's lean getdomaininfo function alone (no decoding),
 *   the same through the class-method wrapper (the entry it replaced), and a bare system
 *   call with no hypercall (process.ppid vs the C program's getppid()): under emulation
 *   in a PV dom0 each kernel entry costs more from a big process than from a small C loop.
 * - event-loop hold: how long each synchronous XenHypercalls call keeps the JS thread
 *   (one call per sample, median and p99), against one C getdomaininfo hypercall. These
 *   back the "sync or off the loop" choice documented in lib/hypervisor/index.ts.
 * Each sample is the mean of PER_SAMPLE back-to-back calls on both sides (the clock
 * itself is a system call in a Xen PV dom0), and rounds alternate between the two
 * sides so drift under emulation hits both. Row names carry the Xen release: run.sh
 * runs this once per release and merges the results.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { sampleMicros, stats, type BenchCase, type BenchRow } from '../harness.js';
import { XenHypercalls } from '../../lib/hypervisor/index.js';
import { DOMAIN_RECORD_LEN, openNativeHypervisor, type NativeHypervisor } from '../../lib/hypervisor/native-hypervisor.js';

const run = promisify(execFile);
const ITER = Number(process.env.XENVIRT_HV_BENCH_ITER ?? 200);
const PER_SAMPLE = 20;
const ROUNDS = 2;
const BATCH = 256;

async function referenceBinary(): Promise<string | { skipped: string }> {
  const given = process.env.XENVIRT_XC_BENCH;
  if (given && existsSync(given)) return given;
  if (!existsSync('/usr/include/xenctrl.h')) return { skipped: 'libxenctrl headers (libxen-dev) not installed for the C reference' };
  const src = resolve(fileURLToPath(import.meta.url), '../../hypervisor/xc-domaininfo.c');
  const out = join(mkdtempSync(join(tmpdir(), 'xenvirt-bench-')), 'xc-domaininfo');
  await run('gcc', ['-O2', '-o', out, src, '-lxenctrl']);
  return out;
}

const hypervisor: BenchCase = {
  suite: 'hypervisor',
  async run() {
    if (!existsSync('/dev/xen/privcmd')) return { skipped: 'not in a Xen dom0 (no /dev/xen/privcmd); `npm run test:xen` runs this inside one' };
    const bin = await referenceBinary();
    if (typeof bin !== 'string') return bin;
    const hv = XenHypercalls.open();
    let raw: NativeHypervisor | undefined;
    try {
      const v = hv.version();
      const release = `Xen ${v.major}.${v.minor}`;
      let api = 'xc_domain_getinfo';
      const ref = { list: [] as number[], one: [] as number[], sys: [] as number[] };
      const ours = { list: [] as number[], one: [] as number[], raw: [] as number[], wrapped: [] as number[], sys: [] as number[] };
      // The addon call alone (no decoding into an object): splits our cost between the
      // N-API boundary and the JavaScript side.
      raw = openNativeHypervisor();
      raw.bindRecord(new Float64Array(DOMAIN_RECORD_LEN));
      const rawInfo = raw.domainInfoFn?.() ?? ((d: number) => raw!.domainInfo(d));
      let domains = 0;
      // warm-up of our side (JIT, lazily allocated list buffer)
      for (let i = 0; i < 200; i++) {
        hv.listDomains();
        hv.domainInfo(0);
      }
      for (let r = 0; r < ROUNDS; r++) {
        const { stdout } = await run(bin, [String(ITER), String(PER_SAMPLE), String(BATCH), '0'], { maxBuffer: 64 << 20 });
        const c = JSON.parse(stdout) as { api?: string; domains: number; getinfolist: number[]; getinfo: number[]; syscall?: number[] };
        api = c.api ?? api;
        ref.list.push(...c.getinfolist);
        ref.one.push(...c.getinfo);
        ref.sys.push(...(c.syscall ?? []));
        domains = c.domains;
        const perCall = (us: number[]) => us.map((u) => u / PER_SAMPLE);
        for (let i = 0; i < ITER; i += 20) {
          ours.list.push(...perCall(await sampleMicros(20, () => { for (let j = 0; j < PER_SAMPLE; j++) hv.listDomains(); })));
          ours.one.push(...perCall(await sampleMicros(20, () => { for (let j = 0; j < PER_SAMPLE; j++) hv.domainInfo(0); })));
          ours.raw.push(...perCall(await sampleMicros(20, () => { for (let j = 0; j < PER_SAMPLE; j++) rawInfo(0); })));
          ours.wrapped.push(...perCall(await sampleMicros(20, () => { for (let j = 0; j < PER_SAMPLE; j++) raw!.domainInfo(0); })));
          ours.sys.push(...perCall(await sampleMicros(20, () => { for (let j = 0; j < PER_SAMPLE; j++) void process.ppid; })));
        }
      }
      // Single calls as the event loop sees them: the whole synchronous call, once.
      // The first row times nothing: reading the clock is itself a system call in a PV
      // dom0 (~0.1-0.2 ms under emulation), so subtract it from the others.
      const holds: Array<[string, () => unknown]> = [
        ['nothing (the clock itself)', () => undefined],
        ['domainInfo(0)', () => hv.domainInfo(0)],
        [`listDomains() (${hv.listDomainIds().length} domains)`, () => hv.listDomains()],
        [`getVcpus(0) (${hv.domainInfo(0).nrVirtCpu} vcpus)`, () => hv.getVcpus(0)],
        ['nodeInfo()', () => hv.nodeInfo()],
        ['version()', () => hv.version()],
        ['getSchedulerParams(0)', () => hv.getSchedulerParams(0)],
      ];
      // (getVcpus returns a promise: its hold is the part before the pool takes over)
      const held: Array<readonly [string, number[]]> = [];
      for (const [name, fn] of holds) {
        for (let i = 0; i < 50; i++) await fn();
        const us: number[] = [];
        for (let i = 0; i < ITER; i++) {
          const t0 = process.hrtime.bigint();
          const p = fn();
          us.push(Number(process.hrtime.bigint() - t0) / 1000);
          await p;
        }
        held.push([name, us]);
      }
      const row = (name: string, x: number[], y: number[], label: string, goal = '≤ 1.1'): BenchRow => {
        const a = stats(x, 'µs/op');
        const b = stats(y, 'µs/op');
        return {
          suite: 'hypervisor',
          name: `${name}, ${release}`,
          xenvirt: a,
          reference: { ...b, label },
          ratio: a.median / b.median,
          better: 'lower',
          goal,
          note: `${domains} domain(s); mean of ${PER_SAMPLE} calls per sample; ${hv.interfaceInfo().hypercallBuffers} buffers`,
        };
      };
      return [
        row(`getdomaininfolist (${domains} domains, batch ${BATCH})`, ours.list, ref.list, 'xc_domain_getinfolist'),
        row('getdomaininfo (dom0)', ours.one, ref.one, api),
        row('getdomaininfo (dom0), addon call only, no decoding', ours.raw, ref.one, api, 'info'),
        row('getdomaininfo (dom0), addon call through the class-method wrapper (before)', ours.wrapped, ref.one, api, 'info'),
        ...(ref.sys.length > 0 ? [row('a bare system call: process.ppid vs getppid()', ours.sys, ref.sys, 'getppid()', 'info')] : []),
        ...held.map(([name, us]) => row(`event-loop hold: ${name}`, us, ref.one, `one ${api} call`, 'info')),
      ];
    } finally {
      hv.close();
      raw?.close();
    }
  },
};
export default hypervisor;
