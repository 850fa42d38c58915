/**
 * xenvirt-proxy on real Xen 4.17 (inside the harness's dom0): the daemon runs as root,
 * an unprivileged user (setpriv --reuid=nobody) opens xen:/// through it and can list
 * and read a running guest but not suspend it or define a domain; a root connection
 * never needs the proxy. xenvirt itself runs only in child processes (tsx), as 'nobody'
 * or as root, so this worker does not have to load the library.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync, chmodSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { createTestGuest, inDom0, notInDom0Reason, waitFor, xlList, xlVcpuList, type TestGuest } from '../helpers.js';

const here = inDom0();
if (!here) console.warn(`proxy.xen: skipped (${notInDom0Reason})`);

const repo = resolve(__dirname, '../../..');
// The bundled build loads in seconds under emulation; transforming lib/ with tsx takes
// minutes there. CI builds dist/ (npm test's pretest) before test:xen; tsx is the fallback.
const built = existsSync(join(repo, 'dist/index.js')) && existsSync(join(repo, 'dist/proxy-daemon.js'));
const libEntry = built ? join(repo, 'dist/index.js') : join(repo, 'lib/index.ts');
const SOCKET = '/run/xenvirt/proxy.sock'; // the default both sides use

/** What the unprivileged client reports (written by the script below). */
interface ClientReport {
  uid: number;
  opened?: boolean;
  openError?: { code: string; message: string };
  names?: string[];
  info?: { state: string; memory: number; maxMem: number; nrVirtCpu: number };
  id?: number;
  vcpus?: { number: number; state: string; cpuTime: number }[];
  vcpusError?: string;
  listedTimes?: number;
  xmlHasName?: boolean;
  version?: number;
  cpus?: number;
  suspend?: string;
  define?: string;
}

function clientScript(guestName: string): string {
  return `
import { connect } from ${JSON.stringify(libEntry)};
const out = { uid: process.getuid() };
try {
  let conn;
  try {
    conn = await connect('xen:///');
    out.opened = true;
  } catch (e) {
    out.openError = { code: e.code, message: e.message };
  }
  if (conn) {
    out.names = (await conn.listAllDomains()).map((d) => d.name);
    out.listedTimes = out.names.filter((n) => n === ${JSON.stringify(guestName)}).length;
    const g = await conn.lookupDomainByName(${JSON.stringify(guestName)});
    out.id = g.id;
    out.info = await g.getInfo();
    try { out.vcpus = await g.getVcpus(); } catch (e) { out.vcpusError = e.code + ': ' + e.message; }
    out.xmlHasName = (await g.getXMLDesc()).includes('<name>' + ${JSON.stringify(guestName)} + '</name>');
    out.version = await conn.getVersion();
    out.cpus = (await conn.nodeGetInfo()).cpus;
    try { await g.suspend(); out.suspend = 'done'; } catch (e) { out.suspend = e.code; }
    try {
      await conn.defineXML("<domain type='xen'><name>proxy-define</name><memory>131072</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>");
      out.define = 'done';
    } catch (e) { out.define = e.code; }
    await conn.close();
  }
} finally {
  process.stdout.write(JSON.stringify(out) + '\\n');
}
`;
}

/**
 * Run a client script once and return its JSON report. No retry: a client killed by a
 * signal (it loads the addon) is a failure to look at, not infrastructure.
 */
function runClient(script: string, asNobody: boolean): Promise<ClientReport> {
  return runClientOnce(script, asNobody);
}

function runClientOnce(script: string, asNobody: boolean): Promise<ClientReport> {
  const dir = mkdtempSync(join(tmpdir(), 'xenvirt-proxy-client-'));
  chmodSync(dir, 0o755);
  const file = join(dir, built ? 'client.mjs' : 'client.mts');
  writeFileSync(file, script, { mode: 0o644 });
  const node = built ? [process.execPath, file] : [process.execPath, '--import', 'tsx', file];
  const [cmd, ...args] = asNobody ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...node] : node;
  return new Promise((resolvePromise, reject) => {
    execFile(cmd!, args, { cwd: repo, timeout: 180_000, env: { ...process.env, HOME: asNobody ? '/nonexistent' : process.env.HOME } }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolvePromise(JSON.parse(line) as ClientReport);
      } catch {
        const how = err ? `exit ${String((err as { code?: unknown }).code)}, signal ${String((err as { signal?: unknown }).signal)}` : 'no report';
        reject(
          Object.assign(new Error(`client ${asNobody ? 'as nobody' : 'as root'} failed (${how}); stdout: ${stdout.trim()}; stderr: ${stderr.trim()}`), {
            signal: (err as { signal?: string } | null)?.signal ?? undefined,
          }),
        );
      }
    });
  });
}
const runAsNobody = (script: string) => runClient(script, true);

