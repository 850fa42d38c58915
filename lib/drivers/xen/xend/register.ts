/** Loading this module plugs the xend sub-driver into every later xen:/// connection. */
import { registerSubDriverFactory } from '../factories.js';
import { xendSubDriverFactory } from './index.js';

registerSubDriverFactory(xendSubDriverFactory);
