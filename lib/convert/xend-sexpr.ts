/** xend's domain S-expression <-> the domain model (reader and writer). */
export { domainFromSexpr, domainFromSexprNode } from './xend-sexpr-read.js';
export type { SexprOptions } from './xend-sexpr-read.js';
export { domainToSexpr } from './xend-sexpr-write.js';
