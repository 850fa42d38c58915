/**
 * xenvirt against what users pick instead, in one Xen dom0 and one run (issue 15):
 * libvirt 9.0.0 with its libxl driver (libvirtd, called from a small C client and through
 * virsh) and xl. Only meaningful inside a Xen dom0: `npm run test:xen` runs it there, and
 * it is self-contained: it starts libvirtd (test/xen/libvirt-in-dom0.sh), creates a guest
 * through libvirt (libvirt sees only the domains it made; xenvirt sees all), waits for the
 * guest's first console line (a booting guest slows every process in dom0), measures, and
 * tears both down.
 *
 * Rows (ratios only; lower is better, the note gives the speed-up):
 * - API, per call: getInfo, listAllDomains, list-with-info (listAllDomains({ withInfo })
 *   then getInfo on each, against virConnectListAllDomains + virDomainGetInfo on each),
 *   list then getInfo each without withInfo (what callers did before), lookup by name.
 *   Rounds alternate between the two sides so drift under emulation hits both.
 * - Processes: `xenvirt -c xen:/// list --all` against `virsh list --all`, `xl list` and
 *   `node -e 0` (node's own start-up, the floor of any node CLI); `xenvirt help` and a
 *   test:/// list split a CLI process's time into node, loading the CLI, and Xen.
 * It also writes CPU profiles' summaries (benchmarks/results/peers-profile.txt): the API
 * loops profiled in-process, and one `xenvirt list --all` process under --cpu-prof.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { sampleMicros, stats, type BenchCase, type BenchRow, type Stats } from '../harness.js';
import { timeProcesses } from '../process-time.js';
import { formatSummary, profileInProcess, summarizeProfile, type CpuProfile } from '../cpu-profile.js';
import { connect, type Connection } from '../../lib/index.js';

const run = promisify(execFile);
const root = resolve(fileURLToPath(import.meta.url), '../../..');
const ITER = Number(process.env.XENVIRT_PEERS_ITER ?? 40);
const ROUNDS = 2;
/**
 * Calls of each xenvirt operation before timing (was 10): a dashboard or daemon lists
 * over and over, so xenvirt is measured at steady state (V8 tiered up, name cache
 * warm); the C client has no JIT to warm and libvirtd's state is warm from the guest's
 * creation.
 */
const WARMUP = Number(process.env.XENVIRT_PEERS_WARMUP ?? 150);
const PROCESS_ROUNDS = Number(process.env.XENVIRT_PEERS_PROCESS_ROUNDS ?? 3);
const LIBVIRT_URI = 'xen:///system';
const LIBVIRT_LABEL = 'libvirt 9.0.0 libxl (C client)';

const say = (s: string) => console.error(`bench peers: ${s}`);

async function sh(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  const { stdout } = await run(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
  return stdout;
}

/** Run once more if the first attempt died of a signal (dom0 userland crash under emulation). */
async function withOneRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = e as { signal?: string; code?: number | string };
    if (!err.signal && !(typeof err.code === 'number' && err.code > 128)) throw e;
    say(`${what} crashed (${err.signal ?? err.code}); retrying once`);
    return fn();
  }
}

async function buildClient(dir: string): Promise<string> {
  const given = process.env.XENVIRT_PEERS_CLIENT;
  if (given && existsSync(given)) return given;
  const out = join(dir, 'libvirt-peer');
  await sh('gcc', ['-O2', '-o', out, resolve(root, 'benchmarks/peers/libvirt-peer.c'), '-lvirt'], 300_000);
  return out;
}

function guestXML(name: string): string {
  const kernel = process.env.XQ_GUEST_KERNEL;
  const initrd = process.env.XQ_GUEST_INITRD;
  if (!kernel || !initrd) throw new Error('XQ_GUEST_KERNEL / XQ_GUEST_INITRD are not set (boot-dom0.sh provides them)');
  return `<domain type='xen'>
  <name>${name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type>linux</type><kernel>${kernel}</kernel><initrd>${initrd}</initrd><cmdline>console=hvc0 xq.role=domu quiet</cmdline></os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices><console type='pty'><target type='xen' port='0'/></console></devices>
</domain>
`;
}

async function waitForConsoleLine(name: string, timeoutMs: number): Promise<number> {
  const log = `/var/log/xen/console/guest-${name}.log`;
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (existsSync(log) && /XQ-DOMU/.test(readFileSync(log, 'utf8'))) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`guest ${name} printed nothing on its console (${log}) within ${timeoutMs / 1000} s`);
}

interface ClientSamples {
  domains: number;
  getinfo: number[];
  list: number[];
  listinfo: number[];
  lookup: number[];
}

type Op = 'getinfo' | 'list' | 'listinfo' | 'listthen' | 'lookup';

