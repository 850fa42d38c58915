/**
 * Built-in drivers load on first use of their URI scheme (lib/registry.ts): a process that
 * only opens test:/// never loads the Xen driver (and with it XenStore, the converters,
 * xend and the proxy). This file imports the connection module, not lib/index.ts, as the
 * CLI does; vitest runs each file in a fresh module graph, so nothing is loaded before.
 */
import { describe, it, expect } from 'vitest';
import { connect } from '../../lib/connection.js';
import { driversForScheme, registerDriver, registeredDrivers } from '../../lib/registry.js';
import type { DriverRegistration } from '../../lib/driver.js';

const names = () => registeredDrivers().map((r) => r.name);

describe('lazy built-in drivers', () => {
  it('loads nothing until a URI needs it, then only the driver for that scheme (and the remote registration, tried last)', async () => {
    expect(names()).toEqual([]);
    const c = await connect('test:///default');
    expect((await c.listAllDomains()).map((d) => d.name)).toEqual(['test']);
    await c.close();
    // 'remote' is a registration of a few lines; its driver and protocol tables load on its first open
    expect(names()).toEqual(['Test', 'remote']);
  });

  it('loads the Xen driver when a xen:/// URI is opened, whether or not this host runs Xen', async () => {
    await connect('xen:///').then(
      (c) => c.close(),
      () => undefined, // no Xen here: the open fails, but the driver had to load to say so
    );
    expect(names()).toContain('Xen');
  });

  it('asks the built-in driver before one a user registered earlier for the same scheme', async () => {
    const mine: DriverRegistration = { name: 'user-test', uriSchemes: ['test'], open: async () => 'declined' };
    registerDriver(mine);
    const c = await connect('test:///default');
    await c.close();
    expect(driversForScheme('test').map((r) => r.name)).toEqual(['Test', 'user-test', 'remote']);
  });

  it('answers an unknown scheme with VIR_ERR_NO_CONNECT, loading nothing more', async () => {
    const before = names();
    await expect(connect('nosuch:///x')).rejects.toMatchObject({ code: 'VIR_ERR_NO_CONNECT' });
    expect(names()).toEqual(before);
  });
});
