/** Loading this module plugs the proxy sub-driver into every later xen:/// connection. */
import { registerSubDriverFactory } from '../drivers/xen/factories.js';
import { proxySubDriverFactory } from './subdriver.js';

registerSubDriverFactory(proxySubDriverFactory);