/** xenvirt's side of each API row, on an open xen:/// connection. */
function xenvirtOps(conn: Connection, guest: string): Record<Op, () => Promise<unknown>> {
  let dom: Awaited<ReturnType<Connection['lookupDomainByName']>> | undefined;
  return {
    getinfo: async () => {
      dom ??= await conn.lookupDomainByName(guest);
      return dom.getInfo();
    },
    list: () => conn.listAllDomains(),
    listinfo: async () => Promise.all((await conn.listAllDomains({ withInfo: true })).map((d) => d.getInfo())),
    listthen: async () => Promise.all((await conn.listAllDomains()).map((d) => d.getInfo())),
    lookup: () => conn.lookupDomainByName(guest),
  };
}

function row(name: string, x: number[], c: number[], goal?: string, note?: string): BenchRow {
  const xs: Stats = stats(x, 'µs/op');
  const cs: Stats = stats(c, 'µs/op');
  const speedup = cs.median / xs.median;
  return {
    suite: 'peers',
    name,
    xenvirt: xs,
    reference: { ...cs, label: LIBVIRT_LABEL },
    ratio: xs.median / cs.median,
    better: 'lower',
    ...(goal ? { goal } : {}),
    note: `xenvirt ${speedup.toFixed(1)}× faster${note ? `; ${note}` : ''}`,
  };
}

function processRow(name: string, x: number[], refLabel: string, ref: number[], goal?: string): BenchRow {
  const xs = stats(x, 'ms/process');
  const rs = stats(ref, 'ms/process');
  return {
    suite: 'peers',
    name,
    xenvirt: xs,
    reference: { ...rs, label: refLabel },
    ratio: xs.median / rs.median,
    better: 'lower',
    ...(goal ? { goal } : {}),
    note: `xenvirt ${(rs.median / xs.median).toFixed(2)}× as fast`,
  };
}

