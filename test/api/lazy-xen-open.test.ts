/**
 * What a xen:/// open and a listing load (issue 15: `xenvirt -c xen:/// list --all` should
 * start like node). Same technique as lazy-drivers.test.ts (a fresh module graph per file,
 * every import of a watched module recorded through vi.doMock), in its own file because a
 * module loads once per graph: the test:/// and xend cases there load the converters first.
 *
 * The decision this checks: an open and a listing load no converter, no domain XML code,
 * no node:crypto and no node:child_process (nor net/http/tls). Listing still parses every
 * candidate config file, so the config readers (lib/convert/xl-config.ts, xm-config.ts)
 * load on the first scan that finds one; an empty directory loads none. defineXML,
 * dumpXML, autostart, capabilities and xl calls load what they need on first use.
 *
 * Xen cannot run here: the connection is the config-file sub-driver alone (privileged,
 * the live sub-drivers disabled), the hypervisor sub-driver runs over a simulated
 * hypervisor, and xl is test/xen-driver/fake-xl.sh.
 */
import { describe, it, expect, vi, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const loaded = new Set<string>();

const WATCHED_BUILTINS = ['node:net', 'node:http', 'node:tls', 'node:crypto', 'node:child_process'];
const WATCHED_DIRS = ['lib/convert', 'lib/domain', 'lib/remote', 'lib/drivers/xen/xend', 'lib/proxy'];
const WATCHED_FILES = ['lib/fs-atomic.ts'];

for (const b of WATCHED_BUILTINS) {
  vi.doMock(b, async (real) => {
    loaded.add(b);
    return real();
  });
}
for (const file of [...WATCHED_DIRS.flatMap((d) => readdirSync(resolve(root, d)).filter((n) => n.endsWith('.ts')).map((n) => `${d}/${n}`)), ...WATCHED_FILES]) {
  vi.doMock(resolve(root, file), async (real) => {
    loaded.add(file);
    return real();
  });
}

function takeLoaded(): string[] {
  const out = [...loaded].sort();
  loaded.clear();
  return out;
}

/** What was loaded beyond the registrations (a few lines each; xend's and the proxy's stat their socket path). */
const NOT_FOR_LISTING = (seen: string[]) => seen.filter((m) => !/\/register\.ts$|^lib\/drivers\/xen\/xend\/address\.ts$/.test(m));

const domainXML = (name: string) =>
  `<domain type='xen'><name>${name}</name><uuid>8f2c1b2e-5d6a-4c3b-9e1f-0a1b2c3d4e5f</uuid><memory unit='MiB'>256</memory><currentMemory unit='MiB'>256</currentMemory><vcpu>1</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel></os><devices/></domain>`;

let connect: typeof import('../../lib/connection.js').connect;
let dir: string;
const LIVE_OFF = ['hypervisor', 'xenstore', 'toolstack', 'xend', 'proxy'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenvirt-lazy-xen-'));
  ({ connect } = await import('../../lib/connection.js'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a xen:/// open loads only what listing needs', () => {
  it('opening and listing (an empty config dir) load no converter, XML code, crypto, child_process or socket module', async () => {
    takeLoaded();
    const c = await connect('xen:///', { xen: { privileged: true, configDir: dir, disable: LIVE_OFF } });
    expect(await c.listAllDomains({ inactive: true })).toEqual([]);
    expect(NOT_FOR_LISTING(takeLoaded())).toEqual([]);
    await c.close();
  });

  it('defineXML, dumpXML and autostart load the XML code, the xl writer and crypto on first use, and answer', async () => {
    const c = await connect('xen:///', { xen: { privileged: true, configDir: dir, disable: LIVE_OFF } });
    takeLoaded();
    const d = await c.defineXML(domainXML('lazy1'));
    expect(d.name).toBe('lazy1');
    expect(readFileSync(join(dir, 'lazy1'), 'utf8')).toMatch(/^name = "lazy1"$/m);
    expect(await d.getXMLDesc()).toMatch(/<name>lazy1<\/name>/);
    expect(takeLoaded()).toEqual(expect.arrayContaining(['lib/domain/index.ts', 'lib/convert/xl-config.ts', 'lib/fs-atomic.ts', 'node:crypto']));
    await d.setAutostart(true);
    expect(await d.getAutostart()).toBe(true);
    await c.close();
  });

  it('listing a directory with a config file loads the config readers (it must parse the file) and lists it', async () => {
    const c = await connect('xen:///', { xen: { privileged: true, configDir: dir, disable: LIVE_OFF } });
    expect((await c.listAllDomains({ inactive: true })).map((x) => x.name)).toEqual(['lazy1']);
    await c.close();
  });
});

describe('lazy paths of the other sub-drivers', () => {
  it('capabilities load the capabilities builder alone, not every converter', async () => {
    takeLoaded();
    const { HypervisorSubDriver } = await import('../../lib/drivers/xen/hypervisor-subdriver.js');
    // A simulated hypervisor: only version() is needed for the capabilities document.
    const simulatedHv = { version: () => ({ major: 4, minor: 17, extra: '.0', capabilities: 'xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_64' }) };
    const sub = new HypervisorSubDriver(simulatedHv as never);
    expect(takeLoaded()).toEqual([]);
    const caps = await sub.getCapabilities();
    expect(caps).toMatch(/<capabilities>/);
    expect(caps).toMatch(/<os_type>hvm<\/os_type>/);
    const seen = takeLoaded();
    expect(seen).toContain('lib/convert/capabilities.ts');
    expect(seen).not.toContain('lib/convert/index.ts');
    expect(seen).not.toContain('lib/convert/api.ts');
  });

  it('node:child_process loads on the first xl call, which still runs', async () => {
    const { runXl } = await import('../../lib/drivers/xen/xl-runner.js');
    takeLoaded();
    const log = join(dir, 'xl.log');
    process.env.FAKE_XL_LOG = log;
    try {
      const out = await runXl(resolve(root, 'test/xen-driver/fake-xl.sh'), ['info'], 60_000);
      expect(out.stdout).toMatch(/xen_minor\s+: 17/);
    } finally {
      delete process.env.FAKE_XL_LOG;
    }
    expect(takeLoaded()).toContain('node:child_process');
    expect(readFileSync(log, 'utf8')).toContain('arg=info');
  });
});
