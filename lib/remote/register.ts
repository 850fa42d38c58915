/**
 * The remote driver's registration. As libvirt's remote driver it takes every URI the local
 * drivers (registered before it) leave: `driver+transport://…`, remote hosts, and plain
 * schemes such as `qemu:///system` that only a daemon serves. The driver and its generated
 * protocol tables load on first use, so programs and CLI runs that never open a remote URI
 * do not pay for them.
 */
import { registerDriver } from '../registry.js';

registerDriver({
  name: 'remote',
  uriSchemes: ['*'],
  async open(uri, ctx) {
    const { openRemote } = await import('./driver.js');
    return openRemote(uri, ctx);
  },
});