const peers: BenchCase = {
  suite: 'peers',
  async run() {
    if (!existsSync('/dev/xen/privcmd')) return { skipped: 'not in a Xen dom0 (no /dev/xen/privcmd); `npm run test:xen` runs this inside one' };
    const cli = resolve(root, 'dist/cli.cjs');
    if (!existsSync(cli)) throw new Error('dist/ is not built: run `npx tsup` (or `npm test`, which builds it) before the benchmark');
    for (const t of ['virsh', 'libvirtd', 'xl', 'gcc']) {
      await sh('sh', ['-c', `command -v ${t}`], 10_000).catch(() => {
        throw new Error(`${t} is missing in dom0 (install the host's packages with .ci/setup.d/35-libvirt-xen.sh)`);
      });
    }
    const work = mkdtempSync(join(tmpdir(), 'xenvirt-peers-'));
    const client = await buildClient(work);
    const libvirtScript = resolve(root, 'test/xen/libvirt-in-dom0.sh');
    say('starting libvirtd');
    await withOneRetry('libvirt start', () => sh('bash', [libvirtScript, 'start'], 180_000));
    const guest = `xenvirt-peer-${process.pid}`;
    const xmlFile = join(work, 'guest.xml');
    writeFileSync(xmlFile, guestXML(guest));
    let conn: Connection | undefined;
    try {
      say(`creating ${guest} through libvirt`);
      await withOneRetry('virsh create', () => sh('virsh', ['-q', '-c', LIBVIRT_URI, 'create', xmlFile], 180_000));
      const bootMs = await waitForConsoleLine(guest, 180_000);
      say(`guest's first console line after ${(bootMs / 1000).toFixed(1)} s; measuring`);

      conn = await connect('xen:///');
      const ops = xenvirtOps(conn, guest);
      for (const op of Object.values(ops)) for (let i = 0; i < WARMUP; i++) await op(); // warm-up (JIT, caches)
      const ours: Record<Op, number[]> = { getinfo: [], list: [], listinfo: [], listthen: [], lookup: [] };
      const ref: ClientSamples = { domains: 0, getinfo: [], list: [], listinfo: [], lookup: [] };
      for (let r = 0; r < ROUNDS; r++) {
        const c = JSON.parse(await withOneRetry('libvirt C client', () => sh(client, [LIBVIRT_URI, guest, String(ITER)], 600_000))) as ClientSamples;
        ref.domains = c.domains;
        for (const k of ['getinfo', 'list', 'listinfo', 'lookup'] as const) ref[k].push(...c[k]);
        for (const k of Object.keys(ours) as Op[]) ours[k].push(...(await sampleMicros(ITER, ops[k])));
      }
      const ourCount = (await conn.listAllDomains()).length;
      const counts = `lists: xenvirt ${ourCount} domains, libvirt ${ref.domains}`;

      // Where xenvirt's API time goes: the same loops under V8's profiler (not timed).
      const profiles: string[] = [];
      for (const k of ['getinfo', 'listinfo', 'lookup'] as const) {
        const p = await profileInProcess(async () => {
          for (let i = 0; i < ITER * 5; i++) await ops[k]();
        });
        profiles.push(formatSummary(`xenvirt API ${k} ×${ITER * 5} (in-process profile)`, summarizeProfile(p)));
      }
      await conn.close();
      conn = undefined;

      say('timing processes');
      // The same environment for every row, without what makes node alone do more at start:
      // NODE_EXTRA_CA_CERTS (node parses that CA file on every start, ~0.8 s in the emulated
      // dom0, which virsh and xl never pay) and NODE_OPTIONS (the harness's preloads/flags).
      const env: NodeJS.ProcessEnv = { ...process.env, XENVIRT_DEFAULT_URI: '' };
      delete env.NODE_EXTRA_CA_CERTS;
      delete env.NODE_OPTIONS;
      const crashes = { count: 0 };
      const t = timeProcesses(
        [
          { label: 'xenvirt', argv: [process.execPath, resolve(root, 'bin/xenvirt.js'), '-c', 'xen:///', 'list', '--all'], env },
          { label: 'xenvirt-jitless', argv: [process.execPath, '--jitless', resolve(root, 'bin/xenvirt.js'), '-c', 'xen:///', 'list', '--all'], env },
          { label: 'virsh', argv: ['virsh', '-c', LIBVIRT_URI, 'list', '--all'], env },
          { label: 'xl', argv: ['xl', 'list'], env },
          // where a CLI process's time goes: loading the CLI alone, then a driver without Xen
          { label: 'help', argv: [process.execPath, resolve(root, 'bin/xenvirt.js'), 'help'], env },
          { label: 'testlist', argv: [process.execPath, resolve(root, 'bin/xenvirt.js'), '-c', 'test:///default', 'list', '--all'], env },
          { label: 'node', argv: [process.execPath, '-e', '0'], env },
        ],
        PROCESS_ROUNDS,
        300_000,
        crashes,
      );
      // One CLI process under --cpu-prof: what a `xenvirt list --all` spends beyond node's start.
      const profDir = join(work, 'cpu-prof');
      try {
        timeProcesses([{ label: 'prof', argv: [process.execPath, `--cpu-prof`, `--cpu-prof-dir=${profDir}`, resolve(root, 'bin/xenvirt.js'), '-c', 'xen:///', 'list', '--all'], env }], 1, 300_000);
        const f = readdirSync(profDir).find((n) => n.endsWith('.cpuprofile'));
        if (f) {
          const text = readFileSync(join(profDir, f), 'utf8');
          profiles.push(formatSummary('`xenvirt -c xen:/// list --all` process (--cpu-prof)', summarizeProfile(JSON.parse(text) as CpuProfile, 25)));
          // the whole profile too, for a closer look (Chrome DevTools, speedscope)
          try {
            writeFileSync(resolve(root, 'benchmarks/results/peers-cli.cpuprofile'), text);
          } catch {
            /* results dir not writable: the summary above is what we keep */
          }
        }
      } catch (e) {
        profiles.push(`CLI process profile failed: ${(e as Error).message}\n`);
      }
      const profileFile = resolve(root, 'benchmarks/results/peers-profile.txt');
      try {
        writeFileSync(profileFile, profiles.join('\n'));
        say(`wrote ${profileFile}`);
      } catch {
        say('could not write the profile summary; here it is:');
      }
      console.error(profiles.join('\n'));
      if (crashes.count) say(`${crashes.count} process(es) crashed once and were re-run (dom0 under emulation)`);

      const p = (k: string) => t.get(k)!;
      return [
        row('getInfo (one domain)', ours.getinfo, ref.getinfo, 'ratio ≤ 0.033 (≥ 30×)'),
        row('listAllDomains', ours.list, ref.list, undefined, counts),
        row('list with info: listAllDomains({ withInfo }) + getInfo each', ours.listinfo, ref.listinfo, 'ratio ≤ 0.1 (≥ 10×)', counts),
        row('listAllDomains + getInfo each (no withInfo)', ours.listthen, ref.listinfo, undefined, counts),
        row('lookupDomainByName', ours.lookup, ref.lookup),
        processRow('process: xenvirt -c xen:/// list --all', p('xenvirt'), 'virsh list --all', p('virsh'), 'ratio < 1'),
        processRow('process: xenvirt list --all (node --jitless)', p('xenvirt-jitless'), 'virsh list --all', p('virsh')),
        processRow('process: xenvirt -c xen:/// list --all', p('xenvirt'), 'xl list', p('xl')),
        processRow('process: xenvirt -c xen:/// list --all', p('xenvirt'), 'node -e 0', p('node')),
        processRow('process: node -e 0 (start-up floor)', p('node'), 'virsh list --all', p('virsh')),
        processRow('process: xenvirt help (CLI loaded, no connection)', p('help'), 'node -e 0', p('node')),
        processRow('process: xenvirt -c test:///default list --all', p('testlist'), 'node -e 0', p('node')),
      ];
    } finally {
      if (conn) await conn.close().catch(() => undefined);
      await sh('virsh', ['-q', '-c', LIBVIRT_URI, 'destroy', guest], 120_000).catch(() => undefined);
      await sh('bash', [libvirtScript, 'stop'], 60_000).catch(() => undefined);
    }
  },
};
export default peers;
