/**
 * Helpers for suites that run inside the harness's dom0 (see README.md): detect that we
 * are there, drive `xl`, create a tiny PV test guest and watch its console ticks.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * True inside the harness's dom0: Xen's control device and the guest kernel exist.
 * Also true while run.sh counts the tests each suite declares on the host
 * (`vitest list` with XENVIRT_XEN_COLLECT=1: collection runs no test or hook), so every
 * suite must guard with this function for its tests to be counted and required.
 */
export function inDom0(): boolean {
  if (process.env.XENVIRT_XEN_COLLECT === '1') return true;
  return existsSync('/dev/xen/privcmd') && !!process.env.XQ_GUEST_KERNEL && !!process.env.XQ_GUEST_INITRD;
}

/** One-line reason for describe.skipIf when the suite is not inside dom0. */
export const notInDom0Reason = 'not inside the Xen dom0 of test/xen/run.sh (use `npm run test:xen`)';

/** Run `xl ARGS…` and return its stdout; fails with xl's stderr in the message. */
export async function xl(args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await run('xl', args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: number | string; signal?: string };
    throw new Error(`xl ${args.join(' ')} failed (${err.signal ?? err.code}): ${err.stderr?.trim() ?? err.message}`);
  }
}

export interface XlListRow {
  name: string;
  id: number;
  memMiB: number;
  vcpus: number;
  /** xl's six state letters, e.g. 'r-----', '--p---' */
  state: string;
  timeS: number;
}

/** `xl list` parsed: the hypervisor's current view (tot_pages, online vcpus, flags). */
export async function xlList(): Promise<XlListRow[]> {
  const lines = (await xl(['list'])).trim().split('\n').slice(1);
  return lines.map((l) => {
    const f = l.trim().split(/\s+/);
    const n = f.length; // the name may not contain spaces in xl, but be safe: count from the end
    return {
      name: f.slice(0, n - 5).join(' '),
      id: Number(f[n - 5]),
      memMiB: Number(f[n - 4]),
      vcpus: Number(f[n - 3]),
      state: f[n - 2]!,
      timeS: Number(f[n - 1]),
    };
  });
}

/** `xl list -l` parsed (libxl's stored configuration per domain). */
export async function xlListLong(): Promise<Array<{ domid: number; config: any }>> {
  return JSON.parse(await xl(['list', '-l']));
}

/** `xl info` as key → value. */
export async function xlInfo(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const l of (await xl(['info'])).split('\n')) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
  }
  return out;
}

export interface VcpuListRow {
  name: string;
  id: number;
  vcpu: number;
  cpu: string;
  state: string;
  timeS: number;
  hard: string;
  soft: string;
}

/** `xl vcpu-list [domain]` parsed. */
export async function xlVcpuList(domain?: string | number): Promise<VcpuListRow[]> {
  const lines = (await xl(['vcpu-list', ...(domain === undefined ? [] : [String(domain)])])).trim().split('\n').slice(1);
  return lines.map((l) => {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+(\S+)\s*\/\s*(\S+)/.exec(l.trim());
    if (!m) throw new Error(`unexpected xl vcpu-list line: ${l}`);
    return { name: m[1]!, id: Number(m[2]), vcpu: Number(m[3]), cpu: m[4]!, state: m[5]!, timeS: Number(m[6]), hard: m[7]!, soft: m[8]! };
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface TestGuest {
  name: string;
  domid: number;
  /** xenconsoled's log of the guest's console. */
  consoleLog: string;
  /** Highest "XQ-DOMU tick N" seen so far (0 before the first). */
  lastTick(): number;
  /** Wait until the tick counter reaches at least `n`. */
  waitForTick(n: number, timeoutMs?: number): Promise<number>;
  /** `xl destroy` if still there (safe to call twice). */
  destroy(): Promise<void>;
}

let seq = 0;

/**
 * Create a tiny PV guest from the harness's kernel and busybox initramfs. It prints
 * "XQ-DOMU tick N" on its console once a second. 96 MiB is Xen+Linux's minimum here;
 * default 128.
 */
export async function createTestGuest(opts: { name?: string; memoryMiB?: number; vcpus?: number } = {}): Promise<TestGuest> {
  const name = opts.name ?? `xv-test-${process.pid}-${++seq}`;
  const cfg = `/tmp/${name}.cfg`;
  writeFileSync(
    cfg,
    [
      `name = "${name}"`,
      `type = "pv"`,
      `kernel = "${process.env.XQ_GUEST_KERNEL}"`,
      `ramdisk = "${process.env.XQ_GUEST_INITRD}"`,
      `extra = "console=hvc0 xq.role=domu quiet"`,
      `memory = ${opts.memoryMiB ?? 128}`,
      `vcpus = ${opts.vcpus ?? 1}`,
      `on_poweroff = "destroy"`,
      `on_crash = "destroy"`,
      '',
    ].join('\n'),
  );
  await xl(['create', cfg], 120_000);
  const domid = Number((await xl(['domid', name])).trim());
  const consoleLog = `/var/log/xen/console/guest-${name}.log`;
  const lastTick = () => {
    if (!existsSync(consoleLog)) return 0;
    const all = [...readFileSync(consoleLog, 'utf8').matchAll(/XQ-DOMU tick (\d+)/g)];
    return all.length ? Number(all[all.length - 1]![1]) : 0;
  };
  let gone = false;
  return {
    name,
    domid,
    consoleLog,
    lastTick,
    waitForTick: (n, timeoutMs = 90_000) => waitFor(`${name} console tick ${n}`, () => (lastTick() >= n ? lastTick() : undefined), timeoutMs),
    async destroy() {
      if (gone) return;
      gone = true;
      const ids = (await xlList()).map((r) => r.id);
      if (ids.includes(domid)) await xl(['destroy', String(domid)]);
    },
  };
}

/**
 * Domain XML for the harness's tiny PV guest (the kernel and initramfs createTestGuest()
 * boots), with a pty console, for suites that define it through a libvirt-style API.
 */
export function pvGuestXML(name: string, uuid?: string): string {
  return `<domain type='xen'>
  <name>${name}</name>
${uuid === undefined ? '' : `  <uuid>${uuid}</uuid>\n`}  <memory unit='MiB'>128</memory>
  <currentMemory unit='MiB'>128</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type>linux</type>
    <kernel>${process.env.XQ_GUEST_KERNEL}</kernel>
    <initrd>${process.env.XQ_GUEST_INITRD}</initrd>
    <cmdline>console=hvc0 xq.role=domu quiet</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <console type='pty'><target type='xen' port='0'/></console>
  </devices>
</domain>`;
}
