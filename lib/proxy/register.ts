/**
 * Loading this module plugs the proxy sub-driver into every later xen:/// connection.
 * The sub-driver itself (client, wire protocol) loads at its first open, and node:net only
 * when a daemon's socket exists: most opens are root's, which never use the proxy (CLI
 * start-up, issue 15).
 */
import { registerSubDriverFactory } from '../drivers/xen/factories.js';

registerSubDriverFactory({
  name: 'proxy',
  open: async (ctx) => (await import('./subdriver.js')).openProxy(ctx),
});
