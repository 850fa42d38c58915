/**
 * Loading this module plugs the xend sub-driver into every later xen:/// connection.
 *
 * Only the registration is loaded here: the sub-driver (node:http, the s-expression and
 * XML converters) loads when xend's unix socket exists or a TCP address is configured.
 * Every xen:/// open asks xend, and on today's hosts (Xen ≥ 4.5) there is no xend: one
 * stat answers that (CLI start-up, issue 15).
 */
import { statSync } from 'node:fs';
import { registerSubDriverFactory } from '../factories.js';
import { parseXendAddress, xendSocketMissing } from './address.js';

registerSubDriverFactory({
  name: 'xend',
  async open(ctx) {
    const address = parseXendAddress(ctx.options.xendAddress);
    if (address.kind === 'unix' && !statSync(address.path, { throwIfNoEntry: false })) throw xendSocketMissing(address);
    return (await import('./index.js')).openXend(ctx);
  },
});
