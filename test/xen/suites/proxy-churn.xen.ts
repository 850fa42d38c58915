/**
 * xenvirt-proxy under churn on real Xen (inside the harness's dom0): each round creates
 * a guest with xl and, while it boots, starts the proxy daemon and opens connections
 * through it (list, lookup, info, vCPUs), then destroys the guest and stops the daemon.
 * The issue this guards: node processes started while a PV guest boots crashed under
 * an emulated CPU, and the harness hid it by retrying. Here nothing is retried: a
 * daemon that dies, a connection that fails or a wrong answer fails the suite.
 *
 * The connections are opened in this process as a non-privileged client would
 * (privileged: false, every other sub-driver disabled), so only the proxy answers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { connect } from '../../../lib/index.js';
import { inDom0, notInDom0Reason, waitFor, xl, xlList } from '../helpers.js';

const here = inDom0();
if (!here) console.warn(`proxy-churn.xen: skipped (${notInDom0Reason})`);

const repo = resolve(__dirname, '../../..');
const built = existsSync(join(repo, 'dist/proxy-daemon.js'));
const ROUNDS = Number(process.env.XENVIRT_CHURN_ROUNDS ?? 20);
const CONNECTIONS_PER_ROUND = 3;

interface Daemon {
  proc: ChildProcess;
  socket: string;
  log(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDaemon(socket: string): Daemon {
  const args = ['--socket', socket];
  const proc = spawn(
    process.execPath,
    built
      ? [join(repo, 'bin/xenvirt-proxy.js'), ...args]
      : ['--import', 'tsx', '-e', `import(${JSON.stringify(join(repo, 'lib/proxy/daemon.ts'))}).then((m) => m.main(process.argv.slice(1)))`, '--', ...args],
    { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.on('data', (c) => (log += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  return { proc, socket, log: () => log, exited };
}

function guestConfig(dir: string, name: string): string {
  const cfg = join(dir, `${name}.cfg`);
  writeFileSync(
    cfg,
    [
      `name = "${name}"`,
      'type = "pv"',
      `kernel = "${process.env.XQ_GUEST_KERNEL}"`,
      `ramdisk = "${process.env.XQ_GUEST_INITRD}"`,
      'extra = "console=hvc0 xq.role=domu quiet"',
      'memory = 96',
      'vcpus = 1',
      'on_poweroff = "destroy"',
      'on_crash = "destroy"',
      '',
    ].join('\n'),
  );
  return cfg;
}

describe.skipIf(!here)('xenvirt-proxy while guests are created and destroyed', () => {
  const work = mkdtempSync(join(tmpdir(), 'xenvirt-churn-'));
  const leftovers: string[] = [];
  let current: Daemon | undefined;

  afterAll(async () => {
    if (current && current.proc.exitCode === null) current.proc.kill('SIGKILL');
    for (const n of leftovers) if ((await xlList()).some((r) => r.name === n)) await xl(['destroy', n]).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  });

  it(`${ROUNDS} rounds: daemon started during a guest's boot, ${CONNECTIONS_PER_ROUND} connections each; no crash, no retry, right answers`, async () => {
    const timings: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const t0 = Date.now();
      const name = `xv-churn-${process.pid}-${round}`;
      leftovers.push(name);
      await xl(['create', guestConfig(work, name)], 120_000);
      const domid = Number((await xl(['domid', name])).trim());
      // The guest is booting now: start the daemon (a fresh node process) right away.
      const socket = join(work, `proxy-${round}.sock`);
      const d = startDaemon(socket);
      current = d;
      await waitFor(`round ${round}: proxy socket`, () => {
        if (d.proc.exitCode !== null || d.proc.signalCode !== null) throw new Error(`round ${round}: xenvirt-proxy died (${d.proc.exitCode ?? d.proc.signalCode}): ${d.log()}`);
        return existsSync(socket) || undefined;
      }, 120_000, 100);
      for (let i = 0; i < CONNECTIONS_PER_ROUND; i++) {
        const c = await connect('xen:///', { xen: { privileged: false, proxyPath: socket, disable: ['hypervisor', 'xenstore', 'configfiles', 'toolstack', 'xend'] } });
        try {
          const names = (await c.listAllDomains()).map((x) => x.name);
          expect(names, `round ${round}`).toContain('Domain-0');
          expect(names.filter((n) => n === name), `round ${round}`).toHaveLength(1);
          const g = await c.lookupDomainByName(name);
          expect(g.id, `round ${round}`).toBe(domid);
          const info = await g.getInfo();
          expect(info.state, `round ${round}`).not.toBe('shutoff');
          expect(info.nrVirtCpu).toBe(1);
          expect((await g.getVcpus()).map((v) => v.number)).toEqual([0]);
        } finally {
          await c.close();
        }
      }
      await xl(['destroy', name], 60_000);
      d.proc.kill('SIGTERM');
      const end = await d.exited;
      expect(end, `round ${round}: the daemon's exit (${d.log()})`).toEqual({ code: 0, signal: null });
      expect(existsSync(socket), `round ${round}: socket removed`).toBe(false);
      current = undefined;
      timings.push(Date.now() - t0);
    }
    console.log(`proxy-churn: ${ROUNDS} rounds, ms per round: ${timings.join(' ')}`);
    expect((await xlList()).filter((r) => r.name.startsWith(`xv-churn-${process.pid}-`))).toEqual([]);
  }, ROUNDS * 90_000);
});
