/**
 * Built-in drivers load on first use of their URI scheme (lib/registry.ts): a process that
 * only opens test:/// never loads the Xen driver (and with it XenStore, the converters,
 * xend and the proxy). This file imports the connection module, not lib/index.ts, as the
 * CLI does; vitest runs each file in a fresh module graph, so nothing is loaded before.
 *
 * What a command loads is its start-up time (issue 15), so the modules that only some
 * commands need are watched: every import of them below is recorded (vi.doMock with a
 * factory that passes the real module through). The library is imported only after the
 * watches are set, so an import anywhere in the graph is seen.
 */
import { describe, it, expect, vi, beforeAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DriverRegistration } from '../../lib/driver.js';

const root = resolve(__dirname, '../..');
const loaded = new Set<string>();

/** Node built-ins a listing must not need: sockets and HTTP (xend, proxy, remote), TLS, crypto. */
const WATCHED_BUILTINS = ['node:net', 'node:http', 'node:tls', 'node:crypto'];
/** Library modules by folder: the converters, the remote driver, the xend and proxy sub-drivers. */
const WATCHED_DIRS = ['lib/convert', 'lib/remote', 'lib/remote/protocol', 'lib/remote/transport', 'lib/drivers/xen/xend', 'lib/proxy'];

for (const b of WATCHED_BUILTINS) {
  vi.doMock(b, async (real) => {
    loaded.add(b);
    return real();
  });
}
for (const dir of WATCHED_DIRS) {
  for (const f of readdirSync(resolve(root, dir)).filter((n) => n.endsWith('.ts'))) {
    vi.doMock(resolve(root, dir, f), async (real) => {
      loaded.add(`${dir}/${f}`);
      return real();
    });
  }
}

/** What was loaded since the last call. */
function takeLoaded(): string[] {
  const out = [...loaded].sort();
  loaded.clear();
  return out;
}

let connect: typeof import('../../lib/connection.js').connect;
let registry: typeof import('../../lib/registry.js');
const names = () => registry.registeredDrivers().map((r) => r.name);

beforeAll(async () => {
  ({ connect } = await import('../../lib/connection.js'));
  registry = await import('../../lib/registry.js');
});

describe('lazy built-in drivers', () => {
  it('loads nothing until a URI needs it, then only the driver for that scheme (and the remote registration, tried last)', async () => {
    expect(names()).toEqual([]);
    expect(takeLoaded()).toEqual([]); // the connection module alone needs none of them
    const c = await connect('test:///default');
    expect((await c.listAllDomains()).map((d) => d.name)).toEqual(['test']);
    await c.close();
    // 'remote' is a registration of a few lines; its driver and protocol tables load on its first open
    expect(names()).toEqual(['Test', 'remote']);
    // Listing test:/// domains needs no socket, HTTP, crypto, converter or RPC table (CLI start-up, issue 15).
    expect(takeLoaded()).toEqual(['lib/remote/register.ts']);
  });

  it('loads the Xen driver on a xen:/// open, but node:net, node:http and the xend sub-driver only when the xend or proxy socket exists', async () => {
    takeLoaded();
    // A user's open (the proxy is for non-root users only) with neither socket present.
    const missing = { xendAddress: resolve(root, 'no-xend-here.sock'), proxyPath: resolve(root, 'no-proxy-here.sock'), privileged: false };
    await connect('xen:///', { xen: missing }).then(
      (c) => c.close(),
      () => undefined, // no Xen here: the open fails, but the driver had to load to say so
    );
    expect(names()).toContain('Xen');
    const seen = takeLoaded();
    // the registrations loaded and answered from a stat of the socket path
    expect(seen).toEqual(expect.arrayContaining(['lib/drivers/xen/xend/register.ts', 'lib/proxy/register.ts']));
    for (const m of ['node:net', 'node:http', 'node:tls', 'lib/drivers/xen/xend/index.ts', 'lib/drivers/xen/xend/http.ts']) {
      expect(seen).not.toContain(m);
    }
    // Something at both paths (a plain file: no daemon answers): now both sub-drivers load and try to connect.
    const present = { xendAddress: resolve(root, 'package.json'), proxyPath: resolve(root, 'package.json'), privileged: false };
    await connect('xen:///', { xen: present }).then(
      (c) => c.close(),
      () => undefined,
    );
    expect(takeLoaded()).toEqual(expect.arrayContaining(['node:net', 'node:http', 'lib/drivers/xen/xend/index.ts', 'lib/drivers/xen/xend/http.ts']));
  });

  it('asks the built-in driver before one a user registered earlier for the same scheme', async () => {
    const mine: DriverRegistration = { name: 'user-test', uriSchemes: ['test'], open: async () => 'declined' };
    registry.registerDriver(mine);
    const c = await connect('test:///default');
    await c.close();
    expect(registry.driversForScheme('test').map((r) => r.name)).toEqual(['Test', 'user-test', 'remote']);
  });

  it('answers an unknown scheme with VIR_ERR_NO_CONNECT, loading nothing more', async () => {
    const before = names();
    await expect(connect('nosuch:///x')).rejects.toMatchObject({ code: 'VIR_ERR_NO_CONNECT' });
    expect(names()).toEqual(before);
  });
});