/** As root, with a proxy path where nothing listens: the names xen:/// lists. */
function rootScript(): string {
  return `
import { connect } from ${JSON.stringify(libEntry)};
const out = { uid: process.getuid() };
try {
  const conn = await connect('xen:///', { xen: { proxyPath: '/nonexistent/xenvirt-proxy.sock' } });
  out.opened = true;
  out.names = (await conn.listAllDomains()).map((d) => d.name);
  await conn.close();
} catch (e) {
  out.openError = { code: e.code, message: e.message };
} finally {
  process.stdout.write(JSON.stringify(out) + '\\n');
}
`;
}

describe.skipIf(!here)('xenvirt-proxy on real Xen', () => {
  let guest: TestGuest;
  let daemon: ChildProcess | undefined;
  let daemonLog = '';

  const startDaemon = async () => {
    const args = ['--socket', SOCKET, '--verbose'];
    daemon = spawn(
      process.execPath,
      built
        ? [join(repo, 'bin/xenvirt-proxy.js'), ...args]
        : ['--import', 'tsx', '-e', `import(${JSON.stringify(join(repo, 'lib/proxy/daemon.ts'))}).then((m) => m.main(process.argv.slice(1)))`, '--', ...args],
      { cwd: repo, stdio: ['ignore', 'inherit', 'pipe'] },
    );
    daemon.stderr!.on('data', (c) => (daemonLog += c));
    await waitFor('the proxy socket', () => existsSync(SOCKET) || (daemon!.exitCode !== null ? Promise.reject(new Error(`xenvirt-proxy exited: ${daemonLog}`)) : undefined), 240_000);
  };

  const stopDaemon = async () => {
    if (!daemon || daemon.exitCode !== null) return;
    const exited = new Promise((r) => daemon!.once('exit', r));
    daemon.kill('SIGTERM');
    await exited;
  };

  const userConfig = () => `/etc/xen/${guest.name}.cfg`;
  beforeAll(async () => {
    guest = await createTestGuest({ memoryMiB: 128, vcpus: 2 });
    // The guest's config where xl users keep it, readable by everyone, without a uuid
    // line: a non-root user must still see the guest running (from the proxy), not
    // "shut off" from this file.
    mkdirSync('/etc/xen', { recursive: true });
    writeFileSync(userConfig(), `name = "${guest.name}"\nmemory = 128\nvcpus = 2\nkernel = "${process.env.XQ_GUEST_KERNEL}"\n`, { mode: 0o644 });
    await guest.waitForTick(1);
    await startDaemon();
  });
  afterAll(async () => {
    await stopDaemon();
    await guest?.destroy();
    rmSync(userConfig(), { force: true });
  });

  it('an unprivileged user lists and reads a running guest through the proxy; suspend and define are denied', async () => {
    const r = await runAsNobody(clientScript(guest.name));
    expect(r.uid).toBe(65534);
    expect(r.openError).toBeUndefined();
    expect(r.opened).toBe(true);
    expect(r.names).toContain(guest.name);
    expect(r.names).toContain('Domain-0');
    const row = (await xlList()).find((x) => x.name === guest.name)!;
    expect(Math.floor(r.info!.memory / 1024)).toBe(row.memMiB);
    expect(r.info!.nrVirtCpu).toBe(row.vcpus);
    // Running, with its live id, although /etc/xen/<guest>.cfg is readable and asked too.
    expect(['running', 'blocked', 'nostate']).toContain(r.info!.state);
    expect(r.id).toBe(guest.domid);
    expect(r.listedTimes).toBe(1);
    // getVcpus is read-only: served by the daemon, matching xl vcpu-list.
    expect(r.vcpusError).toBeUndefined();
    const xlVcpus = await xlVcpuList(guest.name);
    expect(r.vcpus!.map((v) => v.number)).toEqual(xlVcpus.map((v) => v.vcpu));
    expect(r.vcpus!.every((v) => v.cpuTime >= 0)).toBe(true);
    expect(r.xmlHasName).toBe(true);
    expect(Math.floor(r.version! / 1_000_000)).toBe(4);
    expect(r.cpus).toBeGreaterThan(0);
    expect(r.suspend).toBe('VIR_ERR_OPERATION_DENIED');
    expect(r.define).toBe('VIR_ERR_OPERATION_DENIED');
    // Denied means nothing happened: the guest still runs and still ticks.
    expect((await xlList()).find((x) => x.name === guest.name)!.state).not.toContain('p');
    const t = guest.lastTick();
    await guest.waitForTick(t + 1, 30_000);
  });

  it('a root connection ignores the proxy (works with no proxy socket at all)', async () => {
    const r = await runClient(rootScript(), false);
    expect(r.uid).toBe(0);
    expect(r.openError).toBeUndefined();
    expect(r.names).toContain(guest.name);
  });

  it('without the daemon, a non-root open fails saying how to start it', async () => {
    await stopDaemon();
    expect(existsSync(SOCKET)).toBe(false);
    const r = await runAsNobody(clientScript(guest.name));
    expect(r.opened).toBeUndefined();
    expect(r.openError!.message).toMatch(/xenvirt-proxy/);
    expect(r.openError!.message).toMatch(/systemctl start xenvirt-proxy/);
  });
});
